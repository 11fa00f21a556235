r"""A Message laid out for each sink: Slack Block Kit, a Teams Adaptive Card, generic JSON. Pure.

Alert text is attacker-influenced (a process command line, an object name), so each
layout neutralises what its renderer would interpret:
- Slack mrkdwn: `&`, `<`, `>` are escaped as Slack asks, so `<!channel>` or
  `<https://evil|innocent>` in an output arrives as text, not as a mention or a link;
  the output sits in a code block whose fence it cannot close.
- Teams: Adaptive Card TextBlocks and facts read a Markdown subset (bold, italic, lists,
  links): link brackets are backslash-escaped, so `[innocent](https://evil)` stays text.
  Emphasis markers are left alone: at worst cosmetic, and escaping them would show
  `aws\_access\_key\_id` where a host ignores escapes. The output goes into a
  RichTextBlock, which reads no Markdown at all.
Every text is clipped to the sink's limit, so a huge alert still makes a valid message
(Slack: header 150, section text 3000, 10 fields of 2000, 50 blocks; Teams: ~28 KB).
The generic webhook gets the Message's JSON as it is: a machine reads it.
"""

from __future__ import annotations

import re
from typing import Any

from shared.notify.messages import Action, Choice, Fact, Kind, Message, Tone

SLACK_TEXT_MAX = 3000  # top-level fallback `text`: Slack cuts at 40,000, notifications far earlier
SLACK_HEADER_MAX = 150
SLACK_SECTION_TEXT_MAX = 3000
SLACK_FIELDS_PER_SECTION = 10
SLACK_FIELD_MAX = 2000
SLACK_BLOCKS_MAX = 50

TEAMS_TITLE_MAX = 300
TEAMS_TEXT_MAX = 2000
TEAMS_FACT_TITLE_MAX = 100
TEAMS_FACT_VALUE_MAX = 500
TEAMS_OUTPUT_MAX = 8000  # keeps the whole card well under Teams' ~28 KB message limit
TEAMS_CARD_VERSION = "1.4"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"

ICONS = {Tone.INFO: "🔵", Tone.GOOD: "✅", Tone.WARNING: "🟠", Tone.DANGER: "🚨"}
TEAMS_COLOURS = {Tone.INFO: "Default", Tone.GOOD: "Good", Tone.WARNING: "Warning", Tone.DANGER: "Attention"}

_SLACK_ENTITY_TAIL = re.compile(r"&[a-z]*$")
_TEAMS_MARKDOWN = re.compile(r"([\\\[\]])")  # backslash and link brackets
ELLIPSIS = "…"


def slack(message: Message) -> dict[str, Any]:
    """Slack incoming-webhook payload: `text` (notification fallback) and Block Kit `blocks`."""
    title = f"{ICONS[message.tone]} {message.title}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(title, SLACK_HEADER_MAX), "emoji": True},
        },
        _slack_section(_mrkdwn(message.summary, SLACK_SECTION_TEXT_MAX)),
    ]
    for start in range(0, len(message.facts), SLACK_FIELDS_PER_SECTION):
        chunk = message.facts[start : start + SLACK_FIELDS_PER_SECTION]
        blocks.append({"type": "section", "fields": [_slack_field(fact) for fact in chunk]})
    if message.output:
        blocks.append(_slack_section(_slack_code(message.output)))
    if message.actions:
        blocks.append(
            {
                "type": "actions",
                "block_id": "riposte",
                "elements": [_slack_button(a) for a in message.actions],
            }
        )
    footnote = {"type": "mrkdwn", "text": _mrkdwn(footer(message), SLACK_SECTION_TEXT_MAX)}
    blocks.append({"type": "context", "elements": [footnote]})
    return {
        "text": _mrkdwn(f"{title}: {message.summary}", SLACK_TEXT_MAX),
        "blocks": blocks[: SLACK_BLOCKS_MAX - 1] + blocks[-1:] if len(blocks) > SLACK_BLOCKS_MAX else blocks,
    }


SLACK_STYLES = {Choice.APPROVE: "primary", Choice.REJECT: "danger", Choice.UNDO: "danger"}


