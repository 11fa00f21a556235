"""The Falco alert model: raw JSON in, a frozen `Alert` out. Pure: no I/O.

Every sender's body ends up here: Falcosidekick's payload (webhook, OpenFaaS, CloudEvents
`data`) and Falco's own `http_output` (>= 0.39 sorted keys without uuid; <= 0.38 with
`output_fields` spliced in after `time`, still valid JSON). The fields are attacker-
influenced: every type is checked, and absent values (`null`, and libs' `"<NA>"`) become
`None` so no caller ever compares against `"<NA>"`.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypedDict

from shared import errors
from shared.priority import Priority

# Falcosidekick's /test event (rule "Test rule", source "internal"): never acted on.
TEST_RULE = "Test rule"
TEST_SOURCE = "internal"

# libsinsp prints "<NA>" for a field it could not resolve (all Falco versions).
_ABSENT_TEXT = "<NA>"

# RFC 3339 as Falco writes it (9 fractional digits) and as Go trims it (`.73452Z`, none).
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


class RawAlert(TypedDict, total=False):
    """The wire shape (Falcosidekick `types.FalcoPayload`, Falco `json_output`)."""

    uuid: str
    output: str
    priority: str
    rule: str
    time: str
    output_fields: dict[str, object]
    source: str
    tags: list[str]
    hostname: str


@dataclass(frozen=True)
class Alert:
    """One Falco detection, validated."""

    rule: str
    priority: Priority
    output: str
    time: str
    time_ns: int
    source: str | None
    hostname: str | None
    uuid: str | None
    tags: tuple[str, ...]
    fields: Mapping[str, object] = field(repr=False)

    @property
    def identity(self) -> str:
        """De-duplication key: the uuid when sent, else a stable hash of what was seen.

        Falco's own http_output carries no uuid; its (rule, time, output) is the same
        bytes on every redelivery, and the time is normalised so Go's trimmed form and
        Falco's nine digits of the same instant agree.
        """
        if self.uuid:
            return self.uuid
        digest = hashlib.sha256(json.dumps([self.rule, self.time_ns, self.output]).encode()).hexdigest()
        return f"sha256:{digest[:40]}"

    @property
    def is_test(self) -> bool:
        """Falcosidekick's /test event."""
        return self.rule == TEST_RULE or self.source == TEST_SOURCE

    def value(self, name: str) -> object | None:
        """An output field's value, or None when missing, `null` or `"<NA>"`."""
        value = self.fields.get(name)
        if value is None or value == _ABSENT_TEXT:
            return None
        return value


def parse(body: object) -> Alert:
    """Validate a decoded JSON body as a Falco alert; NotAnAlert says what is wrong."""
    if not isinstance(body, dict):
        raise errors.NotAnAlert(f"expected a JSON object, found {_kind(body)}")
    rule = _required_text(body, "rule")
    output = _required_text(body, "output", allow_empty=True)
    priority_text = _required_text(body, "priority")
    priority = Priority.parse(priority_text)
    if priority is None:
        known = ", ".join(p.label for p in Priority)
        raise errors.NotAnAlert(f"'priority' must be one of {known}, found {priority_text!r}")
    time_text = _required_text(body, "time")
    fields = body.get("output_fields")
    if not isinstance(fields, dict):
        raise errors.NotAnAlert(f"'output_fields' must be a JSON object, found {_kind(fields)}")
    tags = body.get("tags")
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise errors.NotAnAlert("'tags' must be a list of strings")
    return Alert(
        rule=rule,
        priority=priority,
        output=output,
        time=time_text,
        time_ns=parse_time(time_text),
        source=_optional_text(body, "source"),
        hostname=_optional_text(body, "hostname"),  # absent before Falco 0.39's http_output
        uuid=_optional_text(body, "uuid"),  # absent in Falco's own http_output
        tags=tuple(tags),
        fields=MappingProxyType(dict(fields)),
    )


def parse_time(text: str) -> int:
    """RFC 3339 with 0-9 fractional digits -> nanoseconds since the epoch (UTC)."""
    match = _TIME.fullmatch(text)
    if match is None:
        raise errors.NotAnAlert(f"'time' must be an RFC 3339 timestamp, found {text[:64]!r}")
    year, month, day, hour, minute, second, fraction, _, sign, offset_hours, offset_minutes = match.groups()
    month, day, hour, minute, second = int(month), int(day), int(hour), int(minute), int(second)
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise errors.NotAnAlert(f"'time' is not a valid instant: {text[:64]!r}")
    offset = 0
    if sign:
        offset = (int(offset_hours) * 60 + int(offset_minutes)) * 60
        offset = -offset if sign == "-" else offset
    seconds = calendar.timegm((int(year), month, day, hour, minute, second, 0, 0, 0)) - offset
    return seconds * 1_000_000_000 + int((fraction or "").ljust(9, "0"))


def _required_text(body: dict[str, object], key: str, *, allow_empty: bool = False) -> str:
    value = body.get(key)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise errors.NotAnAlert(f"'{key}' must be a non-empty string, found {_kind(value)}")
    return value


def _optional_text(body: dict[str, object], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise errors.NotAnAlert(f"'{key}' must be a string, found {_kind(value)}")
    return value


def _kind(value: object) -> str:
    """A JSON type name for error messages (never the value: it may be large or secret)."""
    if value is None:
        return "null (or nothing)"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string" if value else "an empty string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
