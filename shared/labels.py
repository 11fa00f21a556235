"""Kubernetes label selectors (matchLabels and matchExpressions), as pure predicates.

Used wherever riposte reasons about labels: which NetworkPolicies select a pod
(shared/netpol.py), which objects RIPOSTE_EXEMPT exempts (shared/acting/exemptions.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector against an object's labels. An empty (or missing) selector selects
    everything, as in a NetworkPolicy's podSelector."""
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
        if operator not in OPERATORS:
            return False  # the apiserver rejects unknown operators; never assume a match
    return True


def check_selector(selector: object) -> str | None:
    """What is wrong with a LabelSelector given as JSON, or None when it is well formed."""
    if not isinstance(selector, dict) or not selector:
        return "a selector must be an object with matchLabels and/or matchExpressions"
    unknown = set(selector) - {"matchLabels", "matchExpressions"}
    if unknown:
        return f"a selector takes only matchLabels and matchExpressions, found {sorted(unknown)}"
    match_labels = selector.get("matchLabels", {})
    if not isinstance(match_labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in match_labels.items()
    ):
        return "matchLabels must map label keys to string values"
    expressions = selector.get("matchExpressions", [])
    if not isinstance(expressions, list):
        return "matchExpressions must be a list"
    for expression in expressions:
        if not isinstance(expression, dict) or not isinstance(expression.get("key"), str):
            return "each matchExpression needs a string key"
        if expression.get("operator") not in OPERATORS:
            return f"a matchExpression's operator must be one of {', '.join(OPERATORS)}"
        values = expression.get("values", [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return "a matchExpression's values must be a list of strings"
        if (expression["operator"] in ("In", "NotIn")) != bool(values):
            return "In and NotIn need values; Exists and DoesNotExist take none"
    return None
