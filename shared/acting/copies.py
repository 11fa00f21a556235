"""Restorable copies of what riposte removes, kept as Secrets in riposte's own namespace.

A copy is named from the source object's uid, so each version of an object has exactly
one copy however often it is alerted on:
- a ConfigMap: `riposte-cm-<uid>`, holding `configmap.json` = the object as it can be
  created again (name, namespace, labels, annotations, data, binaryData, immutable),
  ready for `kubectl create -f -`; a Secret, because the ConfigMap held credentials;
- any other kind: `riposte-copy-<uid>`, holding `object.json` = the whole object as read.

Labels make copies findable after the source is gone (label values are limited to 63
characters and names may have 253, so the name is hashed); annotations hold the full
provenance. Restore: README "Restoring what riposte removed".
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from shared.acting.spec import Context, Facts, Plan
from shared.alert import Alert
from shared.config import Settings
from shared.deadline import Deadline
from shared.kube import errors
from shared.kube.client import JSONObject, Kube
from shared.targets import Target

LABEL_KIND = "riposte.io/copy-of"
LABEL_NAMESPACE = "riposte.io/source-namespace"
LABEL_NAME = "riposte.io/source-name-hash"
P = TypeVar("P")
ANNOTATION_UID = "riposte.io/source-uid"
ANNOTATION_VERSION = "riposte.io/source-resource-version"


@dataclass(frozen=True)
class Layout:
    """How copies of one kind are named and stored."""

    prefix: str
    key: str
    secret_type: str


CONFIGMAP = Layout("riposte-cm-", "configmap.json", "riposte.io/configmap-copy")
OBJECT = Layout("riposte-copy-", "object.json", "riposte.io/object-copy")


class CopyMismatch(Exception):
    """A copy with our name exists but belongs to another object: never overwrite it."""


def layout(kind: str) -> Layout:
    return CONFIGMAP if kind == "ConfigMap" else OBJECT


def copy_name(kind: str, uid: str) -> str:
    return f"{layout(kind).prefix}{uid}"


def keep(kube: Kube, deadline: Deadline, settings: Settings, live: JSONObject, alert: Alert) -> str:
    """Store a restorable copy of the object `live`; returns `<namespace>/<name>` of the copy.

    Idempotent: when the copy already exists (a redelivery, a concurrent request, a spend
    a racing replica refused) it is reused if and only if it is a copy of the same uid
    holding the same content (DESIGN §6: continue only if it is ours and equal). A copy of
    an older version that differs is never overwritten, and the object is then not acted
    on (CopyMismatch: `failed`): reusing it would lose the live version's changes.
    """
    meta, kind, restorable = live["metadata"], live["kind"], _restorable(live)
    name = copy_name(kind, meta["uid"])
    source_namespace = meta.get("namespace") or ""
    labels = {
        "app.kubernetes.io/managed-by": "riposte",
        LABEL_KIND: kind.lower(),
        LABEL_NAME: name_hash(meta["name"]),
    }
    if source_namespace:
        labels[LABEL_NAMESPACE] = source_namespace
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": layout(kind).secret_type,
        "metadata": {
            "name": name,
            "namespace": settings.namespace,
            "labels": labels,
            "annotations": {
                "riposte.io/source-kind": kind,
                "riposte.io/source-namespace": source_namespace,
                "riposte.io/source-name": meta["name"],
                ANNOTATION_UID: meta["uid"],
                ANNOTATION_VERSION: meta["resourceVersion"],
                "riposte.io/alert-identity": alert.identity,
                "riposte.io/alert-rule": alert.rule,
                "riposte.io/kept-by": settings.function,
            },
        },
        "data": {
            layout(kind).key: base64.b64encode(json.dumps(restorable, sort_keys=True).encode()).decode()
        },
    }
    try:
        kube.create(deadline, body)
    except errors.AlreadyExists:
        existing = kube.get(deadline, "Secret", namespace=settings.namespace, name=name)
        annotations = existing.get("metadata", {}).get("annotations") or {}
        if annotations.get(ANNOTATION_UID) != meta["uid"]:
            raise CopyMismatch(f"{settings.namespace}/{name} is not a copy of uid {meta['uid']}") from None
        if _content(existing, kind) != _comparable(restorable):
            raise CopyMismatch(
                f"{settings.namespace}/{name} holds resourceVersion {annotations.get(ANNOTATION_VERSION)} "
                "of it, which differs from "
                f"the live {meta['resourceVersion']}: not acted on, so neither version is lost"
            ) from None
    return f"{settings.namespace}/{name}"


def prepare(context: Context, facts: Facts, plan: Plan[P]) -> Plan[P]:
    """A spec's `prepare` for a function that removes or rewrites its target: keep the
    copy while the budget is spent; the plan `act` carries out names it (details `copy`)."""
    copy = keep(context.kube, context.deadline, context.settings, facts.object, context.alert)
    return replace(plan, details={**plan.details, "copy": copy})


def find(kube: Kube, deadline: Deadline, settings: Settings, target: Target) -> str | None:
    """`<namespace>/<name>` of a copy of `target` (any version of it), or None."""
    selector = f"{LABEL_KIND}={target.kind.lower()},{LABEL_NAME}={name_hash(target.name)}"
    if target.namespace:
        selector += f",{LABEL_NAMESPACE}={target.namespace}"
    items = kube.items(deadline, "Secret", namespace=settings.namespace, label_selector=selector)
    return f"{settings.namespace}/{items[0]['metadata']['name']}" if items else None


def _content(copy: JSONObject, kind: str) -> Any:
    """What a copy holds, as `_comparable` puts it; None when it cannot be read."""
    try:
        raw = base64.b64decode((copy.get("data") or {})[layout(kind).key], validate=True)
        return _comparable(json.loads(raw))
    except (KeyError, TypeError, ValueError):
        return None


def _comparable(kept: Any) -> Any:
    """A copy's object without the fields every write changes: a copy is reused for the
    same content (a redelivery, a retry after a 409 that changed nothing kept)."""
    if not isinstance(kept, dict) or not isinstance(kept.get("metadata"), dict):
        return kept
    volatile = ("resourceVersion", "managedFields", "generation")
    metadata = {k: v for k, v in kept["metadata"].items() if k not in volatile}
    return {**kept, "metadata": metadata}


def name_hash(name: str) -> str:
    """A label-safe stand-in for an object name (names reach 253 characters)."""
    return hashlib.sha256(name.encode()).hexdigest()[:40]


def _restorable(live: JSONObject) -> dict[str, Any]:
    """A ConfigMap as `kubectl create -f -` takes it; any other kind whole, as read."""
    if live["kind"] != "ConfigMap":
        return live
    meta = live["metadata"]
    source: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": meta.get("labels") or {},
            "annotations": meta.get("annotations") or {},
        },
        "data": live.get("data") or {},
        "binaryData": live.get("binaryData") or {},
    }
    if live.get("immutable") is not None:
        source["immutable"] = live["immutable"]
    return source
