"""Evidence of a pod an alert is about, kept before anyone decides (DESIGN.md §12).

One Secret per pod uid in riposte's namespace, `riposte-evidence-<pod uid>`, labelled
`riposte.io/evidence: "true"`, holding `evidence.json.gz`:

    {"schema": "riposte.evidence.v1", "captured_at", "captured_by",
     "alert":   the first alert, redacted (shared/redact.py),
     "pod":     the pod as read, manifest and status (managedFields left out),
     "owners":  its owner chain, direct owner first, top owner last (shared/acting/owners.py),
     "events":  the Events whose involvedObject.uid is the pod's,
     "logs":    per container (init, app, ephemeral) the current instance and, when its
                restartCount > 0, the previous one: the last RIPOSTE_EVIDENCE_LOG_LINES
                lines, at most `limit_bytes` (tailLines + limitBytes), or why unavailable,
     "truncated": every cut riposte made, in words (empty: nothing was cut)}

The annotation `riposte.io/sha256` is the sha256 of the uncompressed JSON, so a copy taken
off the cluster can be checked. The Secret stays under 900 KiB (the API's limit is 1 MiB):
when the document does not fit, the logs are cut from their oldest end first, then the
oldest Events, each cut listed in `truncated`; a kubelet's own limitBytes cut is marked
on its log. Logs that cannot be read (no node: the apiserver answers 204 empty; a
container not started; the kubelet refusing) are recorded as unavailable, not an error.

All evidence Secrets together are capped by RIPOSTE_EVIDENCE_MAX_BYTES: a process in a
container that can make Falco fire at will must not be able to fill etcd. The sizes are
read from the `riposte.io/evidence-bytes` annotations (a metadata-only list: the data
is never read to count it); an evidence Secret without one counts as the largest size.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared import config, redact
from shared.acting import copies
from shared.acting.spec import Context, Failed, Grant, Refused, Scope
from shared.alert import Alert
from shared.config import Settings
from shared.deadline import Deadline
from shared.kube import errors
from shared.kube.client import JSONObject, Kube
from shared.targets import Target

PREFIX = "riposte-evidence-"
KEY = "evidence.json.gz"
SECRET_TYPE = "riposte.io/evidence"
LABEL = "riposte.io/evidence"
SHA256 = "riposte.io/sha256"
SIZE = "riposte.io/evidence-bytes"
SCHEMA = "riposte.evidence.v1"
SECRET_MAX = 900 * 1024  # the Secret's data; the API refuses more than 1 MiB
DATA_MAX = SECRET_MAX - 16 * 1024  # room for the Secret's own metadata and annotations
LOG_BYTES = 640 * 1024  # every log of one pod together, before compression (limitBytes shares)
LOG_BYTES_MIN = 4 * 1024
MIB = 1024 * 1024


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}, found {value}")
        return value

    return parse


LOG_LINES = config.Setting(
    "RIPOSTE_EVIDENCE_LOG_LINES",
    _count(1, 100_000),
    500,
    "capture-evidence and terminate-pod: the last lines kept of each container's log (tailLines)",
)
MAX_BYTES = config.Setting(
    "RIPOSTE_EVIDENCE_MAX_BYTES",
    _count(MIB, 64 * 1024 * MIB),
    256 * MIB,
    "capture-evidence and terminate-pod: all evidence Secrets together stay under this many bytes; "
    'over it, a capture is refused ("evidence store full")',
)
SETTINGS = (LOG_LINES, MAX_BYTES)
# What keeping evidence needs, for every spec that keeps it (capture-evidence,
# terminate-pod); reading the pod itself is each spec's own grant.
GRANTS = (
    Grant("", ("pods/log",), ("get",), "its containers' recent logs (tailLines, limitBytes)"),
    Grant("", ("events",), ("list",), "the Events about the pod (involvedObject.uid)"),
    Grant("", ("replicationcontrollers",), ("get",), "its owner chain"),
    Grant("apps", ("replicasets", "deployments", "statefulsets", "daemonsets"), ("get",), "its owner chain"),
    Grant("batch", ("jobs", "cronjobs"), ("get",), "its owner chain"),
    Grant(
        "",
        ("secrets",),
        ("create", "get", "list"),
        "keep the evidence; find it again; size the evidence store",
        Scope.OWN,
    ),
)


def secret_name(pod_uid: str) -> str:
    return f"{PREFIX}{pod_uid}"


def where(settings: Settings, pod_uid: str) -> str:
    """`<namespace>/<name>` of the evidence of the pod of `pod_uid`."""
    return f"{settings.namespace}/{secret_name(pod_uid)}"


# -- reads before deciding (context follows) --------------------------------------------


def existing(context: Context, pod: JSONObject) -> JSONObject | None:
    """The evidence Secret of this pod (its uid), or None."""
    name = secret_name(pod["metadata"]["uid"])
    return context.kube.find(context.deadline, "Secret", name=name, namespace=context.settings.namespace)


def used(context: Context, pod: JSONObject) -> int:
    """Bytes all evidence Secrets hold, by their size annotations (metadata only)."""
    return store_used(context.kube, context.deadline, context.settings)


def store_used(kube: Kube, deadline: Deadline, settings: Settings) -> int:
    items = kube.metadata(deadline, "Secret", namespace=settings.namespace, label_selector=f"{LABEL}=true")
    total = 0
    for item in items:
        raw = ((item.get("metadata") or {}).get("annotations") or {}).get(SIZE, "")
        total += int(raw) if raw.isdigit() else SECRET_MAX  # unreadable: count it as the largest
    return total


def kept_for(secret: JSONObject | None, pod_uid: str) -> bool:
    """`secret` is riposte's evidence of the pod of `pod_uid`."""
    if secret is None:
        return False
    annotations = secret["metadata"].get("annotations") or {}
    return annotations.get(copies.ANNOTATION_UID) == pod_uid


