"""notify's input from the other functions: a `riposte.action.v1` event's data, validated.

The data is built by the real shared.action.event() and round-tripped through its
binary-mode encoding; every malformed variant is a 400 (NotAResult) naming the field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import action, errors
from shared.action import Outcome
from shared.intake import Delivery
from shared.priority import Priority
from shared.targets import Target
from tests.helpers import CONFIGMAP_RULE, action_result, configmap_alert
from tests.helpers import result_event as encoded

SEED = configmap_alert("shop", "aws-creds", identity="c4d5e6f7-0819-4a2b-9c3d-4e5f6a7b8c9d")


def result_event(
    result: Outcome = Outcome.ACTED,
    reason: str = "deleted; copy kept in riposte/riposte-cm-1",
    **details: object,
) -> tuple[dict[str, str], dict[str, Any]]:
    made = action_result(
        SEED, target=Target("ConfigMap", "shop", "aws-creds"), outcome=result, reason=reason, **details
    )
    headers, body = encoded(made)
    return headers, json.loads(body)


def delivery(data: dict[str, Any], event_id: str = "e-1") -> Delivery:
    return Delivery(
        mode="cloudevents-binary", body=data, attributes={"id": event_id, "type": action.EVENT_TYPE}
    )


def test_a_real_result_event_parses_with_every_field() -> None:
    headers, data = result_event(copy="riposte/riposte-cm-1", credential_keys=["aws_access_key_id"])
    parsed = action.parse(delivery(data, headers["ce-id"]))
    assert parsed.id == headers["ce-id"]
    assert parsed.function == "delete-configmap"
    assert parsed.action == "delete-configmap"
    assert parsed.target == Target("ConfigMap", "shop", "aws-creds")
    assert parsed.outcome is Outcome.ACTED
    assert parsed.reason.startswith("deleted; copy kept")
    assert parsed.dry_run is False
    assert parsed.duration_ms == 12
    assert parsed.alert.uuid == parsed.alert.identity == SEED["uuid"]
    assert parsed.alert.reference == SEED["uuid"]
    assert parsed.alert.rule == CONFIGMAP_RULE
    assert parsed.alert.priority is Priority.WARNING
    assert parsed.alert.hostname == SEED["hostname"]
    assert dict(parsed.details) == {"copy": "riposte/riposte-cm-1", "credential_keys": ["aws_access_key_id"]}


def test_an_alert_without_uuid_is_referenced_by_its_identity() -> None:
    _, data = result_event()
    data["uuid"] = None
    data["identity"] = "sha256:abc"
    assert action.parse(delivery(data)).alert.reference == "sha256:abc"


def test_the_output_is_redacted_again_on_the_way_in() -> None:
    _, data = result_event()
    data["output"] = 'legacy rule config={"aws_access_key_id":"AKES20LNOA"}'
    assert "AKES20LNOA" not in action.parse(delivery(data)).alert.output


BROKEN = [
    # (case, change to the data, field named in the error)
    ("target missing", {"target": None}, "target"),
    ("target a string", {"target": "shop/configmap/aws-creds"}, "target"),
    (
        "target name a number",
        {"target": {"kind": "ConfigMap", "namespace": "shop", "name": 5}},
        "target.name",
    ),
    ("target kind empty", {"target": {"kind": "", "namespace": "shop", "name": "x"}}, "target.kind"),
    ("unknown outcome", {"outcome": "exploded"}, "outcome"),
    ("outcome a number", {"outcome": 1}, "outcome"),
    ("unknown priority", {"priority": "Loud"}, "priority"),
    ("dry_run a string", {"dry_run": "false"}, "dry_run"),
    ("dry_run missing", {"dry_run": None}, "dry_run"),
    ("duration_ms a string", {"duration_ms": "12"}, "duration_ms"),
    ("duration_ms a boolean", {"duration_ms": True}, "duration_ms"),
    ("rule missing", {"rule": None}, "rule"),
    ("identity a list", {"identity": ["x"]}, "identity"),
    ("function empty", {"function": ""}, "function"),
    ("reason a number", {"reason": 3}, "reason"),
    ("uuid a number", {"uuid": 7}, "uuid"),
    ("output an object", {"output": {}}, "output"),
]


@pytest.mark.parametrize(("case", "change", "field"), BROKEN, ids=[row[0] for row in BROKEN])
def test_a_malformed_result_is_a_400_naming_the_field(
    case: str, change: dict[str, object], field: str
) -> None:
    _, data = result_event()
    data.update(change)
    with pytest.raises(errors.NotAResult) as raised:
        action.parse(delivery(data))
    assert raised.value.status == 400
    assert f"'{field}'" in raised.value.message


def test_the_error_never_echoes_the_value() -> None:
    _, data = result_event()
    data["outcome"] = {"secret": "AKES20LNOA"}
    with pytest.raises(errors.NotAResult) as raised:
        action.parse(delivery(data))
    assert "AKES20LNOA" not in raised.value.message
