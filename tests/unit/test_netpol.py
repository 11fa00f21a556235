"""NetworkPolicy semantics used to decide `acted` vs `partial`: selectors and directions.

A deny-all quarantine does not override another policy allowing traffic to the same pod;
these rows pin which policies count as "still allowing" (Kubernetes' own rules).
"""

from __future__ import annotations

from typing import Any

import pytest

from shared import labels, netpol

POD = {"app": "web", "tier": "front", "riposte.io/quarantine": "uid-1"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({}, True),
        (None, True),
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "db"}}, False),
        ({"matchLabels": {"app": "web", "tier": "back"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, False),
        ({"matchExpressions": [{"key": "missing", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "missing", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "missing", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Matches", "values": ["w"]}]}, False),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["x"]}],
            },
            False,
        ),
    ],
)
def test_label_selectors(selector: dict[str, Any] | None, expected: bool) -> None:
    assert labels.selects(selector, POD) is expected


def policy(name: str, selector: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"podSelector": selector, **spec}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"ingress": [{}]}, ["Ingress"]),
        ({"ingress": [{"from": [{"podSelector": {}}]}]}, ["Ingress"]),
        ({"ingress": []}, []),
        ({"policyTypes": ["Ingress"]}, []),
        ({"egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}, ["Egress"]),
        ({"policyTypes": ["Ingress"], "egress": [{}]}, []),  # egress rules ignored: not governed
        ({"policyTypes": ["Ingress", "Egress"], "ingress": [{}], "egress": [{}]}, ["Ingress", "Egress"]),
        ({"policyTypes": ["Ingress", "Egress"]}, []),
    ],
)
def test_directions_a_selecting_policy_allows(spec: dict[str, Any], expected: list[str]) -> None:
    assert netpol.allowed_directions(policy("p", {}, **spec), POD) == expected


def test_still_allowing_skips_our_own_and_non_selecting_policies() -> None:
    policies = [
        policy("riposte-quarantine-uid-1", {"matchLabels": {"riposte.io/quarantine": "uid-1"}}, ingress=[{}]),
        policy("allow-web", {"matchLabels": {"app": "web"}}, ingress=[{}]),
        policy("allow-db", {"matchLabels": {"app": "db"}}, ingress=[{}]),
        policy("default-deny", {}, policyTypes=["Ingress", "Egress"]),
        policy("egress-all", {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, egress=[{}]),
    ]
    found = netpol.still_allowing(policies, POD, own="riposte-quarantine-uid-1")
    assert found == {"allow-web": ["Ingress"], "egress-all": ["Ingress", "Egress"][1:]}
