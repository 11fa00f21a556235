"""The shipped RBAC (deploy/knative/rbac, as kustomize renders it) is exactly as broad
as each function's spec declares.

A function's RBAC is declared once, beside its code: its spec's grants (`Spec.grants()`:
what every acting function holds, then its own `rbac`), from which `make manifests`
renders the roles. That they suffice is proven by the integration tests that run each
function with a real token of its ServiceAccount (and tests/deploy/test_as_deployed.py).
That they are no broader is checked here, one row per ServiceAccount: SelfSubjectRulesReview
must list exactly the spec's rules (plus system:basic-user's review rules, always
present), in any namespace and in riposte's own, and representative calls outside them
are denied. notify holds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from kubernetes import client, config

from catalogue import interact, rbac, specs, undo
from devcluster.controlplane import ControlPlane
from shared.acting.spec import Grant, Scope
from tests.helpers import present

Rule = tuple[str, str, str, str]  # (api group, resource, verb, resourceName or "")
Call = Callable[[client.CoreV1Api, str], object]

BASIC_USER = {
    ("authorization.k8s.io", "selfsubjectaccessreviews", "create", ""),
    ("authorization.k8s.io", "selfsubjectrulesreviews", "create", ""),
}


def flattened(grants: Iterable[Grant]) -> set[Rule]:
    """Grants as SelfSubjectRulesReview lists them: one row per group, resource, verb, name."""
    return {
        (grant.group, resource, verb, name)
        for grant in grants
        for resource in grant.resources
        for verb in grant.verbs
        for name in grant.names or ("",)
    }


def holders() -> list[rbac.Holder]:
    """Every ServiceAccount with grants: the acting functions' specs, undo and interact."""
    return [*specs.load(), undo.UNDO, interact.INTERACT]


def expected() -> dict[str, tuple[set[Rule], set[Rule]]]:
    """Per ServiceAccount: (rules in every namespace, rules added in riposte's own)."""
    table = {
        spec.name: (
            flattened(g for g in spec.grants() if g.scope is Scope.CLUSTER),
            flattened(g for g in spec.grants() if g.scope is Scope.OWN),
        )
        for spec in holders()
    }
    return {**table, "notify": (set(), set())}


def expected_in_approvals() -> dict[str, set[Rule]]:
    """Per ServiceAccount: the rules added in `riposte-approvals` (approval records)."""
    table = {
        spec.name: flattened(g for g in spec.grants() if g.scope is Scope.APPROVALS) for spec in holders()
    }
    return {**table, "notify": set()}


EXPECTED = expected()


def test_the_expected_rules_are_the_specs_grants_as_kubernetes_lists_them() -> None:
    """One pinned row, so a change to how grants are read cannot empty the table unseen."""
    everywhere, own = EXPECTED["delete-configmap"]
    assert {
        ("", "configmaps", "delete", ""),
        ("", "events", "create", ""),
        ("", "namespaces", "get", ""),
    } <= everywhere
    assert ("coordination.k8s.io", "leases", "update", "riposte-budget-delete-configmap") in own
    assert not any(resource == "secrets" for _, resource, _, _ in everywhere)
    assert {"delete-configmap", "isolate-pod", "notify"} <= set(EXPECTED)


@pytest.fixture(scope="module")
def as_sa(cluster: ControlPlane) -> dict[str, client.ApiClient]:
    """An API client per ServiceAccount, each with a real TokenRequest token."""
    # kubernetes.config's loaders carry no annotations (kubernetes 37), unlike its client
    return {
        name: config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(cluster.serviceaccount_kubeconfig("riposte", name))
        )
        for name in EXPECTED
    }


def rules_in(api_client: client.ApiClient, namespace: str) -> set[Rule]:
    review = client.AuthorizationV1Api(api_client).create_self_subject_rules_review(
        {"spec": {"namespace": namespace}}
    )
    found = set()
    for rule in present(review.status).resource_rules:
        for group in present(rule.api_groups):
            for resource in present(rule.resources):
                for verb in rule.verbs:
                    for name in rule.resource_names or [""]:
                        found.add((group, resource, verb, name))
    return found


@pytest.mark.parametrize("account", EXPECTED)
def test_rules_in_any_namespace_are_exactly_the_expected(
    as_sa: dict[str, client.ApiClient], namespace: str, account: str
) -> None:
    everywhere, _ = EXPECTED[account]
    assert rules_in(as_sa[account], namespace) == everywhere | BASIC_USER


@pytest.mark.parametrize("account", EXPECTED)
def test_rules_in_its_own_namespace_add_only_the_expected(
    as_sa: dict[str, client.ApiClient], account: str
) -> None:
    everywhere, own = EXPECTED[account]
    assert rules_in(as_sa[account], "riposte") == everywhere | own | BASIC_USER


