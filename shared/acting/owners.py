"""A pod's owner chain: who made it, up to the top owner (a ReplicaSet's Deployment, ...).

Each link is the controller ownerReference (else the first one) of the object before,
re-read live so a stale or forged reference is seen as such: a link whose live object is
missing or has another uid ends the chain with `found: false`. Kinds riposte has no
resource row for (custom controllers: an Argo Rollout) end it with `followed: false`.
Bounded depth: a reference cycle cannot loop.
"""

from __future__ import annotations

from typing import Any

from shared.deadline import Deadline
from shared.kube import resources
from shared.kube.client import JSONObject, Kube

MAX_DEPTH = 5
FOLLOWED = ("ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController")


def reference(obj: JSONObject) -> dict[str, Any] | None:
    """The object's controller ownerReference, else its first, else None."""
    refs = [r for r in obj.get("metadata", {}).get("ownerReferences") or [] if isinstance(r, dict)]
    return next((r for r in refs if r.get("controller")), refs[0] if refs else None)


def chain(kube: Kube, deadline: Deadline, pod: JSONObject) -> list[dict[str, Any]]:
    """[{kind, name, uid, found, followed}], the direct owner first, the top owner last."""
    links: list[dict[str, Any]] = []
    namespace, current = pod["metadata"].get("namespace"), pod
    for _ in range(MAX_DEPTH):
        ref = reference(current)
        if ref is None:
            break
        link = {"kind": str(ref.get("kind")), "name": str(ref.get("name")), "uid": str(ref.get("uid"))}
        if link["kind"] not in FOLLOWED or resources.RESOURCES.get(link["kind"]) is None:
            links.append({**link, "found": None, "followed": False})
            break
        live = kube.find(deadline, link["kind"], name=link["name"], namespace=namespace)
        if live is None or live["metadata"].get("uid") != link["uid"]:
            links.append({**link, "found": False, "followed": True})
            break
        links.append({**link, "found": True, "followed": True})
        current = live
    return links


def top(links: list[dict[str, Any]]) -> str | None:
    """`<Kind>/<name>` of the top owner, or None for a standalone object."""
    return f"{links[-1]['kind']}/{links[-1]['name']}" if links else None
