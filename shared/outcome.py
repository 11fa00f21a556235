"""What a function decided and did, as the `riposte.action.v1` CloudEvent (DESIGN.md §6).

The same event is the HTTP reply (binary mode: Knative's broker routes a CloudEvent reply
to notify) and, when RIPOSTE_RESULT_URL is set, POSTed there for deployments without a
broker. With a sender token configured the event carries it as `authtoken`, so notify,
which checks the same token, accepts it.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from shared import redact, webhook
from shared.alert import Alert
from shared.config import Settings
from shared.deadline import Deadline
from shared.targets import Target

EVENT_TYPE = "riposte.action.v1"


class Result(enum.StrEnum):
    """The `outcome` of one request that reached a decision."""

    ACTED = "acted"
    ALREADY_DONE = "already-done"
    DRY_RUN = "dry-run"
    PARTIAL = "partial"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """One decision on one alert's target, with what explains it."""

    alert: Alert
    action: str
    target: Target
    result: Result
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Builds one request's Outcome: `decide(Result.REFUSED, "why", **details)`."""

    alert: Alert
    action: str
    target: Target

    def __call__(self, result: Result, reason: str, **details: Any) -> Outcome:
        return Outcome(self.alert, self.action, self.target, result, reason, details)


def event(settings: Settings, outcome: Outcome, duration_ms: int) -> CloudEvent:
    """The `riposte.action.v1` CloudEvent for `outcome`.

    Its id is derived from (function, alert identity, outcome): a redelivery that reaches
    the same decision yields the same id, so consumers can de-duplicate.
    """
    alert = outcome.alert
    digest = hashlib.sha256(f"{settings.function}\0{alert.identity}\0{outcome.result}".encode()).hexdigest()
    attributes = {
        "type": EVENT_TYPE,
        "source": f"riposte/{settings.function}",
        "subject": outcome.target.subject,
        "id": digest[:32],
        "outcome": str(outcome.result),
    }
    if settings.token is not None:
        attributes["authtoken"] = settings.token
    data = {
        **redact.alert_summary(alert),
        "function": settings.function,
        "action": outcome.action,
        "target": {
            "kind": outcome.target.kind,
            "namespace": outcome.target.namespace,
            "name": outcome.target.name,
        },
        "outcome": str(outcome.result),
        "reason": outcome.reason,
        "dry_run": settings.dry_run,
        "duration_ms": duration_ms,
        **outcome.details,
    }
    return CloudEvent(attributes, data)


def binary(ce: CloudEvent) -> tuple[dict[str, str], bytes]:
    """HTTP headers and body of `ce` in binary content mode."""
    headers, body = to_binary(ce)
    headers["content-type"] = "application/json"
    return headers, body


def publish(settings: Settings, ce: CloudEvent, deadline: Deadline) -> str | None:
    """POST the result to RIPOSTE_RESULT_URL (no broker); 503 if it stays down.

    Returns a warning for the log when the sink refused it for good: a permanent 4xx
    (say, notify refusing the token) will not heal by redelivery, and the reply event
    still carries the result.
    """
    if settings.result_url is None:
        return None
    headers, body = binary(ce)
    try:
        webhook.post("RIPOSTE_RESULT_URL", settings.result_url, deadline, body=body, headers=headers)
    except webhook.SinkRejected as exc:
        return str(exc)
    return None
