"""Signed, expiring tokens: the review link of an approval, the undo link of an action, and
the values of Slack's buttons. Pure.

itsdangerous' URLSafeTimedSerializer with RIPOSTE_LINK_SECRET (a comma-separated list of
keys, oldest first: the last signs, all verify, so keys rotate without breaking links in
flight) and one salt per purpose, so an undo token can never approve. A token is signed,
not encrypted: it carries only ids, never anything secret.
"""

from __future__ import annotations

import enum
from typing import Any

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer


class Purpose(enum.StrEnum):
    DECIDE = "riposte.approval"  # approve or reject one approval record
    UNDO = "riposte.undo"  # undo one action


class LinkError(Exception):
    """The token is forged, for another purpose, malformed or expired; `message` says which."""


def keys(text: str) -> list[str]:
    """RIPOSTE_LINK_SECRET's keys, oldest first; ValueError when there are none."""
    found = [key.strip() for key in text.split(",") if key.strip()]
    if not found or any(len(key) < 16 for key in found):
        raise ValueError("must be one or more keys of at least 16 characters, comma-separated, oldest first")
    return found


def dumps(secret: list[str], purpose: Purpose, payload: dict[str, Any]) -> str:
    return str(URLSafeTimedSerializer(secret, salt=str(purpose)).dumps(payload))


def loads(secret: list[str], purpose: Purpose, token: str, *, max_age: int) -> dict[str, Any]:
    try:
        value = URLSafeTimedSerializer(secret, salt=str(purpose)).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError("this link has expired") from None
    except (BadData, TypeError, ValueError, UnicodeError):
        raise LinkError("this link is not valid") from None
    if not isinstance(value, dict):
        raise LinkError("this link is not valid")
    return value
