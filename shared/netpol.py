"""NetworkPolicy semantics, as pure functions: which policies select a pod, and which of
them still allow it traffic. No I/O.

NetworkPolicies add up: a pod selected by any policy of a direction is denied in that
direction except what the union of those policies allows. A deny-all quarantine policy
therefore does not override another policy that allows traffic to the same pod, and
isolate-pod must say so (`partial`) instead of reporting the pod isolated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

INGRESS = "Ingress"
EGRESS = "Egress"


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a pod's labels.

    An empty selector selects every pod; a missing one, in a NetworkPolicy, too.
    """
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False  # the apiserver rejects unknown operators; never assume a match
    return True


def policy_types(policy: Mapping[str, Any]) -> set[str]:
    """The directions a policy governs, with Kubernetes' defaults when unset:
    Ingress always, Egress when it has egress rules."""
    spec = policy.get("spec") or {}
    declared = spec.get("policyTypes")
    if declared:
        return set(declared)
    return {INGRESS, EGRESS} if spec.get("egress") else {INGRESS}


def allowed_directions(policy: Mapping[str, Any], labels: Mapping[str, str]) -> list[str]:
    """The directions in which `policy` selects the pod and allows it some traffic."""
    spec = policy.get("spec") or {}
    if not selects(spec.get("podSelector"), labels):
        return []
    governed = policy_types(policy)
    found = []
    if INGRESS in governed and spec.get("ingress"):
        found.append(INGRESS)
    if EGRESS in governed and spec.get("egress"):
        found.append(EGRESS)
    return found


def still_allowing(
    policies: Sequence[Mapping[str, Any]], labels: Mapping[str, str], *, own: str
) -> dict[str, list[str]]:
    """Other policies (not `own`) that still allow the pod traffic: name -> directions."""
    found = {}
    for policy in policies:
        name = policy.get("metadata", {}).get("name", "")
        if name == own:
            continue
        if directions := allowed_directions(policy, labels):
            found[name] = directions
    return found