def find(kube: Kube, deadline: Deadline, settings: Settings, target: Target) -> str | None:
    """`<namespace>/<name>` of evidence of a pod of that namespace and name, or None."""
    selector = (
        f"{LABEL}=true,{copies.LABEL_NAMESPACE}={target.namespace},"
        f"{copies.LABEL_NAME}={copies.name_hash(target.name)}"
    )
    items = kube.metadata(deadline, "Secret", namespace=settings.namespace, label_selector=selector)
    return f"{settings.namespace}/{items[0]['metadata']['name']}" if items else None


# -- the capture ------------------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """One log to read: a container's current or previous instance."""

    container: str
    previous: bool


@dataclass
class Kept:
    """Where the evidence is, and what it holds."""

    secret: str  # <namespace>/<name>
    created: bool  # False: it was there already (a concurrent capture, terminate-pod reusing it)
    size: int = 0
    logs: int = 0
    unavailable: int = 0
    events: int = 0
    truncated: list[str] = field(default_factory=list)
    alert: str | None = None  # a reused capture: the identity of the alert that made it
    kept_by: str | None = None  # a reused capture: the function that made it

    def same_alert(self, alert: Alert, function: str) -> bool:
        """A reused capture made by `function` for this very alert: a concurrent delivery."""
        return not self.created and self.alert == alert.identity and self.kept_by == function

    def summary(self) -> str:
        if not self.created:
            return f"evidence already kept in {self.secret}"
        parts = [f"{self.logs} logs", f"{self.events} events"]
        if self.unavailable:
            parts.append(f"{self.unavailable} logs unavailable")
        cut = "; truncated: " + "; ".join(self.truncated) if self.truncated else ""
        return f"evidence kept in {self.secret} ({', '.join(parts)}, {self.size} bytes){cut}"

    def details(self) -> dict[str, Any]:
        return {"evidence": self.secret, "truncated": list(self.truncated)}


