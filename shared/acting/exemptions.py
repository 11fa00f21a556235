"""Who may switch riposte off for an object (DESIGN.md §15). Pure: no I/O.

An exemption must come from someone with more authority than the actor an alert is
about. So, in this order:
- the namespace label `riposte.io/ignore: "true"` (namespace writes are admin-level);
- RIPOSTE_EXEMPT's exact names (riposte's own configuration, written by its deployer);
- the bootstrap RBAC objects of Kubernetes and common distributions, by exact name
  (shared/acting/bootstrap.py), and RBAC objects the apiserver itself wrote
  (`system:apiserver`: bootstrap reconciliation);
- and only when the alert is not about the request that wrote the object's labels:
  RIPOSTE_EXEMPT's selectors and the object's own `riposte.io/ignore: "true"`.
  A k8s_audit create/update/patch alert is about such a request: its requester chose
  the labels (a privileged pod created with the opt-out label must still be isolated).
  A syscall alert, or an exec into a pod, is not.
Names and labels a creator chooses (`system:x`, `kubernetes.io/bootstrapping:
rbac-defaults`, `app.kubernetes.io/part-of: riposte`) never exempt anything. riposte's own
pods are the pods in its own namespace, which is always protected (shared/policy.py).
"""

from __future__ import annotations

from shared import labels, policy
from shared.acting import bootstrap
from shared.acting.settings import EXEMPT
from shared.acting.spec import Facts
from shared.alert import Alert

RBAC_KINDS = frozenset({"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"})
# Verbs whose request body is the object, labels included.
WRITES = frozenset({"create", "update", "patch"})
APISERVER = "system:apiserver"


def labels_written_by_the_request(alert: Alert) -> bool:
    """Whether the alert is about the request that wrote the object's labels.

    k8s_audit writes of the object itself (no subresource) are; an unknown verb counts
    as one (fail closed). Subresources (exec, attach, ephemeralcontainers, status) cannot
    change labels; syscall alerts are about what runs in a pod, not about its labels.
    """
    if alert.source != "k8s_audit":
        return False
    if alert.value("ka.target.subresource"):
        return False
    verb = alert.value("ka.verb")
    return verb is None or verb in WRITES


def exempt(facts: Facts) -> str | None:
    """Why the target of `facts` is exempt, or None."""
    target, obj, alert = facts.target, facts.object, facts.alert
    if facts.namespace is not None and policy.opted_out(facts.namespace["metadata"].get("labels")):
        return f"namespace {target.namespace} carries {policy.OPT_OUT_LABEL}=true"
    entries = [e for e in EXEMPT.of(facts.settings) if e.kind == target.kind]
    for entry in entries:
        if entry.name is not None and entry.name == target.name and entry.namespace == target.namespace:
            return f"{target.kind} {_path(facts)} is exempt by name (RIPOSTE_EXEMPT)"
    if target.kind in RBAC_KINDS:
        if bootstrap.is_bootstrap(target.kind, target.namespace, target.name):
            return f"{target.kind} {_path(facts)} is a bootstrap object of Kubernetes or its distribution"
        if alert.value("ka.user.name") == APISERVER:
            return (
                f"{target.kind} {_path(facts)} was written by the apiserver itself (bootstrap reconciliation)"
            )
    if labels_written_by_the_request(alert):
        return None  # the requester chose these labels: they exempt nothing
    object_labels: dict[str, str] = obj["metadata"].get("labels") or {}
    for entry in entries:
        if entry.selector is None or entry.name is not None:
            continue
        if entry.namespace in (None, target.namespace) and labels.selects(entry.selector, object_labels):
            return f"{target.kind} {_path(facts)} matches an exempt selector (RIPOSTE_EXEMPT)"
    if policy.opted_out(object_labels):
        return f"{target.kind} carries {policy.OPT_OUT_LABEL}=true"
    return None


def _path(facts: Facts) -> str:
    target = facts.target
    return f"{target.namespace}/{target.name}" if target.namespace else target.name
