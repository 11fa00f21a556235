"""Kubernetes object-name rules (apimachinery's validation), as pure predicates.

Alert fields are attacker-influenced text; a name that passes these checks cannot
smuggle a path (`../`, `/`, `%2F`), upper case or look-alike unicode into an API URL.
"""

from __future__ import annotations

import hashlib
import re

# ASCII only: re's \w and case folding would admit unicode look-alikes.
_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?", re.ASCII)
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*", re.ASCII)

LABEL_MAX = 63
SUBDOMAIN_MAX = 253


def is_dns_label(value: str) -> bool:
    """RFC 1123 label: namespaces (and Service names)."""
    return len(value) <= LABEL_MAX and _LABEL.fullmatch(value) is not None


def is_dns_subdomain(value: str) -> bool:
    """RFC 1123 subdomain: ConfigMap, Secret, Pod and most other object names."""
    return len(value) <= SUBDOMAIN_MAX and _SUBDOMAIN.fullmatch(value) is not None


def is_path_segment(value: str) -> bool:
    """A name the apiserver accepts for kinds validated only as a path segment (RBAC
    objects: `system:node`, `kubeadm:cluster-admins`): not empty, `.` or `..`, no `/`
    or `%`, and (riposte's own bound) printable ASCII of at most 253 characters."""
    return (
        0 < len(value) <= SUBDOMAIN_MAX
        and value not in (".", "..")
        and value.isascii()
        and value.isprintable()
        and not any(c in value for c in "/% ")
    )


def event_name(function: str, identity: str) -> str:
    """The audit Event of (function, alert identity): `riposte-<function>-<hash>`.

    Derived, so a redelivered alert can never record a second Event (409), and its
    existence tells the function it acted on this alert before.
    """
    return f"riposte-{function}-{hashlib.sha256(identity.encode()).hexdigest()[:24]}"


def budget_lease(function: str) -> str:
    """The Lease holding a function's blast-radius budget (shared/budget.py)."""
    return f"riposte-budget-{function}"


# What riposte's reversible actions leave on objects, for undo and the expiry sweep to find.
QUARANTINE_LABEL = "riposte.io/quarantine"  # a pod: its uid; a node: "true"
EXPIRES_AT = "riposte.io/expires-at"  # RFC 3339 UTC: when undo's sweep lifts the quarantine
RESTORED_FROM = "riposte.io/restored-from"  # on a ConfigMap undo restored: the copy's name


def quarantine_policy(pod_uid: str) -> str:
    """isolate-pod's NetworkPolicy for the pod of `pod_uid`."""
    return f"riposte-quarantine-{pod_uid}"
