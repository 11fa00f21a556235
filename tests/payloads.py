"""The sinks' documented payload formats, as checks (used on built and on received payloads).

Slack (Block Kit reference, incoming webhooks): `text` is a string; `blocks` at most 50;
a header's plain_text at most 150 characters; a section's text at most 3000, or at most
10 fields of at most 2000 each; a context at most 10 elements.
Teams (workflow webhook, "Post card in a chat or channel"): exactly the envelope
`{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": <AdaptiveCard>}]}`,
the card of type AdaptiveCard, version 1.4, a body of known elements; the message under
Teams' ~28 KB limit.
"""

from __future__ import annotations

import json
from typing import Any

SLACK_BLOCK_TYPES = {"header", "section", "context", "divider", "actions"}
TEAMS_ELEMENT_TYPES = {"TextBlock", "FactSet", "RichTextBlock"}
TEAMS_MESSAGE_MAX_BYTES = 28_000


def check_slack(payload: dict[str, Any]) -> None:
    assert set(payload) == {"text", "blocks"}, payload.keys()
    assert isinstance(payload["text"], str) and payload["text"]
    blocks = payload["blocks"]
    assert isinstance(blocks, list) and 0 < len(blocks) <= 50
    for block in blocks:
        assert isinstance(block, dict)
        assert block["type"] in SLACK_BLOCK_TYPES, block["type"]
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert block["text"]["type"] in {"mrkdwn", "plain_text"}
                assert 0 < len(block["text"]["text"]) <= 3000
            if "fields" in block:
                assert 0 < len(block["fields"]) <= 10
                for item in block["fields"]:
                    assert item["type"] in {"mrkdwn", "plain_text"}
                    assert 0 < len(item["text"]) <= 2000
        elif block["type"] == "actions":  # riposte's Approve / Reject / Undo buttons
            assert 0 < len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["type"] == "button" and button["action_id"].startswith("riposte.")
                assert 0 < len(button["value"]) <= 2000 and len(button["text"]["text"]) <= 75
                assert button.get("style", "primary") in {"primary", "danger"}
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                assert element["type"] in {"mrkdwn", "plain_text"}
                assert 0 < len(element["text"]) <= 3000


def check_teams(payload: dict[str, Any]) -> dict[str, Any]:
    """Checks the envelope and card; returns the card."""
    assert set(payload) == {"type", "attachments"}, payload.keys()
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert set(attachment) == {"contentType", "contentUrl", "content"}
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card: dict[str, Any] = attachment["content"]
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    assert isinstance(card["body"], list) and card["body"]
    assert card["body"][0]["type"] == "TextBlock"
    assert any(element["type"] == "FactSet" for element in card["body"])
    for element in card["body"]:
        assert element["type"] in TEAMS_ELEMENT_TYPES, element["type"]
        if element["type"] == "TextBlock":
            assert isinstance(element["text"], str) and element["text"]
        elif element["type"] == "FactSet":
            for fact in element["facts"]:
                assert set(fact) == {"title", "value"}
                assert isinstance(fact["title"], str) and isinstance(fact["value"], str)
        else:
            for inline in element["inlines"]:
                assert inline["type"] == "TextRun" and isinstance(inline["text"], str)
    assert len(json.dumps(payload).encode()) < TEAMS_MESSAGE_MAX_BYTES
    return card


def check_webhook(payload: dict[str, Any]) -> None:
    assert payload["kind"] in {"alert", "result", "dead-letter"}
    assert isinstance(payload["title"], str) and payload["title"]
    assert isinstance(payload["text"], str) and payload["text"]
    assert isinstance(payload["alert"], dict)
    if payload["kind"] in ("alert", "dead-letter"):
        assert payload["result"] is None
    else:
        assert isinstance(payload["result"], dict)
        assert payload["result"]["outcome"]


def texts(payload: Any) -> list[str]:
    """Every string anywhere in a payload."""
    if isinstance(payload, str):
        return [payload]
    if isinstance(payload, dict):
        return [text for value in payload.values() for text in texts(value)]
    if isinstance(payload, list):
        return [text for value in payload for text in texts(value)]
    return []
