"""The `riposte.action.v1` contract: what an acting function decided and did, in one module
for the producer (the acting runner's reply and result events) and the consumer (notify).

The CloudEvent (DESIGN.md §6, §11):
- attributes: `type: riposte.action.v1`, `source: riposte/<function>`, `subject:
  <namespace>/<kind>/<name>` (`<kind>/<name>` when cluster-scoped), `id` derived from
  (function, alert identity, outcome) so consumers can de-duplicate, extension `outcome`,
  `dataschema` = DATASCHEMA (an absolute URI, as CloudEvents 1.0 requires), and
  `authtoken` when a sender token is configured (notify checks the same token);
- data: the alert as it may be shown anywhere (redacted), then function, action, target,
  outcome, reason, dry_run, duration_ms, then the action's own details (`copy`,
  `credential_keys`, `still_allowing`, …). schemas/riposte.action.v1.json is the JSON
  Schema of the data; the tests validate every reply against it, and `parse` accepts what
  it allows and refuses the rest (a result that passed through a broker is still input
  from the network).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from shared import errors, redact
from shared.alert import Alert
from shared.intake import Delivery
from shared.priority import Priority
from shared.targets import Target

EVENT_TYPE = "riposte.action.v1"
DATASCHEMA = "urn:riposte:schema:riposte.action.v1"  # schemas/riposte.action.v1.json


class Outcome(enum.StrEnum):
    """How one decision on one alert ended."""

    ACTED = "acted"
    ALREADY_DONE = "already-done"
    DRY_RUN = "dry-run"
    PARTIAL = "partial"
    REFUSED = "refused"
    FAILED = "failed"
    PENDING_APPROVAL = "pending-approval"  # verified; waits for a human (RIPOSTE_APPROVAL=required)


@dataclass(frozen=True)
class AlertSummary:
    """The alert as it may be shown anywhere (replies, messages): no credential in it."""

    identity: str
    uuid: str | None
    rule: str
    priority: Priority
    source: str | None
    hostname: str | None
    time: str | None
    output: str

    @classmethod
    def of(cls, alert: Alert) -> AlertSummary:
        return cls(
            identity=alert.identity,
            uuid=alert.uuid,
            rule=alert.rule,
            priority=alert.priority,
            source=alert.source,
            hostname=alert.hostname,
            time=alert.time,
            output=redact.output(alert.output, rule=alert.rule),
        )

    @property
    def reference(self) -> str:
        """How the alert is named to humans: its uuid, else riposte's identity for it."""
        return self.uuid or self.identity


@dataclass(frozen=True)
class ActionResult:
    """One function's decision on one alert's target, and how it ended."""

    function: str
    action: str
    target: Target
    outcome: Outcome
    reason: str
    alert: AlertSummary
    dry_run: bool
    duration_ms: int | None = None
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    received_id: str | None = None  # the CloudEvent id it arrived with (consumer side)

    @property
    def id(self) -> str:
        """The event id: derived from (function, alert identity, outcome), so a redelivery
        reaching the same decision yields the same id; or the id it arrived with."""
        if self.received_id is not None:
            return self.received_id
        digest = hashlib.sha256(f"{self.function}\0{self.alert.identity}\0{self.outcome}".encode())
        return digest.hexdigest()[:32]

    def finished(self, duration_ms: int) -> ActionResult:
        return replace(self, duration_ms=duration_ms)


# The keys the data always holds; anything else is the action's own detail.
CORE_KEYS = frozenset(
    {
        "uuid", "identity", "rule", "priority", "source", "hostname", "time", "output",
        "function", "action", "target", "outcome", "reason", "dry_run", "duration_ms",
    }
)  # fmt: skip


def alert_json(alert: AlertSummary) -> dict[str, Any]:
    """The alert part of the data (and of notify's generic webhook JSON)."""
    return {
        "uuid": alert.uuid,
        "identity": alert.identity,
        "rule": alert.rule,
        "priority": alert.priority.label,
        "source": alert.source,
        "hostname": alert.hostname,
        "time": alert.time,
        "output": alert.output,
    }