def capture(context: Context, pod: JSONObject, owners: list[dict[str, Any]]) -> Kept:
    """Keep the evidence of `pod` (as read) once; an existing capture of its uid is reused.

    Refused (act-time) when the evidence store is full; Failed when a Secret of that name
    holds another pod's evidence."""
    kube, deadline, settings = context.kube, context.deadline, context.settings
    uid = pod["metadata"]["uid"]
    found = existing(context, pod)
    if found is not None:
        return _reused(found, settings, uid)
    lines = LOG_LINES.of(settings)
    streams, unavailable = plan_logs(pod)
    limit = max(LOG_BYTES_MIN, LOG_BYTES // max(1, len(streams)))
    reads = [lambda s=s: _log(kube, deadline, pod, s, lines, limit) for s in streams]
    events, *logs = kube.concurrently(lambda: _events(kube, deadline, pod), *reads)
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "captured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "captured_by": settings.function,
        "alert": alert_record(context.alert),
        "pod": _without_managed_fields(pod),
        "owners": owners,
        "events": events or [],
        "logs": [*(log for log in logs if log is not None), *unavailable],
        "truncated": [],
    }
    raw, data = fit(document)
    size = len(data)
    limit_total = MAX_BYTES.of(settings)
    in_use = store_used(kube, deadline, settings)
    if in_use + size > limit_total:
        raise Refused(
            f"evidence store full: {in_use} bytes kept, {size} more would pass RIPOSTE_EVIDENCE_MAX_BYTES "
            f"({limit_total}); nothing kept"
        )
    body = secret(settings, pod, context.alert, raw=raw, data=data)
    try:
        kube.create(deadline, body)
    except errors.AlreadyExists:  # a concurrent capture of the same pod won
        return _reused(
            kube.get(deadline, "Secret", namespace=settings.namespace, name=secret_name(uid)), settings, uid
        )
    return Kept(
        where(settings, uid),
        created=True,
        size=size,
        logs=sum(1 for log in document["logs"] if log.get("available")),
        unavailable=sum(1 for log in document["logs"] if not log.get("available")),
        events=len(document["events"]),
        truncated=[
            *(
                f"log of {log['container']} ({log['instance']}): {str(log['truncated']).split(':')[0]}"
                for log in document["logs"]
                if log.get("truncated")
            ),
            *document["truncated"],
        ],
    )


def _reused(found: JSONObject, settings: Settings, uid: str) -> Kept:
    if not kept_for(found, uid):
        raise Failed(f"{where(settings, uid)} exists and is not riposte's evidence of pod uid {uid}")
    annotations = found["metadata"].get("annotations") or {}
    return Kept(
        where(settings, uid),
        created=False,
        alert=annotations.get("riposte.io/alert-identity"),
        kept_by=annotations.get("riposte.io/kept-by"),
    )


def alert_record(alert: Alert) -> dict[str, Any]:
    """The alert as kept: credential-carrying fields redacted."""
    return {
        "uuid": alert.uuid,
        "identity": alert.identity,
        "rule": alert.rule,
        "priority": alert.priority.label,
        "source": alert.source,
        "hostname": alert.hostname,
        "time": alert.time,
        "tags": list(alert.tags),
        "output": redact.output(alert.output, rule=alert.rule),
        "output_fields": redact.fields(alert.fields),
    }


CONTAINER_KINDS = (
    ("initContainers", "initContainerStatuses"),
    ("containers", "containerStatuses"),
    ("ephemeralContainers", "ephemeralContainerStatuses"),
)


def plan_logs(pod: JSONObject) -> tuple[list[Stream], list[dict[str, Any]]]:
    """The logs worth asking the kubelet for, and those known unavailable without asking.

    No node: no kubelet holds any log (the apiserver would answer 204, empty). A container
    with no status, or waiting with no instance before (restartCount 0), has not started.
    """
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    streams: list[Stream] = []
    unavailable: list[dict[str, Any]] = []
    for spec_key, status_key in CONTAINER_KINDS:
        statuses = {s.get("name"): s for s in status.get(status_key) or [] if isinstance(s, dict)}
        for container in spec.get(spec_key) or []:
            name = str(container.get("name"))
            state = statuses.get(name)
            restarts = int((state or {}).get("restartCount") or 0)
            if not spec.get("nodeName"):
                unavailable.append(_unavailable(name, False, "the pod is not scheduled on a node: no logs"))
            elif state is None or ("waiting" in (state.get("state") or {}) and restarts == 0):
                unavailable.append(_unavailable(name, False, "the container has not started: no logs yet"))
            else:
                streams.append(Stream(name, previous=False))
            if restarts > 0 and spec.get("nodeName"):
                streams.append(Stream(name, previous=True))
    return streams, unavailable


def _unavailable(container: str, previous: bool, reason: str) -> dict[str, Any]:
    instance = "previous" if previous else "current"
    return {"container": container, "instance": instance, "available": False, "reason": reason}


