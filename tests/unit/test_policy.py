"""Policy: which alerts match a function, and which targets are guarded. Pure."""

from __future__ import annotations

import pytest

from shared import alert as alert_model
from shared import config, policy
from shared.priority import Priority
from tests.helpers import CONFIGMAP_RULE, sidekick


def settings(**env: str) -> config.Settings:
    return config.load(
        "delete-configmap",
        rules=(CONFIGMAP_RULE,),
        min_priority=Priority.WARNING,
        sources=("k8s_audit",),
        environ={"RIPOSTE_NAMESPACE": "riposte", **env},
    )


def configmap_alert(**change: object) -> alert_model.Alert:
    body = sidekick("k8saudit_configmap_with_private_credentials")
    body.update(change)
    return alert_model.parse(body)


def test_the_seed_alert_matches_delete_configmap() -> None:
    assert policy.matches(settings(), configmap_alert())


@pytest.mark.parametrize(
    "change",
    [
        {"rule": "Create/Modify Configmap With Private Credential"},  # one letter off
        {"rule": CONFIGMAP_RULE.lower()},  # rule names are case-sensitive
        {"priority": "Notice"},  # below the minimum
        {"source": "syscall"},  # wrong source
        {"rule": "Test rule"},
    ],
)
def test_other_alerts_do_not_match(change: dict[str, object]) -> None:
    assert not policy.matches(settings(), configmap_alert(**change))


def test_falcosidekick_test_event_never_matches_even_when_configured() -> None:
    s = settings(RIPOSTE_RULES='["Test rule"]', RIPOSTE_SOURCES="internal", RIPOSTE_MIN_PRIORITY="Debug")
    assert not policy.matches(s, alert_model.parse(sidekick("test_event")))


def test_min_priority_and_rules_are_configurable() -> None:
    s = settings(RIPOSTE_RULES='["Other"]', RIPOSTE_MIN_PRIORITY="Notice")
    assert policy.matches(s, configmap_alert(rule="Other", priority="Notice"))
    assert not policy.matches(s, configmap_alert())


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease", "riposte"])
def test_default_protected_namespaces_include_our_own(namespace: str) -> None:
    assert policy.protected_namespace(settings(), namespace)


def test_configured_protected_namespaces_replace_defaults_but_keep_our_own() -> None:
    s = settings(RIPOSTE_PROTECTED_NAMESPACES="payments, vault")
    assert policy.protected_namespace(s, "vault")
    assert policy.protected_namespace(s, "riposte")
    assert policy.protected_namespace(s, "kube-system") is None
    assert policy.protected_namespace(s, "shop") is None


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"riposte.io/ignore": "true"}, True),
        ({"riposte.io/ignore": "True"}, True),
        ({"riposte.io/ignore": "false"}, False),
        ({"app": "x"}, False),
        (None, False),
    ],
)
def test_opt_out_label(labels: dict[str, str] | None, expected: bool) -> None:
    assert policy.opted_out(labels) is expected


def test_a_function_without_rules_matches_every_rule_at_its_priority() -> None:
    s = config.load("notify", rules=(), min_priority=Priority.WARNING, environ={})
    assert policy.matches(s, configmap_alert(rule="Anything"))
    assert not policy.matches(s, configmap_alert(rule="Anything", priority="Notice"))
    assert not policy.matches(s, alert_model.parse(sidekick("test_event")))


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        (None, True),
        ("falco.rule.output.v1", True),
        ("riposte.action.v1", False),
        ("falco.rule.output.v1,x", False),
    ],
)
def test_only_falco_cloudevents_carry_alerts(event_type: str | None, expected: bool) -> None:
    assert policy.matches(settings(), configmap_alert(), event_type) is expected
