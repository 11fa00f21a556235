"""Targets: the ConfigMap an alert names; a bad or missing name is a 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from shared import alert as alert_model
from shared import errors, names, targets
from tests.helpers import configmap_alert, sidekick


def target_of(namespace: Any, name: Any, **fields: Any) -> targets.Target:
    body = configmap_alert(namespace, "placeholder")
    body["output_fields"]["ka.req.configmap.name"] = name
    body["output_fields"].update(fields)
    return targets.configmap(alert_model.parse(body))


def test_seed_target() -> None:
    target = target_of("shop", "aws-creds")
    assert (target.kind, target.namespace, target.name) == ("ConfigMap", "shop", "aws-creds")
    assert target.subject == "shop/configmap/aws-creds"


def test_ka_target_name_wins_over_the_rule_field() -> None:
    assert target_of("shop", "aws-creds", **{"ka.target.name": "other"}).name == "other"


@pytest.mark.parametrize("missing", [None, "<NA>"])
def test_missing_namespace_is_422_naming_the_field_never_a_guess(missing: str | None) -> None:
    with pytest.raises(errors.InvalidTarget, match=r"ka\.target\.namespace.*missing"):
        target_of(missing, "aws-creds")


@pytest.mark.parametrize(
    "name",
    [
        "../secrets",
        "a/b",
        "AWS-creds",
        "x" * 254,
        "\u0430ws-creds",
        "aws%2Fcreds",
        "-lead",
        "trail-",
        "a b",
        "a\nb",
        "",
    ],
)
def test_invalid_configmap_names_are_422(name: str) -> None:
    with pytest.raises(errors.InvalidTarget, match=r"ka\.req\.configmap\.name"):
        target_of("shop", name)


@pytest.mark.parametrize("namespace", ["Shop", "shop.prod", "x" * 64, "../kube-system", 7])
def test_invalid_namespaces_are_422(namespace: object) -> None:
    with pytest.raises(errors.InvalidTarget, match=r"ka\.target\.namespace"):
        target_of(namespace, "aws-creds")


def test_a_non_configmap_resource_is_422() -> None:
    with pytest.raises(errors.InvalidTarget, match=r"ka\.target\.resource"):
        target_of("shop", "aws-creds", **{"ka.target.resource": "secrets"})


def test_name_rules_match_kubernetes() -> None:
    assert names.is_dns_subdomain("a" * 253) and not names.is_dns_subdomain("a" * 254)
    assert names.is_dns_label("a" * 63) and not names.is_dns_label("a" * 64)
    assert names.is_dns_subdomain("my.config-1")
    assert not names.is_dns_label("my.config")


def pod_target(fixture: str, **fields: Any) -> targets.Target:
    body = sidekick(fixture)
    body["output_fields"].update(fields)
    return targets.pod(alert_model.parse(body))


@pytest.mark.parametrize(
    ("fixture", "namespace", "name"),
    [
        ("syscall_terminal_shell_in_container", "shop", "web-7c5d8f9b6d-x2lqp"),
        ("syscall_drop_and_execute_new_binary_in_container", "shop", "web-7c5d8f9b6d-x2lqp"),
        ("k8saudit_attach_exec_pod", "shop", "web-7c5d8f9b6d-x2lqp"),
        ("k8saudit_create_privileged_pod", "shop", "debug-tools-6f9c7b8d5-kq2mz"),
        ("k8saudit_create_sensitive_mount_pod", "default", "node-debugger"),
    ],
)
def test_pod_targets_of_every_pod_alert_shape(fixture: str, namespace: str, name: str) -> None:
    target = pod_target(fixture)
    assert (target.kind, target.namespace, target.name) == ("Pod", namespace, name)


@pytest.mark.parametrize(
    ("fixture", "field"),
    [
        ("syscall_terminal_shell_in_container", "k8s.pod.name"),
        ("syscall_terminal_shell_in_container", "k8s.ns.name"),
        ("k8saudit_attach_exec_pod", "ka.target.namespace"),
    ],
)
@pytest.mark.parametrize("value", [None, "<NA>", "../etc", "Web", 5])
def test_bad_pod_fields_are_422_naming_the_field(fixture: str, field: str, value: object) -> None:
    with pytest.raises(errors.InvalidTarget, match=field.replace(".", r"\.")):
        pod_target(fixture, **{field: value})


def test_a_k8s_audit_alert_about_another_resource_is_422() -> None:
    with pytest.raises(errors.InvalidTarget, match=r"ka\.target\.resource"):
        targets.pod(alert_model.parse(sidekick("k8saudit_secret_created")))
