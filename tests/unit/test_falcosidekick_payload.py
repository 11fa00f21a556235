"""The Falco payload of each result (shared/notify/falcosidekick.py) passes Falcosidekick's
and Falcosidekick-UI's checks, whatever the result's text holds."""

from __future__ import annotations

import datetime
import json

import pytest

from shared import alert as alert_model
from shared import policy
from shared.action import Outcome
from shared.notify import falcosidekick, messages
from shared.targets import Target
from tests.helpers import action_result, configmap_alert
from tests.integration.fakesidekick import sidekick_check, ui_check


@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_makes_a_payload_falcosidekick_accepts(outcome: Outcome) -> None:
    raw = configmap_alert("shop", "aws-creds")
    raw["hostname"] = "nœud-\x07-1"
    result = action_result(
        raw, target=Target("ConfigMap", "shop", "aws-creds"), outcome=outcome, reason="gelöscht\nnow\t✓"
    )
    payload = falcosidekick.payload(messages.for_result(result))
    assert sidekick_check(json.dumps(payload).encode()) is None
    assert ui_check(payload) is None
    assert payload["source"] == policy.RIPOSTE_SOURCE
    assert payload["rule"] == f"riposte delete-configmap {outcome}"
    assert payload["priority"] == falcosidekick.PRIORITIES[outcome]
    assert payload["output_fields"]["riposte.reason"] == "gel\\xf6scht?now?\\u2713"


def test_a_cluster_scoped_target_is_named_without_a_namespace() -> None:
    result = action_result(configmap_alert("shop", "x"), target=Target("ClusterRoleBinding", None, "evil"))
    payload = falcosidekick.payload(messages.for_result(result))
    assert payload["output_fields"]["riposte.target"] == "ClusterRoleBinding/evil"


def test_the_time_is_rfc_3339_utc() -> None:
    moment = datetime.datetime(2026, 12, 3, 8, 0, 1, 123456, tzinfo=datetime.UTC)
    result = action_result(configmap_alert("shop", "x"), target=Target("ConfigMap", "shop", "x"))
    assert (
        falcosidekick.payload(messages.for_result(result), now=moment)["time"]
        == "2026-12-03T08:00:01.123456Z"
    )


def test_alerts_are_never_sent_there() -> None:
    with pytest.raises(ValueError, match="only results"):
        falcosidekick.payload(messages.for_alert(alert_model.parse(configmap_alert("shop", "x"))))


def test_riposte_s_own_results_never_match_a_function() -> None:
    from shared import config
    from shared.priority import Priority

    back = configmap_alert("shop", "x")
    back["source"] = "riposte"
    settings = config.load("notify", rules=(), min_priority=Priority.DEBUG, environ={})
    assert not policy.matches(settings, alert_model.parse(back))
