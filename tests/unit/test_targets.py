"""Targets: the ConfigMap an alert names; a bad or missing name is a 422 naming the field."""

from __future__ import annotations

import pytest

from shared import alert as alert_model
from shared import errors, names, targets
from tests.helpers import configmap_alert


def target_of(namespace, name, **fields):
    body = configmap_alert(namespace, "placeholder")
    body["output_fields"]["ka.req.configmap.name"] = name
    body["output_fields"].update(fields)
    return targets.configmap(alert_model.parse(body))


def test_seed_target():
    target = target_of("shop", "aws-creds")
    assert (target.kind, target.namespace, target.name) == ("ConfigMap", "shop", "aws-creds")
    assert target.subject == "shop/configmap/aws-creds"


def test_ka_target_name_wins_over_the_rule_field():
    assert target_of("shop", "aws-creds", **{"ka.target.name": "other"}).name == "other"


@pytest.mark.parametrize("missing", [None, "<NA>"])
def test_missing_namespace_is_422_naming_the_field_never_a_guess(missing):
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
def test_invalid_configmap_names_are_422(name):
    with pytest.raises(errors.InvalidTarget, match=r"ka\.req\.configmap\.name"):
        target_of("shop", name)


@pytest.mark.parametrize("namespace", ["Shop", "shop.prod", "x" * 64, "../kube-system", 7])
def test_invalid_namespaces_are_422(namespace):
    with pytest.raises(errors.InvalidTarget, match=r"ka\.target\.namespace"):
        target_of(namespace, "aws-creds")


def test_a_non_configmap_resource_is_422():
    with pytest.raises(errors.InvalidTarget, match=r"ka\.target\.resource"):
        target_of("shop", "aws-creds", **{"ka.target.resource": "secrets"})


def test_name_rules_match_kubernetes():
    assert names.is_dns_subdomain("a" * 253) and not names.is_dns_subdomain("a" * 254)
    assert names.is_dns_label("a" * 63) and not names.is_dns_label("a" * 64)
    assert names.is_dns_subdomain("my.config-1")
    assert not names.is_dns_label("my.config")
