"""What undoing one action takes, as notify's Undo link carries it and interact hands it to
the undo function (a `riposte.undo.v1` CloudEvent). Pure.

notify signs the request into the link (shared/approval/links.py, purpose UNDO); interact
checks the link and who clicked, then sends the request with its own signature
(HMAC-SHA256 with RIPOSTE_APPROVAL_KEY over the request, decided_by, channel and
decided_at). undo trusts nothing else: a request without a valid signature, or decided by
someone not in its RIPOSTE_APPROVERS, changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from shared.targets import Target

EVENT_TYPE = "riposte.undo.v1"
REVERSIBLE = frozenset({"delete-configmap", "isolate-pod", "cordon-node"})


class BadUndo(Exception):
    """The request is malformed, unsigned or signed with another key."""


@dataclass(frozen=True)
class UndoRequest:
    """Undo what `function` did to `target` (of `uid`) for the alert `identity`."""

    function: str
    target: Target
    uid: str
    identity: str

    def payload(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "target": {
                "kind": self.target.kind,
                "namespace": self.target.namespace,
                "name": self.target.name,
            },
            "uid": self.uid,
            "identity": self.identity,
        }


def from_payload(payload: object) -> UndoRequest:
    try:
        assert isinstance(payload, dict)
        target = payload["target"]
        assert isinstance(target, dict)
        namespace = target.get("namespace")
        found = UndoRequest(
            function=str(payload["function"]),
            target=Target(
                str(target["kind"]), None if namespace is None else str(namespace), str(target["name"])
            ),
            uid=str(payload["uid"]),
            identity=str(payload["identity"]),
        )
    except (AssertionError, KeyError, TypeError) as exc:
        raise BadUndo(f"not an undo request: {type(exc).__name__}") from None
    if found.function not in REVERSIBLE:
        raise BadUndo(f"{found.function[:40]} has no undo")
    return found


def _signature(key: str, request: UndoRequest, decided_by: str, channel: str, decided_at: str) -> str:
    message = json.dumps([request.payload(), decided_by, channel, decided_at], sort_keys=True)
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def event_data(
    key: str, request: UndoRequest, *, decided_by: str, channel: str, decided_at: str
) -> dict[str, Any]:
    """The data of the riposte.undo.v1 event interact sends."""
    return {
        "request": request.payload(),
        "decided_by": decided_by,
        "channel": channel,
        "decided_at": decided_at,
        "signature": _signature(key, request, decided_by, channel, decided_at),
    }


def read_event(key: str, data: dict[str, object]) -> tuple[UndoRequest, str, str]:
    """(request, decided_by, channel) of a riposte.undo.v1 event's data; BadUndo otherwise."""
    request = from_payload(data.get("request"))
    decided_by, channel, decided_at = (data.get(k) for k in ("decided_by", "channel", "decided_at"))
    signature = data.get("signature")
    if not all(isinstance(v, str) for v in (decided_by, channel, decided_at, signature)):
        raise BadUndo("an undo event carries decided_by, channel, decided_at and signature as strings")
    assert isinstance(decided_by, str) and isinstance(channel, str) and isinstance(decided_at, str)
    assert isinstance(signature, str)
    expected = _signature(key, request, decided_by, channel, decided_at)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise BadUndo("the undo request is not signed with RIPOSTE_APPROVAL_KEY")
    return request, decided_by, channel
