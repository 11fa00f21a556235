"""Exemptions (DESIGN §15) and provenance (§12), as pure decisions on live state.

Each bypass an attacker could try is a row: a label the requester wrote, a bootstrap-shaped
name, riposte's label on a foreign pod, a failed create, missing response fields. Each
legitimate exemption (namespace label, RIPOSTE_EXEMPT) is a row too. The same rules are
tried against the real apiserver in tests/integration/test_exemptions.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import alert as alert_model
from shared import config, errors
from shared.acting import exemptions, provenance, settings
from shared.acting.spec import Facts
from shared.priority import Priority
from shared.targets import Target
from tests.helpers import configmap_alert, shell_alert, sidekick

OWN = "riposte"


def load(**env: str) -> config.Settings:
    return config.load(
        "isolate-pod",
        rules=("R",),
        min_priority=Priority.DEBUG,
        declared=settings.RUNNER_SETTINGS,
        environ={"RIPOSTE_NAMESPACE": OWN, **env},
    )


def obj(
    kind: str, name: str, namespace: str | None = "shop", labels: dict[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": "u-1", "labels": labels or {}}
    if namespace:
        meta["namespace"] = namespace
    return {"kind": kind, "metadata": meta}


def facts(
    raw: dict[str, Any],
    live: dict[str, Any],
    *,
    namespace_labels: dict[str, str] | None = None,
    **env: str,
) -> Facts:
    meta = live["metadata"]
    target = Target(live["kind"], meta.get("namespace"), meta["name"])
    namespace = (
        {"metadata": {"name": target.namespace, "labels": namespace_labels or {}}}
        if target.namespace
        else None
    )
    return Facts(alert_model.parse(raw), target, live, namespace, {}, load(**env))


def privileged_pod_create(name: str = "web-1", **fields: object) -> dict[str, Any]:
    raw = sidekick("k8saudit_create_privileged_pod")
    raw["output_fields"].update({"ka.resp.name": name, "ka.target.namespace": "shop", "ka.verb": "create"})
    raw["output_fields"].update(fields)
    return raw


IGNORE = {"riposte.io/ignore": "true"}


def test_the_namespace_label_exempts_whatever_the_alert() -> None:
    reason = exemptions.exempt(facts(privileged_pod_create(), obj("Pod", "web-1"), namespace_labels=IGNORE))
    assert reason is not None and "namespace shop" in reason


def test_a_label_the_alerted_create_wrote_exempts_nothing() -> None:
    assert exemptions.exempt(facts(privileged_pod_create(), obj("Pod", "web-1", labels=IGNORE))) is None
    cm = configmap_alert("shop", "aws-creds")
    assert exemptions.exempt(facts(cm, obj("ConfigMap", "aws-creds", labels=IGNORE))) is None


def test_an_unknown_verb_counts_as_the_write_that_chose_the_labels() -> None:
    raw = privileged_pod_create()
    del raw["output_fields"]["ka.verb"]
    assert exemptions.exempt(facts(raw, obj("Pod", "web-1", labels=IGNORE))) is None


def test_a_syscall_alert_or_an_exec_honours_the_objects_own_label() -> None:
    assert exemptions.exempt(facts(shell_alert("shop", "web-1"), obj("Pod", "web-1", labels=IGNORE)))
    exec_alert = sidekick("k8saudit_attach_exec_pod")
    exec_alert["output_fields"].update({"ka.target.name": "web-1", "ka.verb": "create"})
    assert exemptions.exempt(facts(exec_alert, obj("Pod", "web-1", labels=IGNORE)))


@pytest.mark.parametrize(
    "labels",
    [{"app.kubernetes.io/part-of": "riposte"}, {"kubernetes.io/bootstrapping": "rbac-defaults"}],
)
def test_creator_chosen_labels_never_make_an_object_riposte_s_or_a_system_one(labels: dict[str, str]) -> None:
    assert exemptions.exempt(facts(shell_alert("shop", "web-1"), obj("Pod", "web-1", labels=labels))) is None


@pytest.mark.parametrize(
    ("kind", "name", "exempt"),
    [
        ("ClusterRoleBinding", "cluster-admin", True),
        ("ClusterRoleBinding", "kubeadm:cluster-admins", True),
        ("ClusterRole", "system:controller:namespace-controller", True),
        ("ClusterRoleBinding", "eks:addon-cluster-admin", True),
        ("ClusterRoleBinding", "system:x", False),  # shaped like one, not one
        ("ClusterRoleBinding", "system:masters-backdoor", False),
        ("ClusterRole", "cluster-admin2", False),
        ("ClusterRole", "eks:totally-legit", False),
    ],
)
def test_bootstrap_rbac_is_exempt_by_exact_name_only(kind: str, name: str, exempt: bool) -> None:
    raw = sidekick("k8saudit_attach_to_cluster_admin_role")
    assert (exemptions.exempt(facts(raw, obj(kind, name, namespace=None))) is not None) is exempt


def test_rbac_the_apiserver_itself_wrote_is_exempt() -> None:
    raw = sidekick("k8saudit_attach_to_cluster_admin_role")
    raw["output_fields"]["ka.user.name"] = "system:apiserver"
    assert exemptions.exempt(facts(raw, obj("ClusterRoleBinding", "some-binding", namespace=None)))


EXEMPT = json.dumps([
    {"kind": "Pod", "namespace": "shop", "name": "payments-0"},
    {"kind": "Pod", "selector": {"matchLabels": {"app": "vault"}}},
    {"kind": "ClusterRoleBinding", "name": "ci-admin"},
])  # fmt: skip


def test_riposte_exempt_names_hold_for_every_alert() -> None:
    assert exemptions.exempt(
        facts(privileged_pod_create("payments-0"), obj("Pod", "payments-0"), RIPOSTE_EXEMPT=EXEMPT)
    )
    raw = sidekick("k8saudit_attach_to_cluster_admin_role")
    assert exemptions.exempt(facts(raw, obj("ClusterRoleBinding", "ci-admin", None), RIPOSTE_EXEMPT=EXEMPT))
    assert not exemptions.exempt(
        facts(raw, obj("ClusterRoleBinding", "ci-admin2", None), RIPOSTE_EXEMPT=EXEMPT)
    )
    other_namespace = obj("Pod", "payments-0", namespace="other")
    assert not exemptions.exempt(
        facts(shell_alert("other", "payments-0"), other_namespace, RIPOSTE_EXEMPT=EXEMPT)
    )


def test_riposte_exempt_selectors_hold_only_where_labels_are_trusted() -> None:
    vault = obj("Pod", "vault-0", labels={"app": "vault"})
    assert exemptions.exempt(facts(shell_alert("shop", "vault-0"), vault, RIPOSTE_EXEMPT=EXEMPT))
    created = privileged_pod_create("vault-0")
    assert exemptions.exempt(facts(created, vault, RIPOSTE_EXEMPT=EXEMPT)) is None


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"kind": "Pod"}',
        '[{"kind": "Widget", "name": "x"}]',
        '[{"kind": "Pod", "name": "web"}]',  # a namespaced name needs its namespace
        '[{"kind": "Pod"}]',
        '[{"kind": "ClusterRole", "namespace": "shop", "name": "x"}]',
        '[{"kind": "Pod", "selector": {"matchLabels": {"app": 1}}}]',
        '[{"kind": "Pod", "selector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}]',
        '[{"kind": "Pod", "selector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}]',
        '[{"kind": "Pod", "namespace": "shop", "name": "a/b"}]',
        '[{"kind": "Pod", "nmae": "typo"}]',
    ],
)
def test_a_bad_riposte_exempt_refuses_to_start(value: str) -> None:
    with pytest.raises(errors.ConfigError, match="RIPOSTE_EXEMPT"):
        load(RIPOSTE_EXEMPT=value)


# -- provenance --------------------------------------------------------------------------

CREATES = ("Create Privileged Pod",)


@pytest.mark.parametrize(
    ("fields", "refused", "says"),
    [
        ({"ka.response.code": "201", "ka.resp.uid": "u-1"}, False, ""),
        ({"ka.response.code": "409", "ka.resp.uid": "u-1"}, True, "failed (409)"),
        ({"ka.response.code": "403"}, True, "failed (403)"),
        ({"ka.resp.uid": "u-1"}, True, "ka.response.code"),
        ({"ka.response.code": "201"}, True, "ka.resp.uid"),
        ({"ka.response.code": "<NA>", "ka.resp.uid": "u-1"}, True, "ka.response.code"),
        ({"ka.response.code": "two hundred", "ka.resp.uid": "u-1"}, True, "not a status code"),
    ],
)
def test_an_alert_about_a_failed_or_unknown_request_is_refused(
    fields: dict[str, str], refused: bool, says: str
) -> None:
    reason = provenance.request_failed(alert_model.parse(privileged_pod_create(**fields)), creates=CREATES)
    assert (reason is not None) is refused
    assert says in (reason or "")


def test_an_exec_stream_that_started_is_a_success_and_a_denied_one_is_not() -> None:
    raw = sidekick("k8saudit_attach_exec_pod")
    raw["output_fields"]["ka.response.code"] = "101"
    assert provenance.request_failed(alert_model.parse(raw), creates=CREATES) is None
    raw["output_fields"]["ka.response.code"] = "403"
    assert provenance.request_failed(alert_model.parse(raw), creates=CREATES)
    raw["output_fields"]["ka.target.subresource"] = None  # 101 means nothing without a stream
    raw["output_fields"]["ka.response.code"] = "101"
    assert provenance.request_failed(alert_model.parse(raw), creates=CREATES)


def test_syscall_alerts_carry_no_request_to_check() -> None:
    assert provenance.request_failed(alert_model.parse(shell_alert("shop", "web-1")), creates=CREATES) is None


def test_the_live_object_must_be_the_one_the_request_made_or_falco_saw() -> None:
    created = alert_model.parse(privileged_pod_create(**{"ka.response.code": "201", "ka.resp.uid": "u-old"}))
    target = Target("Pod", "shop", "web-1")
    assert provenance.not_the_object(created, target, obj("Pod", "web-1"))  # live uid u-1
    assert (
        provenance.not_the_object(
            alert_model.parse(privileged_pod_create(**{"ka.resp.uid": "u-1"})), target, obj("Pod", "web-1")
        )
        is None
    )
    shell = shell_alert("shop", "web-1")
    shell["output_fields"]["k8s.pod.uid"] = "u-old"
    assert provenance.not_the_object(alert_model.parse(shell), target, obj("Pod", "web-1"))
    shell["output_fields"]["k8s.pod.uid"] = "u-1"
    assert provenance.not_the_object(alert_model.parse(shell), target, obj("Pod", "web-1")) is None
