"""The environment each function is deployed with: its spec's defaults, written out.

Both platforms set the same values (deploy/knative/config/<name>.env, the `environment:`
of deploy/openfaas); writing the defaults out makes every knob visible where it is
overridden. A declared setting (config.Setting) is written with its doc as a comment;
a secret one never is: it needs a Secret mounted and its `_FILE` variable set, in an
overlay of your own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from catalogue import notify, site
from shared.acting.spec import Spec


@dataclass(frozen=True)
class Variable:
    """One environment variable; `value` None: left unset (written as a comment)."""

    name: str
    value: str | None
    doc: str = ""


def text(value: object) -> str | None:
    """A default as the environment spells it (the Setting's parser reads it back)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, tuple | list | frozenset) and all(isinstance(v, str) for v in value):
        return ",".join(sorted(value) if isinstance(value, frozenset) else value)
    raise TypeError(f"no environment spelling for a default of type {type(value).__name__}")


def matching(spec: Spec[Any]) -> list[Variable]:
    """Which alerts it answers: the rules, minimum priority and sources of its spec."""
    if spec.rules:
        rules = Variable("RIPOSTE_RULES", json.dumps(list(spec.rules), separators=(",", ":")))
    else:
        rules = Variable(
            "RIPOSTE_RULES",
            None,
            f"{spec.name} acts on no rule by default and refuses to start without one: set "
            "RIPOSTE_RULES (a JSON list) in an overlay, with one Trigger per rule.",
        )
    found = [rules, Variable("RIPOSTE_MIN_PRIORITY", spec.min_priority.label)]
    if spec.sources:
        found.append(Variable("RIPOSTE_SOURCES", ",".join(spec.sources)))
    return found


def declared(spec: Spec[Any]) -> list[Variable]:
    """Its own settings (spec.settings), at their defaults, each with its doc."""
    return [
        Variable(setting.name, text(setting.default), setting.doc)
        for setting in spec.settings
        if not setting.secret
    ]


def secret_names(spec: Spec[Any]) -> list[str]:
    """Its secret settings, which no generated file sets."""
    return [setting.name for setting in spec.settings if setting.secret]


def deadline() -> Variable:
    return Variable("RIPOSTE_DEADLINE_SECONDS", str(site.DEADLINE_SECONDS))


def knative(spec: Spec[Any]) -> list[Variable]:
    """Everything config/<name>.env sets."""
    return [
        *matching(spec),
        Variable("RIPOSTE_DRY_RUN", "false"),
        deadline(),
        Variable(
            "RIPOSTE_BUDGET",
            site.BUDGET,
            'The blast-radius budget, cluster-wide (README "The blast-radius budget").',
        ),
        Variable("RIPOSTE_COOLDOWN_SECONDS", str(site.COOLDOWN_SECONDS)),
        *declared(spec),
    ]


INTERACT_URL_DOC = (
    'interact\'s public address: review and undo links point there (README "Approval"); the same '
    "value as interact's"
)


def knative_notify() -> list[Variable]:
    return [
        Variable("RIPOSTE_MIN_PRIORITY", notify.MIN_PRIORITY.label),
        Variable("RIPOSTE_DRY_RUN", "false"),
        deadline(),
        Variable("RIPOSTE_INTERACT_URL", notify.INTERACT_URL, INTERACT_URL_DOC),
    ]


def openfaas(spec: Spec[Any]) -> dict[str, str]:
    """stack.yml's `environment:` of an acting function (unset variables left out)."""
    found = [
        *matching(spec),
        deadline(),
        *declared(spec),
        Variable("RIPOSTE_NAMESPACE", site.NAMESPACE),
        Variable("RIPOSTE_PROTECTED_NAMESPACES", ",".join(site.OPENFAAS_PROTECTED)),
        Variable("RIPOSTE_TOKEN_FILE", f"{site.OPENFAAS_SECRETS}/riposte-token"),
        Variable("RIPOSTE_RESULT_URL", f"{site.GATEWAY}/function/{notify.NAME}"),
    ]
    return {v.name: v.value for v in found if v.value is not None}


def openfaas_notify() -> dict[str, str]:
    return {
        "RIPOSTE_MIN_PRIORITY": notify.MIN_PRIORITY.label,
        "RIPOSTE_DEADLINE_SECONDS": str(site.DEADLINE_SECONDS),
        "RIPOSTE_NAMESPACE": site.NAMESPACE,
        "RIPOSTE_TOKEN_FILE": f"{site.OPENFAAS_SECRETS}/riposte-token",
        **{variable: f"{site.OPENFAAS_SECRETS}/riposte-{key}" for variable, key in notify.sink_files()},
        "RIPOSTE_LINK_SECRET_FILE": f"{site.OPENFAAS_SECRETS}/{notify.LINK_SECRET}",
        "RIPOSTE_INTERACT_URL": notify.INTERACT_URL,
    }
