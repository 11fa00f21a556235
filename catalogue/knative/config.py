"""config/<name>.env: the settings each function's generated ConfigMap holds (envFrom).

kustomize reads these as env files: `NAME=value` lines, `#` comments. Each declared
setting is written at its default, its doc above it; an unset one as a comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalogue import notify, settings, site, specs, undo
from catalogue.yamltext import comment, generated
from shared.acting.spec import Spec


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