@pytest.mark.parametrize("account", EXPECTED)
def test_rules_in_the_approvals_namespace_add_only_the_expected(
    as_sa: dict[str, client.ApiClient], account: str
) -> None:
    everywhere, _ = EXPECTED[account]
    added = expected_in_approvals()[account]
    assert account == "notify" or ("", "configmaps", "get", "") in added
    assert rules_in(as_sa[account], "riposte-approvals") == everywhere | added | BASIC_USER


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
        (lambda core, ns: core.patch_namespaced_pod("web", ns, {}), "patch pods"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_calls_outside_the_delete_configmap_role_are_forbidden(
    as_sa: dict[str, client.ApiClient], namespace: str, call: Call, description: str
) -> None:
    with pytest.raises(client.ApiException) as denied:
        call(client.CoreV1Api(as_sa["delete-configmap"]), namespace)
    assert denied.value.status == 403, description


@pytest.mark.parametrize("account", ["isolate-pod", "notify", "interact"])
@pytest.mark.parametrize(
    ("call", "description"),
    [
        (lambda core, ns: core.delete_namespaced_pod("web", ns), "delete pods"),
        (lambda core, ns: core.read_namespaced_config_map("x", ns), "read ConfigMaps"),
        (lambda core, ns: core.list_namespaced_secret("riposte"), "read riposte's Secrets"),
        (lambda core, ns: core.patch_namespace(ns, {}), "patch namespaces"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_calls_outside_the_other_roles_are_forbidden(
    as_sa: dict[str, client.ApiClient], namespace: str, account: str, call: Call, description: str
) -> None:
    with pytest.raises(client.ApiException) as denied:
        call(client.CoreV1Api(as_sa[account]), namespace)
    assert denied.value.status == 403, f"{account}: {description}"


RbacCall = Callable[[client.ApiClient, str], object]
BINDING = {
    "metadata": {"name": "riposte-test-escalation"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
    "subjects": [{"kind": "ServiceAccount", "name": "revert-object", "namespace": "riposte"}],
}


@pytest.mark.parametrize(
    ("call", "description"),
    [
        (
            lambda api, ns: client.RbacAuthorizationV1Api(api).create_cluster_role_binding(BINDING),
            "create ClusterRoleBindings (restoring RBAC is a human's act)",
        ),
        (
            lambda api, ns: client.RbacAuthorizationV1Api(api).patch_cluster_role("admin", {"rules": []}),
            "change ClusterRoles",
        ),
        (
            lambda api, ns: client.RbacAuthorizationV1Api(api).delete_namespaced_role_binding("x", ns),
            "delete RoleBindings",
        ),
        (
            lambda api, ns: client.RbacAuthorizationV1Api(api).create_namespaced_role(
                ns, {"metadata": {"name": "x"}, "rules": []}
            ),
            "create Roles",
        ),
        (lambda api, ns: client.CoreV1Api(api).delete_namespaced_service("web", ns), "delete Services"),
        (lambda api, ns: client.CoreV1Api(api).list_namespaced_secret(ns), "list Secrets elsewhere"),
        (
            lambda api, ns: client.CoreV1Api(api).delete_namespaced_secret("riposte-copy-x", "riposte"),
            "delete its copies",
        ),
        (lambda api, ns: client.CoreV1Api(api).patch_namespaced_pod("web", ns, {}), "patch pods"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_calls_outside_the_revert_object_role_are_forbidden(
    as_sa: dict[str, client.ApiClient], namespace: str, call: RbacCall, description: str
) -> None:
    with pytest.raises(client.ApiException) as denied:
        call(as_sa["revert-object"], namespace)
    assert denied.value.status == 403, description


@pytest.mark.parametrize(
    ("call", "description"),
    [
        (lambda core: core.list_namespaced_config_map("riposte-approvals"), "list approval records"),
        (
            lambda core: core.create_namespaced_config_map("riposte-approvals", {"metadata": {"name": "x"}}),
            "create an approval record",
        ),
        (lambda core: core.delete_namespaced_config_map("x", "riposte-approvals"), "delete approval records"),
        (lambda core: core.read_namespaced_config_map("x", "riposte"), "read riposte's ConfigMaps"),
        (lambda core: core.read_namespaced_secret("riposte-cm-x", "riposte"), "read riposte's copies"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_interact_may_only_read_and_decide_approval_records(
    as_sa: dict[str, client.ApiClient], call: Callable[[client.CoreV1Api], object], description: str
) -> None:
    """interact is reachable from outside the cluster: it never touches a target, and it
    cannot make or remove approvals, only decide the ones the acting functions stored."""
    with pytest.raises(client.ApiException) as denied:
        call(client.CoreV1Api(as_sa["interact"]))
    assert denied.value.status == 403, description
