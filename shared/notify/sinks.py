"""notify's sinks: which are configured, and sending one message to all of them.

Each sink is enabled by its URL (env or `_FILE`, read with config.url; an empty file
leaves the sink off, so one Secret can carry every key): Slack incoming webhook, Teams
workflow webhook, generic JSON webhook, and Falcosidekick (results only, as Falco
payloads: shared/notify/falcosidekick.py). Webhook URLs are credentials (Slack
and Teams put theirs in the path): a Sink's URL is kept out of its repr, and every error,
warning and log line names the sink instead.

Sending goes to all sinks at once, each through webhook.post within the request's
Deadline (429/5xx and connection errors retried, Retry-After honoured):
- accepted (2xx): recorded, so a redelivery skips that sink;
- refused for good (another 4xx): a warning for the log line, not a 503: the same payload
  would be refused again, and a redelivery would only repeat the message elsewhere;
- still down at the deadline: after every other sink had its try, errors.Unavailable
  (503 + Retry-After), and the redelivery sends only to the sinks that lack the message.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shared import config, errors, webhook
from shared.approval import links
from shared.deadline import Deadline
from shared.notify import falcosidekick, formats
from shared.notify.messages import Kind, Links, Message
from shared.notify.sent import SentRecord, StillSending

log = logging.getLogger("riposte")

Layout = Callable[[Message], dict[str, Any]]

# (sink name, the variable holding its URL, its layout), in the order messages are listed.
SINK_TYPES: tuple[tuple[str, str, Layout], ...] = (
    ("slack", "RIPOSTE_SLACK_WEBHOOK_URL", formats.slack),
    ("teams", "RIPOSTE_TEAMS_WEBHOOK_URL", formats.teams),
    ("webhook", "RIPOSTE_WEBHOOK_URL", formats.webhook),
    ("falcosidekick", "RIPOSTE_FALCOSIDEKICK_URL", falcosidekick.payload),
)
# Sinks that take only some kinds of message: Falcosidekick already has every alert (it
# sent it), so it gets riposte's results only.
ONLY: dict[str, frozenset[Kind]] = {"falcosidekick": frozenset({Kind.RESULT})}
ALERTS_FLAG = "RIPOSTE_NOTIFY_ALERTS"


@dataclass(frozen=True)
class Sink:
    """One configured destination; `url` is a secret and stays out of repr."""

    name: str
    url: str = field(repr=False)
    layout: Layout = field(repr=False)


@dataclass(frozen=True)
class NotifySettings:
    """notify's own settings, on top of config.Settings."""

    sinks: tuple[Sink, ...]
    alerts: bool  # also a message per alert (RIPOSTE_NOTIFY_ALERTS), not only per result
    links: Links | None = None  # Approve/Reject/Undo (RIPOSTE_LINK_SECRET, RIPOSTE_INTERACT_URL)


def load(function: str, environ: Mapping[str, str] | None = None) -> NotifySettings:
    """Sinks and RIPOSTE_NOTIFY_ALERTS from the environment; ConfigError on a bad value."""
    env = os.environ if environ is None else environ
    sinks = tuple(
        Sink(name, url, layout)
        for name, variable, layout in SINK_TYPES
        if (url := config.url(env, variable, empty_disables=True)) is not None
    )
    if not sinks:
        variables = ", ".join(variable for _, variable, _ in SINK_TYPES)
        log.warning("%s: no sink configured (%s): alerts and results are dropped", function, variables)
    return NotifySettings(sinks=sinks, alerts=config.flag(env, ALERTS_FLAG, default=True), links=_links(env))


def _links(env: Mapping[str, str]) -> Links | None:
    """Decisions offered in messages when RIPOSTE_LINK_SECRET is set: Slack buttons, and
    review links to RIPOSTE_INTERACT_URL for the other sinks (README "Approval")."""
    secret = config.secret(env, "RIPOSTE_LINK_SECRET")
    if secret is None:
        return None
    try:
        keys = links.keys(secret)
    except ValueError as exc:
        raise errors.ConfigError(f"RIPOSTE_LINK_SECRET {exc}") from None
    return Links(secret=keys, interact_url=config.url(env, "RIPOSTE_INTERACT_URL"))


class Answer(enum.StrEnum):
    """How one sink ended for one message."""

    SENT = "sent"
    ALREADY_SENT = "already-sent"
    REJECTED = "rejected"
    DOWN = "down"


@dataclass
class Report:
    """What happened at each sink; `problems` name sinks, never URLs."""

    answers: dict[str, Answer] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def names(self, *answers: Answer) -> list[str]:
        return [name for name, answer in self.answers.items() if answer in answers]


def send(sinks: tuple[Sink, ...], message: Message, deadline: Deadline, record: SentRecord) -> Report:
    """Send `message` to every sink concurrently; Unavailable if any stayed down.

    Permanent refusals come back in `report.problems` for the caller's log line.
    """
    report = Report()
    sinks = tuple(sink for sink in sinks if message.kind in ONLY.get(sink.name, frozenset(Kind)))
    with ThreadPoolExecutor(max_workers=max(1, len(sinks)), thread_name_prefix="notify") as pool:
        futures = {sink.name: pool.submit(_deliver, sink, message, deadline, record) for sink in sinks}
        for name, future in futures.items():
            answer, problem = future.result()
            report.answers[name] = answer
            if problem:
                report.problems[name] = problem
    down = report.names(Answer.DOWN)
    if down:
        problems = "; ".join(report.problems[name] for name in down)
        have = report.names(Answer.SENT, Answer.ALREADY_SENT)
        # Says the redelivery will reach only the sinks that still lack the message.
        raise errors.Unavailable(f"{problems} (accepted by: {', '.join(have) or 'none'})")
    return report


def idempotency_key(message: Message) -> str:
    """A header-safe form of the message key, so a receiver behind several notify replicas
    (each with its own SentRecord) can de-duplicate too. Hashed: the key holds alert text,
    which may carry characters no header may."""
    return hashlib.sha256(message.key.encode()).hexdigest()[:32]


def _deliver(
    sink: Sink, message: Message, deadline: Deadline, record: SentRecord
) -> tuple[Answer, str | None]:
    try:
        if not record.claim(message.key, sink.name, timeout=deadline.remaining()):
            return Answer.ALREADY_SENT, None
    except StillSending as exc:
        return Answer.DOWN, str(exc)
    accepted = False
    try:
        body = json.dumps(sink.layout(message), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": idempotency_key(message),
        }
        webhook.post(sink.name, sink.url, deadline, body=body, headers=headers)
        accepted = True
        return Answer.SENT, None
    except webhook.SinkRejected as exc:
        return Answer.REJECTED, str(exc)
    except errors.Unavailable as exc:
        return Answer.DOWN, exc.message
    finally:
        record.settle(message.key, sink.name, accepted=accepted)
