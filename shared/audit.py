"""The audit trail: a core/v1 Event per action, and one JSON log line per request.

The Event's name is derived from (function, alert identity), so a redelivered alert can
never record a second Event: the create answers 409 and that means "already recorded".
The log line never holds a token, a URL or a ConfigMap value: it is built from an
allow-list of fields, and alert text passes through `redact` first.
"""

from __future__ import annotations

import datetime
import json
import sys
import threading
from typing import Any

from shared import kube, names
from shared.config import Settings
from shared.deadline import Deadline
from shared.outcome import Outcome

_write_lock = threading.Lock()


def record(
    client: kube.Kube, deadline: Deadline, settings: Settings, outcome: Outcome, *, uid: str
) -> str | None:
    """Create the Event on the target; returns a warning when it could not be recorded.

    An action already taken is never answered with 503 because its Event failed: the
    redelivery would report `already-done` and the record would still be missing. The
    JSON log line carries the warning instead.
    """
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    target = outcome.target
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": names.event_name(settings.function, outcome.alert.identity),
            "namespace": target.namespace,
            "labels": {"app.kubernetes.io/managed-by": "riposte", "riposte.io/function": settings.function},
        },
        "involvedObject": {
            "apiVersion": "v1",
            "kind": target.kind,
            "namespace": target.namespace,
            "name": target.name,
            "uid": uid,
        },
        "reason": f"Riposte{outcome.action.title().replace('-', '')}",
        "message": _message(outcome)[:1000],
        "type": "Warning",
        "source": {"component": f"riposte/{settings.function}"},
        "reportingComponent": f"riposte/{settings.function}",
        "reportingInstance": settings.namespace,
        "action": outcome.action,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    try:
        client.create_event(deadline, namespace=target.namespace, body=body)
    except kube.AlreadyExists:
        return None
    except (kube.KubeError, Exception) as exc:  # noqa: BLE001 - the action stands; say so
        return f"Event not recorded: {type(exc).__name__}: {str(exc)[:200]}"
    return None


def log(entry: dict[str, Any]) -> None:
    """One JSON line on stdout (Knative and OpenFaaS collect stdout)."""
    line = json.dumps(entry, separators=(",", ":"), default=str)
    with _write_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _message(outcome: Outcome) -> str:
    alert = outcome.alert
    return (
        f"{outcome.action} {outcome.result}: {outcome.reason}. "
        f"Falco rule {alert.rule!r} ({alert.priority.label}), alert {alert.identity}"
    )
