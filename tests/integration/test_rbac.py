"""The shipped RBAC (deploy/knative/rbac) is exactly as broad as the code needs.

That it suffices is proven by every delete-configmap integration test, which runs the
function with a real token of this ServiceAccount. That it is no broader is checked here:
SelfSubjectRulesReview must list exactly the expected rules (plus system:basic-user's
review rules, always present), and representative calls outside them are denied.
"""

from __future__ import annotations

import pytest
from kubernetes import client, config

BASIC_USER = {
    ("authorization.k8s.io", "selfsubjectaccessreviews", "create"),
    ("authorization.k8s.io", "selfsubjectrulesreviews", "create"),
}
EVERYWHERE = {
    ("", "namespaces", "get"),
    ("", "configmaps", "get"),
    ("", "configmaps", "delete"),
    ("", "events", "get"),
    ("", "events", "create"),
}
OWN_NAMESPACE = {
    ("", "secrets", "create", ""),
    ("", "secrets", "get", ""),
    ("", "secrets", "list", ""),
    ("coordination.k8s.io", "leases", "get", "riposte-budget-delete-configmap"),
    ("coordination.k8s.io", "leases", "update", "riposte-budget-delete-configmap"),
}


@pytest.fixture(scope="module")
def as_sa(cluster):
    path = cluster.serviceaccount_kubeconfig("riposte", "delete-configmap")
    return config.new_client_from_config(config_file=str(path))


def rules_in(api_client, namespace):
    review = client.AuthorizationV1Api(api_client).create_self_subject_rules_review(
        {"spec": {"namespace": namespace}}
    )
    found = set()
    for rule in review.status.resource_rules:
        for group in rule.api_groups:
            for resource in rule.resources:
                for verb in rule.verbs:
                    for name in rule.resource_names or [""]:
                        found.add((group, resource, verb, name))
    return found


def test_rules_in_any_namespace_are_exactly_the_expected(as_sa, namespace):
    assert rules_in(as_sa, namespace) == named(EVERYWHERE | BASIC_USER)


def test_rules_in_its_own_namespace_add_only_the_copies(as_sa):
    assert rules_in(as_sa, "riposte") == named(EVERYWHERE | BASIC_USER) | OWN_NAMESPACE


def named(rules):
    """Rules without resourceNames, in rules_in's (group, resource, verb, name) form."""
    return {(*rule, "") for rule in rules}


@pytest.mark.parametrize(
    ("call", "description"),
    [
        (lambda core, ns: core.list_namespaced_secret(ns), "list Secrets elsewhere"),
        (lambda core, ns: core.read_namespaced_secret("anything", ns), "read a Secret elsewhere"),
        (lambda core, ns: core.delete_namespaced_pod("web", ns), "delete pods"),
        (lambda core, ns: core.list_namespaced_config_map(ns), "list ConfigMaps"),
        (
            lambda core, ns: core.create_namespaced_config_map(ns, {"metadata": {"name": "x"}}),
            "create ConfigMaps",
        ),
        (lambda core, ns: core.patch_namespaced_config_map("x", ns, {"data": {}}), "patch ConfigMaps"),
        (lambda core, ns: core.delete_namespace(ns), "delete namespaces"),
        (lambda core, ns: core.delete_namespaced_secret("riposte-cm-x", "riposte"), "delete its copies"),
        (lambda core, ns: core.list_namespaced_secret("kube-system"), "read kube-system Secrets"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_calls_outside_the_role_are_forbidden(as_sa, namespace, call, description):
    with pytest.raises(client.ApiException) as denied:
        call(client.CoreV1Api(as_sa), namespace)
    assert denied.value.status == 403, description
