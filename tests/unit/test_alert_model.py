"""The alert model: every captured Falco/Falcosidekick layout parses to the same Alert.

Covers: all fixtures (Falcosidekick payloads, Falco >= 0.39 http_output, a Falco <= 0.38
body built by splicing output_fields after time, as that Falco wrote it), absent values,
priority order, both time forms, identity. Alerts are attacker-influenced JSON: wrong
types must end in NotAnAlert with a message naming the field, never another exception.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared import alert as alert_model
from shared import errors
from shared.priority import Priority
from tests.helpers import FALCO, SIDEKICK, sidekick

SIDEKICK_FILES = sorted(SIDEKICK.glob("*.json"))
FALCO_FILES = sorted(FALCO.glob("*.json"))


@pytest.mark.parametrize("path", SIDEKICK_FILES, ids=lambda p: p.stem)
def test_every_falcosidekick_fixture_parses(path: Path) -> None:
    body = json.loads(path.read_bytes())
    alert = alert_model.parse(body)
    assert alert.rule == body["rule"]
    assert alert.uuid == body["uuid"]
    assert alert.identity == body["uuid"]
    assert alert.priority.label == body["priority"]


@pytest.mark.parametrize("path", FALCO_FILES, ids=lambda p: p.stem)
def test_every_falco_http_output_fixture_parses_and_matches_its_sidekick_twin(path: Path) -> None:
    alert = alert_model.parse(json.loads(path.read_bytes()))
    twin = alert_model.parse(json.loads((SIDEKICK / path.name).read_bytes()))
    assert alert.uuid is None
    assert alert.identity.startswith("sha256:")
    assert (alert.rule, alert.priority, alert.output, alert.source) == (
        twin.rule,
        twin.priority,
        twin.output,
        twin.source,
    )
    # Go trims trailing zeros, Falco writes nine digits: the same instant either way.
    assert alert.time_ns == twin.time_ns
    assert dict(alert.fields) == dict(twin.fields)


def test_falco_038_layout_with_spliced_output_fields_parses() -> None:
    # Falco <= 0.38 appended `, "output_fields": {...}` as text after the time.
    modern = (FALCO / "syscall_terminal_shell_in_container.json").read_text()
    body = json.loads(modern)
    fields = json.dumps(body.pop("output_fields"))
    body.pop("hostname")  # tolerated: not every old sender wrote it
    text = json.dumps(body, sort_keys=True)[:-1] + f', "output_fields": {fields}}}'
    old = alert_model.parse(json.loads(text))
    new = alert_model.parse(json.loads(modern))
    assert old.hostname is None
    assert old.value("k8s.pod.name") == "web-7c5d8f9b6d-x2lqp"
    assert old.identity == new.identity


def test_identity_is_stable_across_time_forms_without_uuid() -> None:
    base = sidekick("k8saudit_secret_created")
    base.pop("uuid")
    trimmed = dict(base, time="2026-07-14T10:00:00.5Z")
    padded = dict(base, time="2026-07-14T10:00:00.500000000Z")
    offset = dict(base, time="2026-07-14T12:00:00.5+02:00")
    identities = {alert_model.parse(b).identity for b in (trimmed, padded, offset)}
    assert len(identities) == 1
    assert alert_model.parse(dict(base, output="other")).identity not in identities


@pytest.mark.parametrize(
    ("text", "expected_ns"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:01.73452Z", 1_734_520_000),
        ("1970-01-01T00:00:01.000000001Z", 1_000_000_001),
        ("1970-01-01T01:00:00+01:00", 0),
    ],
)
def test_time_parses_go_trimmed_and_nine_digit_forms(text: str, expected_ns: int) -> None:
    assert alert_model.parse_time(text) == expected_ns


@pytest.mark.parametrize(
    "text",
    ["yesterday", "2026-07-14 10:00:00Z", "2026-13-01T00:00:00Z", "2026-07-14T10:00:00.1234567890Z", ""],
)
def test_bad_time_is_not_an_alert(text: str) -> None:
    with pytest.raises(errors.NotAnAlert, match="time"):
        alert_model.parse_time(text)


def test_null_and_na_fields_are_absent() -> None:
    body = sidekick("syscall_terminal_shell_in_container")
    body["output_fields"]["k8s.pod.name"] = "<NA>"
    body["output_fields"]["k8s.ns.name"] = None
    alert = alert_model.parse(body)
    assert alert.value("k8s.pod.name") is None
    assert alert.value("k8s.ns.name") is None
    assert alert.value("not.there") is None
    assert alert.value("proc.tty") == 34816


def test_priorities_are_ordered_and_info_is_informational() -> None:
    assert Priority.DEBUG < Priority.INFORMATIONAL < Priority.NOTICE < Priority.WARNING
    assert Priority.WARNING < Priority.ERROR < Priority.CRITICAL < Priority.ALERT < Priority.EMERGENCY
    assert Priority.parse("INFO") is Priority.INFORMATIONAL
    informational = Priority.parse("Informational")
    assert informational is not None
    assert informational.label == "Informational"
    assert Priority.parse("warning") is Priority.WARNING
    assert Priority.parse("severe") is None


def test_falcosidekick_test_event_is_recognised() -> None:
    assert alert_model.parse(sidekick("test_event")).is_test


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rule": 42}, "rule"),
        ({"rule": ""}, "rule"),
        ({"rule": None}, "rule"),
        ({"priority": "Severe"}, "priority"),
        ({"priority": 3}, "priority"),
        ({"output_fields": ["k8s.pod.name"]}, "output_fields"),
        ({"output_fields": None}, "output_fields"),
        ({"output": {"text": "x"}}, "output"),
        ({"time": 1784022750}, "time"),
        ({"tags": "k8s"}, "tags"),
        ({"hostname": 7}, "hostname"),
        ({"uuid": []}, "uuid"),
    ],
)
def test_wrong_types_are_not_an_alert_and_name_the_field(change: dict[str, object], field: str) -> None:
    body = sidekick("k8saudit_configmap_with_private_credentials")
    body.update(change)
    with pytest.raises(errors.NotAnAlert, match=field):
        alert_model.parse(body)


@pytest.mark.parametrize("body", [[], "alert", 3, None])
def test_a_non_object_is_not_an_alert(body: object) -> None:
    with pytest.raises(errors.NotAnAlert, match="JSON object"):
        alert_model.parse(body)
