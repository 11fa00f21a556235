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

from shared import labels

INGRESS = "Ingress"
EGRESS = "Egress"


def policy_types(policy: Mapping[str, Any]) -> set[str]:
    """The directions a policy governs, with Kubernetes' defaults when unset:
    Ingress always, Egress when it has egress rules."""
    spec = policy.get("spec") or {}
    declared = spec.get("policyTypes")
    if declared:
        return set(declared)
    return {INGRESS, EGRESS} if spec.get("egress") else {INGRESS}


def allowed_directions(policy: Mapping[str, Any], pod_labels: Mapping[str, str]) -> list[str]:
    """The directions in which `policy` selects the pod and allows it some traffic."""
    spec = policy.get("spec") or {}
    if not labels.selects(spec.get("podSelector"), pod_labels):
        return []
    governed = policy_types(policy)
    found = []
    if INGRESS in governed and spec.get("ingress"):
        found.append(INGRESS)
    if EGRESS in governed and spec.get("egress"):
        found.append(EGRESS)
    return found


def still_allowing(
    policies: Sequence[Mapping[str, Any]], pod_labels: Mapping[str, str], *, own: str
) -> dict[str, list[str]]:
    """Other policies (not `own`) that still allow the pod traffic: name -> directions."""
    found = {}
    for policy in policies:
        name = policy.get("metadata", {}).get("name", "")
        if name == own:
            continue
        if directions := allowed_directions(policy, pod_labels):
            found[name] = directions
    return found
