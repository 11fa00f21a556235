"""Which alerts a function acts on, and which targets it must leave alone. Pure: no I/O.

Matching decides "is this alert for me" (no: 204). Guarding decides "may I touch this
target" (no: 200 `refused`, the alert was understood and deliberately not acted on).
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.alert import Alert
from shared.config import Settings

OPT_OUT_LABEL = "riposte.io/ignore"
FALCO_EVENT_TYPE = "falco.rule.output.v1"  # Falcosidekick's cloudevents output
# The source of riposte's own results sent through Falcosidekick (shared/notify/
# falcosidekick.py): Falcosidekick forwards them to every output, riposte's broker
# included, so they arrive looking like alerts. Never acted on, never an alert message.
RIPOSTE_SOURCE = "riposte"


def matches(settings: Settings, alert: Alert, event_type: str | None = None) -> bool:
    """The alert names one of this function's rules (any rule when it has none, as
    notify), from one of its sources (any when none), at or above its minimum priority,
    and, when it came as a CloudEvent, that event is a Falco alert. Falcosidekick's test
    event and riposte's own results coming back through Falcosidekick never match."""
    if event_type is not None and event_type != FALCO_EVENT_TYPE:
        return False
    if alert.is_test or alert.source == RIPOSTE_SOURCE:
        return False
    if settings.sources and alert.source not in settings.sources:
        return False
    if settings.rules and alert.rule not in settings.rules:
        return False
    return alert.priority >= settings.min_priority


def protected_namespace(settings: Settings, namespace: str) -> str | None:
    """Why `namespace` must not be touched, or None when it may be."""
    if namespace == settings.namespace:
        return f"namespace {namespace} is riposte's own"
    if namespace in settings.protected_namespaces:
        return f"namespace {namespace} is protected (RIPOSTE_PROTECTED_NAMESPACES)"
    return None


def opted_out(labels: Mapping[str, str] | None) -> bool:
    """The object (or its namespace) carries `riposte.io/ignore: "true"`."""
    return (labels or {}).get(OPT_OUT_LABEL, "").strip().lower() == "true"
