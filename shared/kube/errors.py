"""What an API answer means for the caller, as our own error tree (kopf's clients/errors.py).

    KubeError                 a refusal from the API the caller may want to handle
     +-- NotFound             404: the object (or its namespace) does not exist
     +-- Conflict             409: a precondition failed, or the object changed under us
     |    +-- AlreadyExists   409 on create: an object of that name exists
     +-- Forbidden            403: our RBAC does not allow it (a deployment bug)
     +-- Rejected             any other 4xx (422 invalid object, 400 bad request, ...)

Transient answers are not in the tree: `transient(status)` says which are retried inside
the deadline (shared/retry.py) and end in errors.Unavailable (503) when they persist.
Status 0 is the client's own wrapping of a transport failure (an SSLError while the
apiserver shuts down arrives as ApiException(status=0)): a connection error, not a
refusal. The API's Status message is kept, cut to a few hundred characters: error text
reaches logs and replies, and object bodies in messages could be large or hold secrets.
"""

from __future__ import annotations

import json
from http import HTTPStatus

# 0: transport failure; 429: throttled; 500/502/503/504: the apiserver or a proxy in
# front of it is restarting or overloaded. 501 (not implemented) is permanent.
TRANSIENT = frozenset({0, 429, 500, 502, 503, 504})
MESSAGE_MAX = 300


class KubeError(Exception):
    """The API refused a call; `status`, the API's `reason` and its message are kept."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class NotFound(KubeError):
    """404: the object (or its namespace) does not exist."""


class Conflict(KubeError):
    """409: a precondition failed, or the object changed under us."""


class AlreadyExists(Conflict):
    """409 on create: an object of that name exists."""


class Forbidden(KubeError):
    """403: the ServiceAccount's RBAC does not allow the call."""


class Rejected(KubeError):
    """Any other permanent 4xx/5xx."""


def transient(status: int) -> bool:
    """Whether an answer with `status` is retried (inside the deadline)."""
    return status in TRANSIENT


def classify(status: int, body: bytes | str | None, fallback: str = "") -> KubeError:
    """Our error for a permanent API answer, with the API's own reason and message kept.

    `body` is the API's Status object (JSON); anything else keeps `fallback` as message.
    """
    reason, message = "", fallback
    try:
        parsed = json.loads(body or b"{}")
        if isinstance(parsed, dict):
            reason = str(parsed.get("reason", ""))
            message = str(parsed.get("message", message))
    except (ValueError, TypeError):
        pass
    kind: type[KubeError]
    if status == HTTPStatus.NOT_FOUND:
        kind = NotFound
    elif status == HTTPStatus.CONFLICT:
        kind = AlreadyExists if reason == "AlreadyExists" else Conflict
    elif status == HTTPStatus.FORBIDDEN:
        kind = Forbidden
    else:
        kind = Rejected
    return kind(status, reason, message[:MESSAGE_MAX])
