"""revert-object: undo an audited write that should not exist, keeping a copy first.

Answers:  Falco k8s_audit rules "Attach to cluster-admin Role", "ClusterRole With Wildcard
          Created", "ClusterRole With Pod Exec Created", "Create NodePort Service"
          (RIPOSTE_RULES; minimum priority Warning, RIPOSTE_MIN_PRIORITY).
Reads:    output_fields ka.target.name, ka.target.namespace (Roles, Services),
          ka.target.resource (ClusterRole or Role), ka.verb, ka.response.code, ka.resp.uid
          (added by deploy/falco's append_output; the rules print only some of them).
Verifies: the audited create succeeded and made this very object (ka.response.code 2xx,
          ka.resp.uid = the live uid); it is no bootstrap object (§15, by exact name); and
          the rule's condition still holds on the live object: the binding's roleRef is
          ClusterRole cluster-admin; a rule has `*` in resources or verbs; a rule grants
          pods/exec with get, create or `*`; the Service's type is NodePort.
Acts:     copies the object as read into Secret riposte-copy-<uid> in riposte's namespace
          (while the budget is spent), then deletes the RBAC object (uid + resourceVersion
          preconditions), or turns the Service into a ClusterIP one (JSON merge patch
          carrying its resourceVersion; the apiserver releases the node ports). The result
          names the bindings still referencing a deleted role, its aggregate-to-* labels,
          and any owner (which may re-create it). Restoring is a human's act: deleted RBAC
          needs bind/escalate.
Verbs:    those of every acting function and clusterrolebindings get, list, delete;
          clusterroles, roles get, delete; rolebindings list; services get, patch (any
          namespace); secrets create, get, list (own namespace: copies).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared import targets
from shared.acting import copies, runner
from shared.acting.spec import Context, Done, Facts, Grant, Plan, Refusal, Scope, Settled, Spec, Verdict
from shared.action import Outcome
from shared.alert import Alert
from shared.deadline import Deadline
from shared.kube.client import JSONObject, Kube, Patch
from shared.kube.resources import RBAC
from shared.priority import Priority
from shared.targets import Target

CLUSTER_ADMIN = "Attach to cluster-admin Role"
WILDCARD = "ClusterRole With Wildcard Created"
POD_EXEC = "ClusterRole With Pod Exec Created"
NODEPORT = "Create NodePort Service"
RULES = (CLUSTER_ADMIN, WILDCARD, POD_EXEC, NODEPORT)
ROLES = ("clusterroles", "roles")  # the "ClusterRole ..." rules fire for Roles too
RESOURCES: dict[str, tuple[str, ...]] = {
    CLUSTER_ADMIN: ("clusterrolebindings",),
    WILDCARD: ROLES,
    POD_EXEC: ROLES,
    NODEPORT: ("services",),
}
# RBAC's own matching (ResourceMatches): `*`, the exact `pods/exec`, or `*/exec`.
EXEC_RESOURCES = frozenset({"pods/exec", "*/exec", "*"})
# `get` suffices for exec over WebSocket before Kubernetes 1.35 (the verb follows the
# HTTP method of the upgrade request).
EXEC_VERBS = frozenset({"get", "create", "*"})
AGGREGATE_PREFIX = "rbac.authorization.k8s.io/aggregate-to-"
REVERTED_FROM = "riposte.io/reverted-from"  # on a Service riposte turned into ClusterIP
SHOWN = 10  # names listed in a reason; the details hold them all


def target(alert: Alert) -> Target:
    """The object the rule is about; a rule revert-object has no check for may still name
    one (RIPOSTE_RULES), and verify refuses it."""
    everything = tuple(dict.fromkeys(r for rs in RESOURCES.values() for r in rs))
    return targets.audited(alert, RESOURCES.get(alert.rule, everything))


# -- the rules' conditions, on the live object ------------------------------------------


def binds_cluster_admin(binding: JSONObject) -> list[str]:
    ref = binding.get("roleRef") or {}
    bound = (ref.get("kind"), ref.get("name")) == ("ClusterRole", "cluster-admin")
    return ["roleRef: ClusterRole cluster-admin"] if bound else []


def wildcards(role: JSONObject) -> list[str]:
    """Where the role's rules hold `*` in resources or verbs (Falco's condition)."""
    return [
        f"rules[{index}].{key}"
        for index, rule in enumerate(role.get("rules") or [])
        for key in ("resources", "verbs")
        if "*" in (rule.get(key) or [])
    ]


def exec_grants(role: JSONObject) -> list[str]:
    """The rules granting exec into pods: core group, pods/exec, get or create."""
    found = []
    for index, rule in enumerate(role.get("rules") or []):
        groups, resources, verbs = (set(rule.get(key) or []) for key in ("apiGroups", "resources", "verbs"))
        if groups & {"", "*"} and resources & EXEC_RESOURCES and verbs & EXEC_VERBS:
            found.append(f"rules[{index}]")
    return found


def node_port(service: JSONObject) -> list[str]:
    return ["spec.type: NodePort"] if (service.get("spec") or {}).get("type") == "NodePort" else []


# rule -> (what must still hold on the live object, the refusal when it no longer does)
CHECKS: dict[str, tuple[Callable[[JSONObject], list[str]], str]] = {
    CLUSTER_ADMIN: (binds_cluster_admin, "the ClusterRoleBinding no longer binds ClusterRole cluster-admin"),
    WILDCARD: (wildcards, "no rule of the {kind} has `*` in its resources or verbs any more"),
    POD_EXEC: (exec_grants, "no rule of the {kind} grants pods/exec (get, create or *) any more"),
    NODEPORT: (node_port, "the Service is no longer of type NodePort (now {type})"),
}


# -- what the reply says beside the act --------------------------------------------------


def cluster_bindings(kube: Kube, deadline: Deadline, obj: JSONObject) -> list[JSONObject]:
    return kube.items(deadline, "ClusterRoleBinding") if obj.get("kind") == "ClusterRole" else []


def role_bindings(kube: Kube, deadline: Deadline, obj: JSONObject) -> list[JSONObject]:
    if obj.get("kind") == "ClusterRole":  # RoleBindings may reference a ClusterRole too
        return kube.items(deadline, "RoleBinding")
    if obj.get("kind") == "Role":
        return kube.items(deadline, "RoleBinding", namespace=obj["metadata"]["namespace"])
    return []


def referencing(role: JSONObject, cluster: list[JSONObject], namespaced: list[JSONObject]) -> list[str]:
    """The bindings whose roleRef is `role`, as `clusterrolebinding/<name>` and
    `<namespace>/rolebinding/<name>`: they grant nothing once it is deleted. (Items of a
    list carry no `kind`: which list they came from says it.)"""
    meta = role["metadata"]

    def refers(binding: JSONObject) -> bool:
        ref = binding.get("roleRef") or {}
        same = ref.get("kind") == role.get("kind") and ref.get("name") == meta["name"]
        return same and (
            role.get("kind") != "Role" or binding["metadata"].get("namespace") == meta.get("namespace")
        )

    found = [f"clusterrolebinding/{b['metadata']['name']}" for b in cluster if refers(b)]
    found += [
        f"{b['metadata']['namespace']}/rolebinding/{b['metadata']['name']}" for b in namespaced if refers(b)
    ]
    return sorted(found)


def aggregated(role: JSONObject) -> list[str]:
    """Its `aggregate-to-*` labels: a ClusterRole's rules were being merged into every
    ClusterRole aggregating that label (admin, edit, view for the built-in ones)."""
    if role.get("kind") != "ClusterRole":
        return []
    labels: dict[str, str] = role["metadata"].get("labels") or {}
    return sorted(
        key for key, value in labels.items() if key.startswith(AGGREGATE_PREFIX) and value == "true"
    )


def owners(obj: JSONObject) -> list[str]:
    return [f"{o.get('kind')}/{o.get('name')}" for o in obj["metadata"].get("ownerReferences") or []]


def listed(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def consequences(details: Mapping[str, Any]) -> str:
    """What a human must know beside the act: who loses permissions, who may undo it."""
    said = ""
    if bound := details.get("still_bound"):
        said += f"; bindings still referencing it now grant nothing: {listed(bound)}"
    if labels := details.get("aggregate_labels"):
        said += f"; its rules were being aggregated ({listed(labels)}) into the roles selecting that label"
    if owned := details.get("owners"):
        said += f"; owned by {listed(owned)}, which may re-create it"
    return said


# -- verify, act --------------------------------------------------------------------------


def verify(facts: Facts) -> Verdict[list[str]]:
    obj, rule, kind = facts.object, facts.alert.rule, facts.target.kind
    if rule not in CHECKS or kind not in [targets.AUDITED[r][0] for r in RESOURCES[rule]]:
        return Refusal(f"revert-object has no live check for rule {rule[:80]!r} on a {kind}")
    check, refusal = CHECKS[rule]
    found = check(obj)
    if kind == "Service" and not found:
        now = (obj.get("spec") or {}).get("type")
        if (obj["metadata"].get("annotations") or {}).get(REVERTED_FROM) == "NodePort" and now == "ClusterIP":
            return Settled(Outcome.ALREADY_DONE, "already turned into a ClusterIP Service by riposte")
        return Refusal(refusal.format(type=now))
    if not found:
        return Refusal(refusal.format(kind=kind))
    details: dict[str, Any] = {"found": found}
    if kind in ("ClusterRole", "Role"):
        bound = referencing(obj, facts.extra["cluster_bindings"] or [], facts.extra["role_bindings"] or [])
        details.update(still_bound=bound, aggregate_labels=aggregated(obj))
    if owned := owners(obj):
        details["owners"] = owned
    what = "turn the Service into a ClusterIP one" if kind == "Service" else f"delete the {kind}"
    return Plan(f"copy it and {what} ({', '.join(found)}){consequences(details)}", found, details=details)


def act(context: Context, facts: Facts, plan: Plan[list[str]]) -> Done:
    obj = facts.object
    meta = obj["metadata"]
    details = plan.details  # with the copy `prepare` (copies.prepare) kept, run first
    copy: str = details["copy"]
    if obj["kind"] == "Service":
        context.kube.patch(
            context.deadline,
            "Service",
            name=meta["name"],
            namespace=meta["namespace"],
            patch={
                "metadata": {
                    "resourceVersion": meta["resourceVersion"],
                    "annotations": {REVERTED_FROM: "NodePort"},
                },
                "spec": {"type": "ClusterIP"},
            },
            style=Patch.MERGE,
        )
        done = "turned into a ClusterIP Service: its node ports are closed, it stays reachable in the cluster"
    else:
        context.kube.delete(
            context.deadline,
            obj["kind"],
            name=meta["name"],
            namespace=meta.get("namespace"),
            uid=meta["uid"],
            resource_version=meta["resourceVersion"],
        )
        done = "deleted"
    return Done(Outcome.ACTED, f"{done}; copy kept in {copy}{consequences(details)}", meta["uid"], details)


def gone(context: Context) -> tuple[Outcome, str, Mapping[str, Any]] | None:
    """Not there: deleted by riposte when it holds a copy (a redelivery raced this one)."""
    if copy := copies.find(context.kube, context.deadline, context.settings, context.target):
        return Outcome.ALREADY_DONE, f"already reverted; copy kept in {copy}", {"copy": copy}
    return None


def recall(context: Context) -> tuple[str, Mapping[str, Any]]:
    """Say where the copy is, as the first answer did."""
    copy = copies.find(context.kube, context.deadline, context.settings, context.target)
    return f"; copy kept in {copy}", {"copy": copy}


SPEC = Spec(
    name="revert-object",
    summary="deletes a cluster-admin binding or a Role/ClusterRole granting `*` or pods/exec, or turns a "
    "NodePort Service into ClusterIP, once the audited create made it and the live object still "
    "matches the rule; keeps a copy first",
    rules=RULES,
    min_priority=Priority.WARNING,
    sources=("k8s_audit",),
    fields=(
        "ka.target.name",
        "ka.target.namespace",
        "ka.target.resource",
        "ka.verb",
        "ka.response.code",
        "ka.resp.uid",
    ),
    target=target,
    creates=RULES,
    verify=verify,
    prepare=copies.prepare,
    act=act,
    gone=gone,
    recall=recall,
    follows={"cluster_bindings": cluster_bindings, "role_bindings": role_bindings},
    rbac=(
        Grant(
            RBAC,
            ("clusterrolebindings",),
            ("get", "list", "delete"),
            "re-read and verify; name those still referencing a deleted ClusterRole; delete (preconditions)",
        ),
        Grant(
            RBAC, ("clusterroles", "roles"), ("get", "delete"), "re-read and verify; delete (preconditions)"
        ),
        Grant(RBAC, ("rolebindings",), ("list",), "name the RoleBindings still referencing a deleted role"),
        Grant(
            "", ("services",), ("get", "patch"), "re-read and verify; turn into ClusterIP (resourceVersion)"
        ),
        Grant(
            "", ("secrets",), ("create", "get", "list"), "keep a copy; check it on 409; find it", Scope.OWN
        ),
    ),
)
handle = runner.serve(SPEC)
