"""Is the live object the one the alert is about? Pure: no I/O (DESIGN.md §12).

Many k8s_audit rules fire whether or not the audited request succeeded: a create that
failed after its body was read, a denied patch. A failed create of a name that already
exists names a legitimate object, and acting on it would punish its owner. So, for
k8s_audit alerts:
- `ka.response.code` must be present and 2xx (101 for exec/attach/portforward: the
  stream started, the audit event is written at ResponseStarted); else `refused`;
- for the rules a spec names in `creates`, `ka.resp.uid` (the uid of the object the
  request made, appended by deploy/falco) must be present and equal the live object's
  uid: the object was replaced since otherwise;
- for other rules, `ka.resp.uid` is compared when the alert carries it.
For syscall alerts about a pod, `k8s.pod.uid` (appended by deploy/falco), when present,
must equal the live pod's uid: a pod re-created under the same name is not the one Falco
saw. Missing fields are never guessed: the refusal names them, and deploy/falco's
append_output adds them (README "Alerts from older Falco values").
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from shared.alert import Alert
from shared.targets import Target

STREAMS = frozenset({"exec", "attach", "portforward"})
APPEND = "add it to Falco's append_output (deploy/falco)"


def request_failed(alert: Alert, *, creates: Collection[str]) -> str | None:
    """Why the audited request cannot be what made the target, before any read; or None."""
    if alert.source != "k8s_audit":
        return None
    raw = alert.value("ka.response.code")
    if raw is None:
        return (
            "the alert has no ka.response.code: riposte cannot tell whether the audited request "
            f"succeeded ({APPEND})"
        )
    try:
        code = int(str(raw))
    except ValueError:
        return f"ka.response.code is not a status code: {str(raw)[:20]!r}"
    started = code == 101 and alert.value("ka.target.subresource") in STREAMS
    if not (200 <= code < 300 or started):
        return f"the audited request failed ({code}): it created or changed nothing"
    if alert.rule in creates and alert.value("ka.resp.uid") is None:
        return (
            f"the alert has no ka.resp.uid: riposte cannot tell which object the request created ({APPEND})"
        )
    return None


def not_the_object(alert: Alert, target: Target, live: dict[str, Any]) -> str | None:
    """Why the live object is not the one the alert is about; or None."""
    uid = live["metadata"]["uid"]
    made = alert.value("ka.resp.uid") if alert.source == "k8s_audit" else None
    if made is not None and made != uid:
        return (
            f"the audited request made {target.kind} uid {str(made)[:64]}; the live one (uid {uid}) "
            "is another object of that name"
        )
    seen = alert.value("k8s.pod.uid") if alert.source != "k8s_audit" and target.kind == "Pod" else None
    if seen is not None and seen != uid:
        return f"the pod Falco saw (uid {str(seen)[:64]}) is gone; uid {uid} is another pod of that name"
    return None


def host_event(alert: Alert) -> bool:
    """A syscall alert about the host itself (`container.id: host`), not about a container."""
    return alert.source != "k8s_audit" and alert.value("container.id") == "host"


def not_host_event(alert: Alert) -> bool:
    """`Spec.applies` of the functions that act on the pod a syscall alert names: host
    events are not theirs (204)."""
    return not host_event(alert)


def container_seen(alert: Alert, pod: dict[str, Any]) -> str | None:
    """For syscall alerts: why the live pod is not where Falco saw the process, or None.

    The pod must be the one Falco saw (`k8s.pod.uid`, compared by not_the_object), and
    `container.id` (12 hex characters) must start one of its containers' ids, after the
    `<runtime>://` prefix, in `containerStatuses`, `initContainerStatuses` or
    `ephemeralContainerStatuses`: else the alert is stale (the container restarted, or the
    alert is forged). Missing fields are refused, named, never guessed.
    """
    if alert.source == "k8s_audit":
        return None
    if alert.value("k8s.pod.uid") is None:
        return f"the alert has no k8s.pod.uid: riposte cannot tell which pod Falco saw ({APPEND})"
    container = alert.value("container.id")
    if not isinstance(container, str) or not container:
        return "the alert has no container.id: riposte cannot tell which container Falco saw"
    status = pod.get("status") or {}
    ids = [
        str(entry.get("containerID") or "").split("://", 1)[-1]
        for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses")
        for entry in status.get(key) or []
    ]
    if not any(found and found.startswith(container) for found in ids):
        return f"no container of the live pod has id {container[:64]}: the alert is stale (restarted?)"
    return None
