"""Restorable copies of what riposte deletes, kept as Secrets in riposte's own namespace.

A copy is named from the source object's uid (`riposte-cm-<uid>`), so each version of an
object has exactly one copy however often it is alerted on, and holds the whole object
as `configmap.json` (name, namespace, labels, annotations, data, binaryData, immutable),
ready for `kubectl create -f -`. A Secret, because the ConfigMap held credentials.

Labels make copies findable after the source is gone (label values are limited to 63
characters and names may have 253, so the name is hashed); annotations hold the full
provenance. Restore: see README "Restoring a deleted ConfigMap".
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from shared import kube
from shared.alert import Alert
from shared.config import Settings
from shared.deadline import Deadline

COPY_KEY = "configmap.json"
SECRET_TYPE = "riposte.io/configmap-copy"
LABEL_KIND = "riposte.io/copy-of"
LABEL_NAMESPACE = "riposte.io/source-namespace"
LABEL_NAME = "riposte.io/source-name-hash"
ANNOTATION_UID = "riposte.io/source-uid"


class CopyMismatch(Exception):
    """A copy with our name exists but belongs to another object: never overwrite it."""


def copy_name(uid: str) -> str:
    return f"riposte-cm-{uid}"


def keep(
    client: kube.Kube, deadline: Deadline, settings: Settings, live: dict[str, Any], alert: Alert
) -> str:
    """Store a restorable copy of the ConfigMap `live`; returns `<namespace>/<name>` of it.

    Idempotent: when the copy already exists (a redelivery, a concurrent request) it is
    reused if and only if it is a copy of the same uid.
    """
    meta = live["metadata"]
    name = copy_name(meta["uid"])
    source = {
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
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {
            "name": name,
            "namespace": settings.namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "riposte",
                LABEL_KIND: "configmap",
                LABEL_NAMESPACE: meta["namespace"],
                LABEL_NAME: name_hash(meta["name"]),
            },
            "annotations": {
                "riposte.io/source-namespace": meta["namespace"],
                "riposte.io/source-name": meta["name"],
                ANNOTATION_UID: meta["uid"],
                "riposte.io/source-resource-version": meta["resourceVersion"],
                "riposte.io/alert-identity": alert.identity,
                "riposte.io/alert-rule": alert.rule,
                "riposte.io/kept-by": settings.function,
            },
        },
        "data": {COPY_KEY: base64.b64encode(json.dumps(source, sort_keys=True).encode()).decode()},
    }
    try:
        client.create_secret(deadline, namespace=settings.namespace, body=body)
    except kube.AlreadyExists:
        existing = client.read_secret(deadline, namespace=settings.namespace, name=name)
        annotations = existing.get("metadata", {}).get("annotations") or {}
        if annotations.get(ANNOTATION_UID) != meta["uid"]:
            raise CopyMismatch(f"{settings.namespace}/{name} is not a copy of uid {meta['uid']}") from None
    return f"{settings.namespace}/{name}"


def find(
    client: kube.Kube, deadline: Deadline, settings: Settings, *, namespace: str, name: str
) -> str | None:
    """`<namespace>/<name>` of a copy of ConfigMap namespace/name, or None."""
    selector = f"{LABEL_KIND}=configmap,{LABEL_NAMESPACE}={namespace},{LABEL_NAME}={name_hash(name)}"
    found = client.list_secrets(deadline, namespace=settings.namespace, label_selector=selector)
    items = found.get("items") or []
    return f"{settings.namespace}/{items[0]['metadata']['name']}" if items else None


def name_hash(name: str) -> str:
    """A label-safe stand-in for an object name (names reach 253 characters)."""
    return hashlib.sha256(name.encode()).hexdigest()[:40]