def _slack_button(action: Action) -> dict[str, Any]:
    """A Block Kit button interact receives: action_id riposte.<choice>, value the signed token
    (so a message forged by whoever holds the webhook URL cannot make a valid one)."""
    button: dict[str, Any] = {
        "type": "button",
        "action_id": f"riposte.{action.choice}",
        "text": {"type": "plain_text", "text": action.label},
        "value": action.token,
        "style": SLACK_STYLES[action.choice],
    }
    if action.choice is not Choice.APPROVE:
        button["confirm"] = {
            "title": {"type": "plain_text", "text": f"{action.label}?"},
            "text": {"type": "plain_text", "text": "riposte will do this at once."},
            "confirm": {"type": "plain_text", "text": action.label},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
    return button


def teams(message: Message) -> dict[str, Any]:
    """Teams workflow-webhook payload: a `message` carrying one Adaptive Card attachment."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": _markdown(f"{ICONS[message.tone]} {message.title}", TEAMS_TITLE_MAX),
            "size": "Large",
            "weight": "Bolder",
            "color": TEAMS_COLOURS[message.tone],
            "wrap": True,
        },
        {"type": "TextBlock", "text": _markdown(message.summary, TEAMS_TEXT_MAX), "wrap": True},
        {
            "type": "FactSet",
            "facts": [
                {
                    "title": _markdown(fact.label, TEAMS_FACT_TITLE_MAX),
                    "value": _markdown(fact.value, TEAMS_FACT_VALUE_MAX),
                }
                for fact in message.facts
            ],
        },
    ]
    if message.output:
        body.append(
            {
                "type": "RichTextBlock",  # no Markdown: the output is shown as sent
                "inlines": [
                    {
                        "type": "TextRun",
                        "text": clip(message.output, TEAMS_OUTPUT_MAX),
                        "fontType": "Monospace",
                    }
                ],
            }
        )
    body.append(
        {
            "type": "TextBlock",
            "text": _markdown(footer(message), TEAMS_TEXT_MAX),
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        }
    )
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": TEAMS_CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    # Workflows and incoming webhooks carry no Action.Submit: a link to interact's review
    # page, where the decision is confirmed (one link: the page offers Approve and Reject).
    opened = {a.url: a for a in message.actions if a.url}
    if opened:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Undo" if a.choice is Choice.UNDO else "Review", "url": url}
            for url, a in opened.items()
        ]
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


def webhook(message: Message) -> dict[str, Any]:
    """Generic JSON webhook payload: the message's own words and its redacted data."""
    return {
        "kind": str(message.kind),
        "key": message.key,
        "title": message.title,
        "text": message.summary,
        "alert": dict(message.alert),
        "result": dict(message.result) if message.result is not None else None,
        "links": {("undo" if a.choice is Choice.UNDO else "review"): a.url for a in message.actions if a.url},
    }


def footer(message: Message) -> str:
    """The small print: who speaks, and the alert both messages of one alert name."""
    about = {Kind.ALERT: "alert", Kind.RESULT: "result for alert", Kind.DEAD_LETTER: "undelivered alert"}[
        message.kind
    ]
    return f"riposte notify · {about} {message.alert_reference}"


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _slack_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _slack_field(fact: Fact) -> dict[str, Any]:
    label = f"*{_mrkdwn(fact.label, 100)}*\n"
    return {"type": "mrkdwn", "text": label + _mrkdwn(fact.value, SLACK_FIELD_MAX - len(label))}


def _slack_code(text: str) -> str:
    # A ``` inside the output would close the fence and let the rest render as mrkdwn.
    fence = "```"
    inner = _mrkdwn(text.replace(fence, "'''"), SLACK_SECTION_TEXT_MAX - 2 * len(fence))
    return f"{fence}{inner}{fence}"


def _mrkdwn(text: str, limit: int) -> str:
    """Slack mrkdwn for plain `text`: the three control characters escaped, then clipped
    without leaving half an entity (`&am`) at the cut."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if len(escaped) <= limit:
        return escaped
    return _SLACK_ENTITY_TAIL.sub("", escaped[: limit - 1]) + ELLIPSIS


def _markdown(text: str, limit: int) -> str:
    """Adaptive Card Markdown for plain `text`: the subset's markers escaped, then clipped
    without leaving a dangling backslash at the cut."""
    escaped = _TEAMS_MARKDOWN.sub(r"\\\1", text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    # An odd run of trailing backslashes is half an escape: drop one.
    trailing = len(cut) - len(cut.rstrip("\\"))
    return (cut[:-1] if trailing % 2 else cut) + ELLIPSIS
