"""revert-object's own logic, without a cluster: its targets, the rules' conditions as it
re-checks them on the live object, and what its verify plans, refuses or settles.

The story around them (provenance, exemptions, copies, Events) is the runner's, tested
through the function over HTTP in tests/integration/test_revert_object.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared import alert as alert_model
from shared import errors
from shared.acting import runner
from shared.acting.spec import Facts, Plan, Refusal, Settled
from shared.action import Outcome
from shared.targets import Target
from tests.helpers import load_function, sidekick

revert = load_function("revert-object")


def alert(rule: str, **fields: Any) -> alert_model.Alert:
    body = sidekick("k8saudit_attach_to_cluster_admin_role")
    body["rule"] = rule
    body["output_fields"].update(fields)
    return alert_model.parse(body)


@pytest.mark.parametrize(
    ("rule", "fields", "expected"),
    [
        (
            revert.CLUSTER_ADMIN,
            {"ka.target.name": "system:ci"},
            Target("ClusterRoleBinding", None, "system:ci"),
        ),
        (  # Falco prints an empty namespace for cluster-scoped objects: ignored
            revert.CLUSTER_ADMIN,
            {"ka.target.name": "ci", "ka.target.namespace": "", "ka.target.resource": "clusterrolebindings"},
            Target("ClusterRoleBinding", None, "ci"),
        ),
        (
            revert.WILDCARD,
            {"ka.target.name": "Ops:All", "ka.target.resource": "clusterroles"},
            Target("ClusterRole", None, "Ops:All"),
        ),
        (
            revert.POD_EXEC,
            {"ka.target.name": "debug", "ka.target.resource": "roles", "ka.target.namespace": "shop"},
            Target("Role", "shop", "debug"),
        ),
        (
            revert.NODEPORT,
            {"ka.target.name": "web", "ka.target.namespace": "shop"},
            Target("Service", "shop", "web"),
        ),
    ],
)
def test_each_rule_names_its_object(rule: str, fields: dict[str, Any], expected: Target) -> None:
    assert revert.target(alert(rule, **fields)) == expected


@pytest.mark.parametrize(
    ("rule", "fields", "field"),
    [
        (revert.WILDCARD, {"ka.target.name": "ops"}, "ka.target.resource"),  # Role or ClusterRole?
        (revert.CLUSTER_ADMIN, {"ka.target.name": "ci", "ka.target.resource": "roles"}, "ka.target.resource"),
        (revert.WILDCARD, {"ka.target.name": "a/b", "ka.target.resource": "clusterroles"}, "ka.target.name"),
        (revert.WILDCARD, {"ka.target.name": "..", "ka.target.resource": "clusterroles"}, "ka.target.name"),
        (revert.POD_EXEC, {"ka.target.name": "x", "ka.target.resource": "roles"}, "ka.target.namespace"),
        (revert.NODEPORT, {"ka.target.name": "Web", "ka.target.namespace": "shop"}, "ka.target.name"),
        (revert.NODEPORT, {"ka.target.name": "web", "ka.target.namespace": "../x"}, "ka.target.namespace"),
        (revert.CLUSTER_ADMIN, {"ka.target.name": None}, "ka.target.name"),
        (revert.CLUSTER_ADMIN, {"ka.target.name": ["ci"]}, "ka.target.name"),
    ],
)
def test_an_alert_without_a_valid_object_is_422_naming_the_field(
    rule: str, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(errors.InvalidTarget) as raised:
        revert.target(alert(rule, **fields))
    assert field in str(raised.value)


@pytest.mark.parametrize(
    ("rules", "found"),
    [
        ([{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}], ["rules[0].resources"]),
        ([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}], ["rules[0].verbs"]),
        ([{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}], []),  # Falco tests these two only
        ([{"nonResourceURLs": ["/metrics"], "verbs": ["*"]}], ["rules[0].verbs"]),
        ([], []),
    ],
)
def test_the_wildcard_check_is_falcos(rules: list[dict[str, Any]], found: list[str]) -> None:
    assert revert.wildcards({"rules": rules}) == found


@pytest.mark.parametrize(
    ("rule", "grants"),
    [
        ({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}, True),
        ({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]}, True),  # WebSocket, < 1.35
        ({"apiGroups": ["*"], "resources": ["*/exec"], "verbs": ["*"]}, True),
        ({"apiGroups": [""], "resources": ["*"], "verbs": ["create"]}, True),
        ({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["list", "watch"]}, False),
        ({"apiGroups": ["apps"], "resources": ["pods/exec"], "verbs": ["create"]}, False),
        ({"apiGroups": [""], "resources": ["pods/*"], "verbs": ["create"]}, False),  # RBAC matches no such
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}, False),
    ],
)
def test_the_exec_check_follows_rbacs_own_matching(rule: dict[str, Any], grants: bool) -> None:
    assert bool(revert.exec_grants({"rules": [rule]})) is grants


def role(kind: str = "ClusterRole", namespace: str | None = None, **meta: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": "ops", "namespace": namespace, "uid": "u-1", "resourceVersion": "7", **meta},
        "rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}],
    }


def binding(name: str, ref_kind: str, namespace: str | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": "ops"},
    }


def test_the_bindings_still_referencing_a_role_are_named() -> None:
    cluster = [binding("a", "ClusterRole"), binding("b", "Role")]
    namespaced = [
        binding("c", "ClusterRole", "shop"),
        binding("d", "Role", "shop"),
        binding("e", "Role", "other"),
    ]
    assert revert.referencing(role(), cluster, namespaced) == ["clusterrolebinding/a", "shop/rolebinding/c"]
    assert revert.referencing(role("Role", "shop"), [], namespaced) == ["shop/rolebinding/d"]


def test_only_a_cluster_roles_aggregate_labels_are_named() -> None:
    labels = {"rbac.authorization.k8s.io/aggregate-to-admin": "true", "app": "x"}
    assert revert.aggregated(role(labels=labels)) == ["rbac.authorization.k8s.io/aggregate-to-admin"]
    assert revert.aggregated(role("Role", "shop", labels=labels)) == []


def facts(rule: str, target: Target, live: dict[str, Any], **extra: Any) -> Facts:
    settings = runner.load_settings(revert.SPEC, {"RIPOSTE_NAMESPACE": "riposte"})
    reads = {"cluster_bindings": [], "role_bindings": [], **extra}
    return Facts(alert(rule), target, live, None, reads, settings)


def service(kind: str, **annotations: str) -> dict[str, Any]:
    meta = {
        "name": "web",
        "namespace": "shop",
        "uid": "u-2",
        "resourceVersion": "9",
        "annotations": annotations,
    }
    return {"kind": "Service", "metadata": meta, "spec": {"type": kind}}


def test_verify_plans_a_delete_saying_what_it_leaves_behind() -> None:
    owned = role(ownerReferences=[{"kind": "HelmRelease", "name": "ops", "uid": "o-1"}])
    verdict = revert.verify(
        facts(
            revert.WILDCARD,
            Target("ClusterRole", None, "ops"),
            owned,
            cluster_bindings=[binding("a", "ClusterRole")],
        )
    )
    assert isinstance(verdict, Plan)
    assert verdict.details["still_bound"] == ["clusterrolebinding/a"]
    assert verdict.details["owners"] == ["HelmRelease/ops"]
    assert "delete the ClusterRole" in verdict.describe and "HelmRelease/ops" in verdict.describe


def test_verify_settles_a_service_riposte_reverted_and_refuses_one_its_owner_changed() -> None:
    target = Target("Service", "shop", "web")
    ours = revert.verify(
        facts(revert.NODEPORT, target, service("ClusterIP", **{revert.REVERTED_FROM: "NodePort"}))
    )
    assert isinstance(ours, Settled) and ours.outcome is Outcome.ALREADY_DONE
    theirs = revert.verify(facts(revert.NODEPORT, target, service("ClusterIP")))
    assert isinstance(theirs, Refusal) and "now ClusterIP" in theirs.reason
    forged = revert.verify(
        facts(revert.NODEPORT, target, service("NodePort", **{revert.REVERTED_FROM: "NodePort"}))
    )
    assert isinstance(forged, Plan)  # the annotation never exempts a NodePort Service


def test_verify_refuses_a_rule_it_has_no_check_for() -> None:
    verdict = revert.verify(facts("K8s Role Created", Target("Role", "shop", "ops"), role("Role", "shop")))
    assert isinstance(verdict, Refusal) and "no live check" in verdict.reason
