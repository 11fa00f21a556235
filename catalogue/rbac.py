"""RBAC from the specs: each acting function's ServiceAccount holds exactly `Spec.grants()`.

Names: ServiceAccount `<name>`; ClusterRole and ClusterRoleBinding `riposte-<name>` for
its CLUSTER grants; Role and RoleBinding `riposte-<name>` in riposte's namespace for its
OWN grants. OpenFaaS binds the same roles: CE to openfaas-fn's one `default` account
(`riposte-openfaas-<name>`), Standard to one account per function
(`riposte-openfaas-fn-<name>`). Each rule carries its grant's `why` as a comment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from catalogue import interact, notify, site, specs, undo
from catalogue.yamltext import comment, document, generated, mapping, seq
from shared.acting.spec import Grant, Scope
from shared.approval import record as approval_record

RBAC_API = "rbac.authorization.k8s.io/v1"
KINDS = {
    Scope.CLUSTER: ("ClusterRole", "ClusterRoleBinding"),
    Scope.OWN: ("Role", "RoleBinding"),
    Scope.APPROVALS: ("Role", "RoleBinding"),
}
NAMESPACES: dict[Scope, str | None] = {
    Scope.CLUSTER: None,
    Scope.OWN: site.NAMESPACE,
    Scope.APPROVALS: approval_record.NAMESPACE,
}


class Holder(Protocol):
    """What holds grants: an acting function's spec, or undo's declaration (catalogue/undo.py)."""

    @property
    def name(self) -> str: ...

    def grants(self) -> tuple[Grant, ...]: ...


def role_name(spec: Holder) -> str:
    """The ClusterRole and the Role of a function (one name, two kinds)."""
    return f"riposte-{spec.name}"


def scoped(spec: Holder, scope: Scope) -> tuple[Grant, ...]:
    return tuple(grant for grant in spec.grants() if grant.scope is scope)


def rule(grant: Grant) -> list[str]:
    """One rule of a role, its reason first."""
    lines = [*comment(grant.why, indent=2), f"  - apiGroups: {seq([grant.group])}"]
    lines.append(f"    resources: {seq(grant.resources)}")
    if grant.names:
        lines.append(f"    resourceNames: {seq(grant.names)}")
    lines.append(f"    verbs: {seq(grant.verbs)}")
    return lines


def service_account(name: str, namespace: str, *, automount: bool | None) -> list[str]:
    lines = ["apiVersion: v1", "kind: ServiceAccount", *site.metadata(name, name, namespace)]
    if automount is not None:
        lines.append(f"automountServiceAccountToken: {str(automount).lower()}")
    return lines


def role(spec: Holder, scope: Scope) -> list[str]:
    kind, _ = KINDS[scope]
    namespace = NAMESPACES[scope]
    lines = [
        f"apiVersion: {RBAC_API}",
        f"kind: {kind}",
        *site.metadata(role_name(spec), spec.name, namespace),
    ]
    return [*lines, "rules:", *(line for grant in scoped(spec, scope) for line in rule(grant))]


def binding(spec: Holder, scope: Scope, name: str, account: tuple[str, str]) -> list[str]:
    """A binding of the function's role for `scope` to `account` (name, namespace)."""
    kind, binding_kind = KINDS[scope]
    namespace = NAMESPACES[scope]
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role_name(spec)}
    subject = {"kind": "ServiceAccount", "name": account[0], "namespace": account[1]}
    return [
        f"apiVersion: {RBAC_API}",
        f"kind: {binding_kind}",
        *site.metadata(name, spec.name, namespace),
        f"roleRef: {mapping(ref)}",
        "subjects:",
        f"  - {mapping(subject)}",
    ]


def scopes(spec: Holder) -> list[Scope]:
    """The scopes it holds grants in, cluster-wide first."""
    return [scope for scope in (Scope.CLUSTER, Scope.OWN, Scope.APPROVALS) if scoped(spec, scope)]


def bindings(
    specs_: Sequence[Holder], prefix: str, account: Callable[[Holder], tuple[str, str]]
) -> list[list[str]]:
    """Every function's roles bound to `account(spec)` -> (name, namespace)."""
    return [
        binding(spec, scope, f"{prefix}{spec.name}", account(spec))
        for spec in specs_
        for scope in scopes(spec)
    ]


