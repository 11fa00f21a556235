"""Each acting function's own logic, without a cluster: what its main.py adds to the runner.

delete-configmap: the rule's credential test. isolate-pod: the quarantine policy, when an
existing one is riposte's, the verdict (partial when other policies still allow traffic),
and its verify on live state. label-pod: the label value, and its refusal to start without
rules. The story around them (guards, budget, Events) is the runner's, tested through the
functions over HTTP in tests/integration.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared import alert as alert_model
from shared import config, errors
from shared.acting import runner
from shared.acting.spec import Facts, Plan, Refusal, Settled
from shared.action import Outcome
from shared.priority import Priority
from shared.targets import Target
from tests.helpers import load_function, shell_alert

delete_configmap = load_function("delete-configmap")
isolate_pod = load_function("isolate-pod")
label_pod = load_function("label-pod")


@pytest.mark.parametrize(
    ("data", "binary", "keys"),
    [
        ({"aws_access_key_id": "x"}, {}, ["aws_access_key_id"]),
        ({"note": "my password is x"}, {}, ["note"]),  # in a value
        ({"PASSWORD": "x"}, {}, []),  # case-sensitive, as Falco's rule
        ({"a": "b"}, {"db-passphrase": "eA=="}, ["db-passphrase"]),  # binaryData keys only
        ({"a": "b"}, {"x": "cGFzc3dvcmQ="}, []),  # never decodes binary values
        ({}, {}, []),
    ],
)
def test_the_credential_test_is_falcos(data: dict[str, str], binary: dict[str, str], keys: list[str]) -> None:
    assert delete_configmap.credential_keys({"data": data, "binaryData": binary}) == keys


def pod(labels: dict[str, str] | None = None, host_network: bool = False) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1", "labels": labels or {}},
        "spec": {"hostNetwork": host_network},
    }


def settings(**env: str) -> config.Settings:
    return runner.load_settings(isolate_pod.SPEC, {"RIPOSTE_NAMESPACE": "riposte", **env})


def isolate_facts(live: dict[str, Any], policies: list[dict[str, Any]], **env: str) -> Facts:
    alert = alert_model.parse(shell_alert("shop", "web-1"))
    return Facts(alert, Target("Pod", "shop", "web-1"), live, None, {"policies": policies}, settings(**env))


def test_the_quarantine_selects_only_that_pods_uid_and_allows_nothing() -> None:
    policy = isolate_pod.quarantine_policy(pod(), allow_dns=False)
    assert policy["metadata"]["name"] == "riposte-quarantine-u-1"
    assert policy["spec"] == {
        "podSelector": {"matchLabels": {"riposte.io/quarantine": "u-1"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [],
        "egress": [],
    }
    [owner] = policy["metadata"]["ownerReferences"]
    assert owner == {"apiVersion": "v1", "kind": "Pod", "name": "web-1", "uid": "u-1"}


def test_the_dns_option_allows_port_53_to_kube_dns_only() -> None:
    [rule] = isolate_pod.quarantine_policy(pod(), allow_dns=True)["spec"]["egress"]
    assert rule["to"] == [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}


def test_a_policy_of_the_quarantines_name_is_ours_only_if_it_allows_nothing() -> None:
    wanted = isolate_pod.quarantine_policy(pod(), allow_dns=False)
    assert isolate_pod.is_ours(wanted, wanted, allow_dns=False)
    foreign = {**wanted, "spec": {**wanted["spec"], "ingress": [{}]}}
    assert not isolate_pod.is_ours(foreign, wanted, allow_dns=False)
    unlabelled = {**wanted, "metadata": {**wanted["metadata"], "labels": {}}}
    assert not isolate_pod.is_ours(unlabelled, wanted, allow_dns=False)


@pytest.mark.parametrize(
    ("labelled", "created", "others", "outcome", "says"),
    [
        (False, True, {}, Outcome.ACTED, "all ingress and egress denied"),
        (True, True, {}, Outcome.ACTED, "re-created"),
        (True, False, {}, Outcome.ALREADY_DONE, "already isolated"),
        (False, True, {"allow-web": ["Ingress"]}, Outcome.PARTIAL, "allow-web (ingress)"),
        (
            True,
            False,
            {"b": ["Egress"], "a": ["Ingress", "Egress"]},
            Outcome.PARTIAL,
            "a (ingress/egress), b",
        ),
    ],
)
def test_the_verdict(
    labelled: bool, created: bool, others: dict[str, list[str]], outcome: Outcome, says: str
) -> None:
    got, reason = isolate_pod.verdict(labelled=labelled, created=created, others=others, allow_dns=False)
    assert got is outcome and says in reason


def test_isolate_verify_refuses_host_network_pods() -> None:
    verdict = isolate_pod.verify(isolate_facts(pod(host_network=True), []))
    assert isinstance(verdict, Refusal) and "hostNetwork" in verdict.reason


def test_isolate_verify_plans_both_halves_for_a_fresh_pod() -> None:
    verdict = isolate_pod.verify(isolate_facts(pod(), []))
    assert isinstance(verdict, Plan)
    assert verdict.cooldown == "pod/u-1" and not verdict.data.labelled and verdict.data.existing is None


def test_isolate_verify_settles_an_isolated_pod_without_spending() -> None:
    policy = isolate_pod.quarantine_policy(pod(), allow_dns=False)
    verdict = isolate_pod.verify(isolate_facts(pod({"riposte.io/quarantine": "u-1"}), [policy]))
    assert isinstance(verdict, Settled) and verdict.outcome is Outcome.ALREADY_DONE


def test_isolate_verify_plans_the_policy_again_when_only_the_label_is_left() -> None:
    verdict = isolate_pod.verify(isolate_facts(pod({"riposte.io/quarantine": "u-1"}), []))
    assert isinstance(verdict, Plan) and verdict.data.labelled and verdict.data.existing is None


@pytest.mark.parametrize(
    ("rule", "slug"),
    [
        ("Terminal shell in container", "terminal-shell-in-container"),
        (
            "Create/Modify Configmap With Private Credentials",
            "create-modify-configmap-with-private-credentials",
        ),
        (
            "Redirect STDOUT/STDIN to Network Connection in Container",
            "redirect-stdout-stdin-to-network-connection-in-container",
        ),
        ("!!!", "rule"),
        ("A" * 100, "a" * 63),
    ],
)
def test_label_pod_slugs_the_rule_into_a_label_value(rule: str, slug: str) -> None:
    assert label_pod.rule_slug(rule) == slug
    assert len(slug) <= 63


def test_label_pod_refuses_to_start_without_rules() -> None:
    with pytest.raises(errors.ConfigError, match="RIPOSTE_RULES"):
        runner.load_settings(label_pod.SPEC, {})
    started = runner.load_settings(label_pod.SPEC, {"RIPOSTE_RULES": '["Terminal shell in container"]'})
    assert started.rules == {"Terminal shell in container"} and started.min_priority is Priority.DEBUG
