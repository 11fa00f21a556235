"""config/<name>.env: the settings each function's generated ConfigMap holds (envFrom).

kustomize reads these as env files: `NAME=value` lines, `#` comments. Each declared
setting is written at its default, its doc above it; an unset one as a comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalogue import interact, notify, settings, site, specs, undo
from catalogue.yamltext import comment, generated
from shared.acting import settings as acting_settings
from shared.acting.spec import Spec
from shared.interact import settings as interact_settings


def env_file(header: list[str], variables: Sequence[settings.Variable]) -> str:
    lines = list(header)
    for variable in variables:
        lines.extend(comment(variable.doc) if variable.doc else [])
        if variable.value is None:
            lines.append(f"# {variable.name}=")
        else:
            lines.append(f"{variable.name}={variable.value}")
    return "\n".join(lines) + "\n"


def acting(spec: Spec[Any]) -> str:
    secret = [
        f"{name} is a secret: mount it from a Secret and set {name}_FILE in an overlay of your own."
        for name in settings.secret_names(spec)
    ]
    header = [
        generated(specs.source(spec.name)),
        "#",
        *comment(
            f"""
            {spec.name}'s settings (README "Configuration"), read once when it starts: a
            bad value stops it from starting. The rules are those of
            triggers/{spec.name}.yaml, rendered from the same spec: a rule listed here
            without a Trigger would never arrive, a Trigger without the rule here would
            deliver alerts the function ignores. Change a value in an overlay of your own
            (deploy/README.md), not here. {" ".join(secret)}
            """
        ),
    ]
    return env_file(header, settings.knative(spec))


def for_notify() -> str:
    header = [
        generated(notify.SOURCE, "that"),
        "#",
        *comment(
            f"""
            notify's settings. No RIPOSTE_RULES: notify reports any rule at or above the
            minimum priority, matching the per-priority Triggers of triggers/notify.yaml
            ({notify.MIN_PRIORITY.label} and up).
            """
        ),
    ]
    return env_file(header, settings.knative_notify())


def for_undo() -> str:
    header = [
        generated(undo.SOURCE, "catalogue/undo.py"),
        "#",
        *comment(
            """
            undo's settings. RIPOSTE_APPROVERS: who may ask for an undo (Slack user ids and
            `email:<address>` entries; set it in your overlay). Its sweep's results go to
            notify (RIPOSTE_RESULT_URL); the results of a human's Undo are its replies.
            """
        ),
    ]
    return env_file(
        header,
        [
            settings.Variable("RIPOSTE_DRY_RUN", "false"),
            settings.deadline(),
            settings.Variable("RIPOSTE_BUDGET", site.BUDGET),
            settings.Variable("RIPOSTE_COOLDOWN_SECONDS", str(site.COOLDOWN_SECONDS)),
            settings.Variable("RIPOSTE_RESULT_URL", undo.RESULT_URL),
            settings.Variable("RIPOSTE_APPROVERS", None, "who may ask for an undo (set it in your overlay)"),
        ],
    )


def for_interact() -> str:
    header = [
        generated(interact.SOURCE, "catalogue/interact.py"),
        "#",
        *comment(
            """
            interact's settings (README "Approval"). Set in your overlay: RIPOSTE_APPROVERS
            (Slack member ids, `email:<address>` entries for SSO), RIPOSTE_INTERACT_URL
            (its public address: review links point there, and only POSTs from that origin
            decide; notify needs the same value), RIPOSTE_SLACK_TEAM_ID. Approvals go to
            K_SINK, set by the SinkBinding in services/interact.yaml. The acting functions
            need the same RIPOSTE_APPROVERS (they re-check who approved), and
            RIPOSTE_LINK_APPROVAL=anyone-with-link too if you set it here.
            """
        ),
    ]
    s, a = interact_settings, acting_settings
    return env_file(
        header,
        [
            settings.deadline(),
            settings.Variable(s.INTERACT_URL.name, interact.PUBLIC_URL, s.INTERACT_URL.doc),
            settings.Variable(a.APPROVERS.name, None, a.APPROVERS.doc),
            settings.Variable(s.SLACK_TEAM_ID.name, None, s.SLACK_TEAM_ID.doc),
            settings.Variable(a.APPROVAL_TTL.name, str(a.APPROVAL_TTL.default), a.APPROVAL_TTL.doc),
            settings.Variable(s.UNDO_TTL.name, str(s.UNDO_TTL.default), s.UNDO_TTL.doc),
            settings.Variable(a.LINK_APPROVAL.name, "sso-only", a.LINK_APPROVAL.doc),
            settings.Variable(s.SSO_PROXY.name, "false", s.SSO_PROXY.doc),
            settings.Variable(s.SSO_EMAIL_HEADER.name, s.SSO_EMAIL_HEADER.default, s.SSO_EMAIL_HEADER.doc),
        ],
    )