def _log(
    kube: Kube, deadline: Deadline, pod: JSONObject, stream: Stream, lines: int, limit: int
) -> dict[str, Any]:
    meta = pod["metadata"]
    try:
        data = kube.log(
            deadline,
            namespace=meta["namespace"],
            name=meta["name"],
            container=stream.container,
            tail_lines=lines,
            limit_bytes=limit,
            previous=stream.previous,
        )
    except (errors.NotFound, errors.Rejected) as exc:  # the kubelet's or apiserver's refusal
        return _unavailable(stream.container, stream.previous, f"not readable: {exc.message[:200]}")
    text = data.decode("utf-8", errors="replace")
    entry: dict[str, Any] = {
        "container": stream.container,
        "instance": "previous" if stream.previous else "current",
        "available": True,
        "tail_lines": lines,
        "limit_bytes": limit,
        "lines": text.count("\n") + (0 if not text or text.endswith("\n") else 1),
        "bytes": len(data),
        "truncated": None,
        "text": text,
    }
    if len(data) >= limit:
        entry["truncated"] = (
            f"limitBytes: the last {lines} lines hold more than {limit} bytes; "
            f"only their first {limit} are kept"
        )
    return entry


def _events(kube: Kube, deadline: Deadline, pod: JSONObject) -> list[JSONObject]:
    meta = pod["metadata"]
    found = kube.items(
        deadline, "Event", namespace=meta["namespace"], field_selector=f"involvedObject.uid={meta['uid']}"
    )
    events = [_without_managed_fields(e) for e in found]
    return sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))


def _without_managed_fields(obj: JSONObject) -> JSONObject:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": meta}


def encode(document: dict[str, Any]) -> tuple[bytes, bytes]:
    raw = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return raw, gzip.compress(raw, mtime=0)


def fit(document: dict[str, Any]) -> tuple[bytes, bytes]:
    """The document as JSON and gzip, cut until the gzip fits DATA_MAX; each cut is listed
    in its `truncated`. Logs lose their oldest half first (the newest lines matter most),
    then the oldest Events go."""
    raw, data = encode(document)
    rounds = 0
    while len(data) > DATA_MAX:
        rounds += 1
        logs = [log for log in document["logs"] if log.get("available") and log.get("text")]
        if logs and rounds <= 16:
            for log in logs:
                text: str = log["text"]
                log["text"] = text[len(text) // 2 :] if len(text) > 64 else ""
                log["truncated"] = "cut by riposte to fit the Secret: oldest part removed"
            note = "logs cut from their oldest end to fit the 900 KiB Secret"
        elif document["events"]:
            document["events"] = document["events"][len(document["events"]) // 2 :]
            note = "oldest events removed to fit the 900 KiB Secret"
        else:
            raise Failed("the pod itself is too large to keep as evidence in one Secret")
        if note not in document["truncated"]:
            document["truncated"].append(note)
        raw, data = encode(document)
    return raw, data


def secret(settings: Settings, pod: JSONObject, alert: Alert, *, raw: bytes, data: bytes) -> JSONObject:
    meta = pod["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {
            "name": secret_name(meta["uid"]),
            "namespace": settings.namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "riposte",
                LABEL: "true",
                copies.LABEL_NAMESPACE: meta["namespace"],
                copies.LABEL_NAME: copies.name_hash(meta["name"]),
            },
            "annotations": {
                SHA256: hashlib.sha256(raw).hexdigest(),
                SIZE: str(len(data)),
                "riposte.io/source-kind": "Pod",
                "riposte.io/source-namespace": meta["namespace"],
                "riposte.io/source-name": meta["name"],
                copies.ANNOTATION_UID: meta["uid"],
                "riposte.io/alert-identity": alert.identity,
                "riposte.io/alert-rule": alert.rule,
                "riposte.io/kept-by": settings.function,
            },
        },
        "data": {KEY: base64.b64encode(data).decode()},
    }


def recall(context: Context) -> tuple[str, dict[str, Any]]:
    """`Spec.recall`: say where the pod's evidence is, as the first answer did."""
    found = find(context.kube, context.deadline, context.settings, context.target)
    return (f"; evidence kept in {found}", {"evidence": found}) if found else ("", {})