def knative(spec: Holder) -> str:
    """rbac/<name>.yaml: its ServiceAccount, roles and bindings."""
    header = [
        generated(
            specs.source(spec.name),
            "its declared grants" if spec.name in (undo.NAME, interact.NAME) else "the spec",
        ),
        "#",
        *comment(
            f"""
            {spec.name} acts through this ServiceAccount only, holding exactly the grants
            of its spec (SPEC.rbac, beside its code) and those every acting function holds
            (Spec.grants in shared/acting/spec.py): nothing else. tests/integration/test_rbac.py
            checks that with SelfSubjectRulesReview and a real token. Each rule's comment says
            why the function needs it.

            - ClusterRole {role_name(spec)}: any namespace, because an alert may name any.
            Protected namespaces are refused in code (RIPOSTE_PROTECTED_NAMESPACES): RBAC
            cannot express "all namespaces but these".
            - Role {role_name(spec)}: riposte's own namespace only: its budget Lease (shipped
            in budget.yaml) and whatever else it keeps there.
            - Role {role_name(spec)} in {approval_record.NAMESPACE}: approval records only
            (their own namespace, because RBAC cannot restrict by name prefix).
            """
        ),
    ]
    blocks: list[list[str]] = [[*header, *service_account(spec.name, site.NAMESPACE, automount=True)]]
    for scope in scopes(spec):
        blocks.append(role(spec, scope))
        blocks.append(binding(spec, scope, role_name(spec), (spec.name, site.NAMESPACE)))
    return document(*blocks)


def knative_notify() -> str:
    header = [
        generated(notify.SOURCE, "that"),
        "#",
        *comment(
            """
            notify talks to chat and webhook sinks only: its ServiceAccount has no role at
            all and no API token is mounted into its pods.
            """
        ),
    ]
    return document([*header, *service_account(notify.NAME, site.NAMESPACE, automount=False)])


def holdings(grants: Iterable[Grant]) -> str:
    """Grants in a few words: `configmaps get, delete; leases get, update on
    `riposte-budget-x``; `nothing` when there are none."""
    parts = []
    for grant in grants:
        text = f"{', '.join(grant.resources)} {', '.join(grant.verbs)}"
        if grant.names:
            text += " on " + ", ".join(f"`{name}`" for name in grant.names)
        parts.append(text)
    return "; ".join(dict.fromkeys(parts)) or "nothing"  # each once, in order


def openfaas_ce(specs_: Sequence[Holder]) -> str:
    """deploy/openfaas/rbac.yaml: every acting function's roles, bound to openfaas-fn's
    `default` account, which every function on OpenFaaS CE runs as."""
    everywhere = holdings(g for spec in specs_ for g in scoped(spec, Scope.CLUSTER))
    own = holdings(g for spec in specs_ for g in scoped(spec, Scope.OWN))
    approvals = holdings(g for spec in specs_ for g in scoped(spec, Scope.APPROVALS))
    header = [
        generated("functions/*/main.py", "the specs"),
        "#",
        *comment(
            f"""
            OpenFaaS CE: every function runs as {site.OPENFAAS_FN}'s `default` ServiceAccount
            (no per-function accounts outside OpenFaaS Pro/Standard). This binds that account
            to the roles of deploy/knative/rbac/ (apply those first: `kubectl apply -f
            deploy/knative/namespace.yaml -f deploy/knative/budget.yaml -f deploy/knative/rbac/
            -f deploy/openfaas/rbac.yaml`; the budget Leases must exist: the functions may
            only get and update them). The copies and the Leases live in `{site.NAMESPACE}`
            (RIPOSTE_NAMESPACE in stack.yml), not in {site.OPENFAAS_FN}.

            The privilege cost, stated plainly: every pod in {site.OPENFAAS_FN} that mounts
            the default account's token, notify and any unrelated function included, holds the
            union of the acting functions' grants. In any namespace: {everywhere}. In
            `{site.NAMESPACE}`: {own}. In `{approval_record.NAMESPACE}`: {approvals}. So a
            Secret one of them may read there (delete-configmap's copies hold credentials),
            all of them may. Run nothing else in {site.OPENFAAS_FN}, or use
            deploy/openfaas/standard/. tests/deploy/test_openfaas.py measures this union.
            """
        ),
    ]
    docs = bindings(specs_, "riposte-openfaas-", lambda spec: ("default", site.OPENFAAS_FN))
    return document([*header, *docs[0]], *docs[1:])


def openfaas_standard(specs_: Sequence[Holder]) -> str:
    """deploy/openfaas/standard/rbac.yaml: one ServiceAccount per function in openfaas-fn,
    bound to the same roles; notify's with no role and no token."""
    header = [
        generated("functions/*/main.py", "the specs"),
        "#",
        *comment(
            """
            OpenFaaS Standard/Enterprise: one ServiceAccount per function, named by the
            function's `com.openfaas.serviceaccount` annotation (functions.yaml), each bound to
            the same narrow roles as on Knative (deploy/knative/rbac/, applied first). notify
            gets an account with no role and no token.
            """
        ),
    ]
    accounts = [service_account(spec.name, site.OPENFAAS_FN, automount=None) for spec in specs_]
    accounts.append(service_account(notify.NAME, site.OPENFAAS_FN, automount=False))
    docs = bindings(specs_, "riposte-openfaas-fn-", lambda spec: (spec.name, site.OPENFAAS_FN))
    return document([*header, *accounts[0]], *accounts[1:], *docs)
