"""A `riposte.action.v1` result event in, a frozen `ActionResult` out (notify's input). Pure.

The data is what shared/outcome.py `event()` builds: the alert's uuid, identity, rule,
priority, source, hostname, time and (already redacted) output; the function, action,
target, outcome, reason, dry_run and duration_ms; then the action's own details (say
`copy` and `credential_keys` for delete-configmap). Every type is checked, as for an
alert: a result that passes through a broker is still input from the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from shared import errors, redact
from shared.intake import Delivery
from shared.outcome import EVENT_TYPE, Result
from shared.priority import Priority
from shared.targets import Target

__all__ = ["EVENT_TYPE", "ActionResult", "parse"]

# The keys outcome.event() always writes; anything else is the action's own detail.
CORE_KEYS = frozenset(
    {
        "uuid", "identity", "rule", "priority", "source", "hostname", "time", "output",
        "function", "action", "target", "outcome", "reason", "dry_run", "duration_ms",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ActionResult:
    """What one riposte function decided about one alert, validated."""

    event_id: str
    function: str
    action: str
    target: Target
    outcome: Result
    reason: str
    dry_run: bool
    duration_ms: int | None
    identity: str
    uuid: str | None
    rule: str
    priority: Priority
    source: str | None
    hostname: str | None
    time: str | None
    output: str
    details: Mapping[str, object] = field(default_factory=dict, repr=False)

    @property
    def alert_reference(self) -> str:
        """How the alert is named to humans: its uuid, else riposte's identity for it."""
        return self.uuid or self.identity


def parse(delivery: Delivery) -> ActionResult:
    """Validate a result event's data; NotAResult says which field is wrong."""
    body = delivery.body
    target = body.get("target")
    if not isinstance(target, dict):
        raise errors.NotAResult(f"'target' must be a JSON object, found {_kind(target)}")
    outcome_text = _text(body, "outcome")
    try:
        outcome = Result(outcome_text)
    except ValueError:
        known = ", ".join(str(r) for r in Result)
        raise errors.NotAResult(f"'outcome' must be one of {known}, found {outcome_text[:32]!r}") from None
    priority_text = _text(body, "priority")
    priority = Priority.parse(priority_text)
    if priority is None:
        raise errors.NotAResult(f"'priority' must be a Falco priority, found {priority_text[:32]!r}")
    dry_run = body.get("dry_run")
    if not isinstance(dry_run, bool):
        raise errors.NotAResult(f"'dry_run' must be true or false, found {_kind(dry_run)}")
    duration_ms = body.get("duration_ms")
    # bool is an int in Python, never in the wire format outcome.event() writes.
    if duration_ms is not None and (isinstance(duration_ms, bool) or not isinstance(duration_ms, int)):
        raise errors.NotAResult(f"'duration_ms' must be an integer, found {_kind(duration_ms)}")
    return ActionResult(
        event_id=delivery.attributes["id"],  # intake guarantees a non-empty string
        function=_text(body, "function"),
        action=_text(body, "action"),
        target=Target(
            kind=_text(target, "kind", "target.kind"),
            namespace=_text(target, "namespace", "target.namespace"),
            name=_text(target, "name", "target.name"),
        ),
        outcome=outcome,
        reason=_text(body, "reason", allow_empty=True),
        dry_run=dry_run,
        duration_ms=duration_ms,
        identity=_text(body, "identity"),
        uuid=_optional(body, "uuid"),
        rule=_text(body, "rule"),
        priority=priority,
        source=_optional(body, "source"),
        hostname=_optional(body, "hostname"),
        time=_optional(body, "time"),
        # Redacted by the sender already; redacting again costs nothing and is idempotent.
        output=redact.output(_optional(body, "output") or "", rule=_text(body, "rule")),
        details=MappingProxyType({k: v for k, v in body.items() if k not in CORE_KEYS}),
    )


def _text(
    body: Mapping[str, object], key: str, label: str | None = None, *, allow_empty: bool = False
) -> str:
    value = body.get(key)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise errors.NotAResult(f"'{label or key}' must be a non-empty string, found {_kind(value)}")
    return value


def _optional(body: Mapping[str, object], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise errors.NotAResult(f"'{key}' must be a string, found {_kind(value)}")
    return value


def _kind(value: object) -> str:
    """A JSON type name for error messages (never the value itself)."""
    if value is None:
        return "null (or nothing)"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )
