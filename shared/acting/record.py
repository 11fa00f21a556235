"""The audit trail in the cluster: one core/v1 Event per action, on the object acted on.

The Event's name is derived from (function, alert identity), so a redelivered alert can
never record a second Event (the create answers 409, meaning "already recorded"), and
its existence tells the function it acted on this alert before (shared/acting/live.py).

Cluster-scoped objects (ClusterRoleBinding, ClusterRole, Node) get their Event in the
namespace `default` with an empty `involvedObject.namespace`: the apiserver rejects an
Event in any other namespace for them ("does not match event.namespace"), and
`kubectl describe` of such objects searches all namespaces.
"""

from __future__ import annotations

import datetime

from shared import names
from shared.action import AlertSummary, Outcome
from shared.config import Settings
from shared.deadline import Deadline
from shared.kube import errors, resources
from shared.kube.client import Kube
from shared.targets import Target

CLUSTER_EVENTS_NAMESPACE = "default"
MESSAGE_MAX = 1000


def event_namespace(target: Target) -> str:
    """Where the Event about `target` lives."""
    return target.namespace or CLUSTER_EVENTS_NAMESPACE


def event(
    kube: Kube,
    deadline: Deadline,
    settings: Settings,
    *,
    alert: AlertSummary,
    target: Target,
    uid: str,
    outcome: Outcome,
    reason: str,
) -> str | None:
    """Create the Event on the target; returns a warning when it could not be recorded.

    An action already taken is never answered with 503 because its Event failed: the
    redelivery would report `already-done` and the record would still be missing. The
    JSON log line carries the warning instead.
    """
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    function = settings.function
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": names.event_name(function, alert.identity),
            "namespace": event_namespace(target),
            "labels": {"app.kubernetes.io/managed-by": "riposte", "riposte.io/function": function},
        },
        "involvedObject": {
            "apiVersion": resources.of(target.kind).api_version,
            "kind": target.kind,
            "namespace": target.namespace or "",
            "name": target.name,
            "uid": uid,
        },
        "reason": f"Riposte{function.title().replace('-', '')}",
        "message": (
            f"{function} {outcome}: {reason}. "
            f"Falco rule {alert.rule!r} ({alert.priority.label}), alert {alert.identity}"
        )[:MESSAGE_MAX],
        "type": "Warning",
        "source": {"component": f"riposte/{function}"},
        "reportingComponent": f"riposte/{function}",
        "reportingInstance": settings.namespace,
        "action": function,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    try:
        kube.create(deadline, body)
    except errors.AlreadyExists:
        return None
    except Exception as exc:  # noqa: BLE001 - the action stands; say so in the log line
        return f"Event not recorded: {type(exc).__name__}: {str(exc)[:200]}"
    return None