def data(result: ActionResult) -> dict[str, Any]:
    """The event's data, as schemas/riposte.action.v1.json describes it."""
    target = result.target
    return {
        **alert_json(result.alert),
        "function": result.function,
        "action": result.action,
        "target": {"kind": target.kind, "namespace": target.namespace, "name": target.name},
        "outcome": str(result.outcome),
        "reason": result.reason,
        "dry_run": result.dry_run,
        "duration_ms": result.duration_ms,
        **{key: value for key, value in result.details.items() if key not in CORE_KEYS},
    }


def event(result: ActionResult, *, token: str | None) -> CloudEvent:
    """The `riposte.action.v1` CloudEvent of `result`."""
    attributes = {
        "type": EVENT_TYPE,
        "source": f"riposte/{result.function}",
        "subject": result.target.subject,
        "id": result.id,
        "dataschema": DATASCHEMA,
        "outcome": str(result.outcome),
    }
    if token is not None:
        attributes["authtoken"] = token
    return CloudEvent(attributes, data(result))


def binary(ce: CloudEvent) -> tuple[dict[str, str], bytes]:
    """HTTP headers and body of `ce` in binary content mode."""
    headers, body = to_binary(ce)
    headers["content-type"] = "application/json"
    return headers, body


def parse(delivery: Delivery) -> ActionResult:
    """Validate a result event's data; NotAResult says which field is wrong."""
    body = delivery.body
    target = body.get("target")
    if not isinstance(target, dict):
        raise errors.NotAResult(f"'target' must be a JSON object, found {_kind(target)}")
    outcome_text = _text(body, "outcome")
    try:
        outcome = Outcome(outcome_text)
    except ValueError:
        known = ", ".join(str(o) for o in Outcome)
        raise errors.NotAResult(f"'outcome' must be one of {known}, found {outcome_text[:32]!r}") from None
    priority_text = _text(body, "priority")
    priority = Priority.parse(priority_text)
    if priority is None:
        raise errors.NotAResult(f"'priority' must be a Falco priority, found {priority_text[:32]!r}")
    dry_run = body.get("dry_run")
    if not isinstance(dry_run, bool):
        raise errors.NotAResult(f"'dry_run' must be true or false, found {_kind(dry_run)}")
    duration_ms = body.get("duration_ms")
    # bool is an int in Python, never in the wire format data() writes.
    if duration_ms is not None and (isinstance(duration_ms, bool) or not isinstance(duration_ms, int)):
        raise errors.NotAResult(f"'duration_ms' must be an integer, found {_kind(duration_ms)}")
    rule = _text(body, "rule")
    return ActionResult(
        function=_text(body, "function"),
        action=_text(body, "action"),
        target=Target(
            kind=_text(target, "kind", "target.kind"),
            namespace=_optional(target, "namespace", "target.namespace"),
            name=_text(target, "name", "target.name"),
        ),
        outcome=outcome,
        reason=_text(body, "reason", allow_empty=True),
        alert=AlertSummary(
            identity=_text(body, "identity"),
            uuid=_optional(body, "uuid"),
            rule=rule,
            priority=priority,
            source=_optional(body, "source"),
            hostname=_optional(body, "hostname"),
            time=_optional(body, "time"),
            # Redacted by the sender already; redacting again costs nothing and is idempotent.
            output=redact.output(_optional(body, "output") or "", rule=rule),
        ),
        dry_run=dry_run,
        duration_ms=duration_ms,
        details=MappingProxyType({k: v for k, v in body.items() if k not in CORE_KEYS}),
        received_id=delivery.attributes["id"],  # intake guarantees a non-empty string
    )


def _text(
    body: Mapping[str, object], key: str, label: str | None = None, *, allow_empty: bool = False
) -> str:
    value = body.get(key)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise errors.NotAResult(f"'{label or key}' must be a non-empty string, found {_kind(value)}")
    return value


def _optional(body: Mapping[str, object], key: str, label: str | None = None) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise errors.NotAResult(f"'{label or key}' must be a string, found {_kind(value)}")
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
