"""A result as a Falco payload, for Falcosidekick's `/` (DESIGN.md §14). Pure.

Falcosidekick then shows what riposte did beside the alert in its UI and forwards it to
every output it feeds (Loki, Elasticsearch, PagerDuty, …). What its checks require
(falcosidekick types/types.go `Check`, handlers.go `mainHandler`; falcosidekick-ui
models `Payload` validation), and so what this layout guarantees:
- a known `priority`, a non-empty `rule`, an RFC 3339 `time`, non-empty `output_fields`
  (Falcosidekick answers 400 otherwise);
- `output` ASCII, and `rule`, `priority`, `source`, `hostname` printable ASCII
  (Falcosidekick-UI refuses anything else with a 500): non-ASCII text is escaped
  (`\\u00e9`), control characters become `?`;
- `source: riposte`, which riposte's acting functions never act on and notify never
  turns into an alert message (shared/policy.py): Falcosidekick replaces `uuid` and
  forwards the payload to every output, riposte's own broker included, so the loop is
  broken on `source`, not on the uuid.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from shared import policy
from shared.action import Outcome
from shared.notify.messages import Kind, Message

# Notice for what went as intended, Warning for what needs a look, Error for failures.
PRIORITIES = {
    Outcome.ACTED: "Notice",
    Outcome.ALREADY_DONE: "Notice",
    Outcome.DRY_RUN: "Notice",
    Outcome.PARTIAL: "Warning",
    Outcome.REFUSED: "Warning",
    Outcome.FAILED: "Error",
    Outcome.PENDING_APPROVAL: "Notice",
}
FIELD_MAX = 500  # Falcosidekick cuts string fields over 512 characters in large payloads
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def ascii_text(text: str) -> str:
    """`text` in printable ASCII: non-ASCII escaped, control characters as `?`."""
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    return _UNPRINTABLE.sub("?", escaped)


def payload(message: Message, *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The Falco payload of a result message. Only results go to Falcosidekick."""
    if message.kind is not Kind.RESULT or message.result is None:
        raise ValueError("only results are sent to Falcosidekick")
    result, alert = message.result, message.alert
    function, outcome = str(result["function"]), Outcome(str(result["outcome"]))
    target = result["target"]
    assert isinstance(target, dict)
    subject = "/".join(
        str(part) for part in (target.get("namespace"), target["kind"], target["name"]) if part
    )
    moment = now or datetime.datetime.now(datetime.UTC)
    body: dict[str, Any] = {
        "output": ascii_text(f"{message.title}: {message.summary}"),
        "priority": PRIORITIES[outcome],
        "rule": ascii_text(f"riposte {function} {outcome}"),
        "time": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "source": policy.RIPOSTE_SOURCE,
        "tags": ["riposte", ascii_text(function), str(outcome)],
        "output_fields": {
            "riposte.function": ascii_text(function),
            "riposte.outcome": str(outcome),
            "riposte.target": ascii_text(subject)[:FIELD_MAX],
            "riposte.reason": ascii_text(str(result["reason"]))[:FIELD_MAX],
            "riposte.alert.uuid": ascii_text(message.alert_reference)[:FIELD_MAX],
            "riposte.alert.rule": ascii_text(str(alert["rule"]))[:FIELD_MAX],
        },
    }
    if hostname := alert.get("hostname"):
        body["hostname"] = ascii_text(str(hostname))[:FIELD_MAX]
    return body
