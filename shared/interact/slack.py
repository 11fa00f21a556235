"""Slack's interactivity requests (a button clicked in a message riposte sent) and the
message updates interact sends back. Pure, but for `update`.

Slack POSTs `application/x-www-form-urlencoded` with one field, `payload` (JSON), signed
with the app's signing secret: `X-Slack-Signature: v0=<hex HMAC-SHA256 of
"v0:<X-Slack-Request-Timestamp>:<raw body>">`. The signature is over the raw bytes, so
they are read before anything parses them; slack_sdk's SignatureVerifier also refuses a
timestamp more than 5 minutes off (its window is fixed). It does not de-duplicate: a
replayed request is harmless because the record's state machine is (decisions.py).

Slack wants an answer within 3 seconds, so the click is answered 200 at once and the
message is edited afterwards through the payload's `response_url` (5 uses in 30 minutes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk.signature import SignatureVerifier
from werkzeug.datastructures import Headers

from shared import webhook
from shared.deadline import Deadline
from shared.notify.messages import Choice

ACTION_PREFIX = "riposte."  # action_id riposte.approve / riposte.reject / riposte.undo (notify)
VALUE_MAX = 2000  # Slack's limit on a button's value
BLOCKS_MAX = 50  # Slack's limit on a message's blocks
ACTIONS_BLOCK = "riposte"  # notify's block_id of the buttons (shared/notify/formats.py)


class BadClick(Exception):
    """A signed request that is not a click on one of riposte's buttons; the message says why."""


@dataclass(frozen=True)
class Click:
    """One click on a riposte button, as Slack reported it."""

    team: str
    user: str
    choice: Choice
    token: str  # the button's value: a signed link token (shared/approval/links.py)
    response_url: str
    blocks: tuple[dict[str, Any], ...]  # the message clicked in, to keep when it is updated


def verified(verifier: SignatureVerifier, raw: bytes, headers: Headers) -> bool:
    """Whether Slack signed `raw` within the last 5 minutes. Hostile headers make slack_sdk
    raise (a non-number timestamp: ValueError; a non-ASCII signature: TypeError from
    hmac.compare_digest; a body that is not UTF-8: UnicodeDecodeError): all mean no."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        return bool(verifier.is_valid_request(raw, lowered))
    except (ValueError, UnicodeDecodeError, TypeError):
        return False


def _text(obj: Any, *path: str) -> str:
    for key in path:
        if not isinstance(obj, dict):
            raise BadClick(f"payload has no {'.'.join(path)}")
        obj = obj.get(key)
    if not isinstance(obj, str) or not obj:
        raise BadClick(f"payload's {'.'.join(path)} must be a non-empty string")
    return obj


def parse(raw: bytes) -> Click:
    """The click a verified request reports; BadClick for anything else."""
    try:
        fields = parse_qs(raw.decode("utf-8"), max_num_fields=10, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise BadClick("the body must be a form with one field, payload") from None
    values = fields.get("payload", [])
    if len(values) != 1:
        raise BadClick("the body must be a form with one field, payload")
    try:
        payload = json.loads(values[0])
    except (ValueError, RecursionError):
        raise BadClick("payload must be JSON") from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise BadClick("only block_actions (button clicks) are handled")
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise BadClick("payload has no actions")
    action_id = _text(actions[0], "action_id")
    try:
        choice = (
            Choice(action_id.removeprefix(ACTION_PREFIX)) if action_id.startswith(ACTION_PREFIX) else None
        )
    except ValueError:
        choice = None
    if choice is None:
        raise BadClick(f"action_id {action_id[:40]!r} is not one of riposte's buttons")
    token = _text(actions[0], "value")
    if len(token) > VALUE_MAX:
        raise BadClick(f"a button's value is at most {VALUE_MAX} characters")
    response_url = _text(payload, "response_url")
    if urlsplit(response_url).scheme not in ("http", "https"):
        raise BadClick("response_url must be an http(s) URL")
    message = payload.get("message")
    blocks = message.get("blocks") if isinstance(message, dict) else None
    kept = tuple(b for b in blocks if isinstance(b, dict)) if isinstance(blocks, list) else ()
    return Click(
        team=_text(payload, "team", "id"),
        user=_text(payload, "user", "id"),
        choice=choice,
        token=token,
        response_url=response_url,
        blocks=kept,
    )


def escaped(text: str) -> str:
    """Text for Slack's mrkdwn: &, < and > are its control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def decided(click: Click, sentence: str) -> dict[str, Any]:
    """The message clicked in, its buttons replaced by what was decided (no second click)."""
    kept = [b for b in click.blocks if b.get("type") != "actions" and b.get("block_id") != ACTIONS_BLOCK]
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": escaped(sentence)}]}
    return {"replace_original": True, "text": sentence, "blocks": [*kept[: BLOCKS_MAX - 1], note]}


def ephemeral(sentence: str) -> dict[str, Any]:
    """A reply only the clicking user sees; the message (and its buttons) stay as they are."""
    return {"response_type": "ephemeral", "replace_original": False, "text": sentence}


def update(click: Click, message: dict[str, Any], deadline: Deadline) -> None:
    """Send `message` to the click's response_url (webhook.post: retries, never logs the URL)."""
    body = json.dumps(message).encode()
    webhook.post(
        "Slack's response_url", click.response_url, deadline, body=body,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
