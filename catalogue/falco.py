"""The k8s_audit fields Falco must append to every k8s_audit alert: all the `ka.*` fields
the specs read (`Spec.fields`). A rule's own output carries only some of them (the
ConfigMap rule has no namespace); appending one it already carries changes nothing, and
extra fields go to `output_fields` only, never into the output text (Falco >= 0.39).

Only the list is rendered, between markers in deploy/falco/values.yaml: Helm replaces
lists, so the `append_output` around it (its `suggested_output` entry first) stays
written by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalogue import marked
from shared.acting.spec import Spec

VALUES = "deploy/falco/values.yaml"
BLOCK = "k8s_audit extra_fields"
SYSCALL_BLOCK = "syscall extra_fields"
K8S_AUDIT_PREFIX = "ka."  # every field of the k8saudit plugin
# Fields the specs read that the k8saudit plugin does not have: appended as named extra
# fields, whose value Falco formats from the json plugin over the audit event. The created
# object's uid lives only in the response body (the audit policy logs it at
# RequestResponse for the resources the functions act on: k3s/audit-policy.yaml).
NAMED = {"ka.resp.uid": "%jevt.value[/responseObject/metadata/uid]"}
# What `suggested_output: true` already appends to syscall alerts (Falco >= 0.40 with the
# container plugin): anything else a spec reads from a syscall alert is appended here.
SUGGESTED = frozenset(
    {"container.id", "container.name", "container.image.repository", "container.image.tag",
     "k8s.pod.name", "k8s.ns.name"}
)  # fmt: skip


def k8s_audit_fields(specs_: Sequence[Spec[Any]]) -> list[str]:
    """Every k8saudit field a spec reads, sorted, each once."""
    return sorted({f for spec in specs_ for f in spec.fields if f.startswith(K8S_AUDIT_PREFIX)})


def syscall_fields(specs_: Sequence[Spec[Any]]) -> list[str]:
    """Every syscall field a spec reads that suggested_output does not already append."""
    return sorted(
        {
            f
            for spec in specs_
            for f in spec.fields
            if not f.startswith(K8S_AUDIT_PREFIX) and f not in SUGGESTED
        }
    )


def entry(field: str) -> str:
    """One extra_fields entry: a plugin field by name, or a named field and its format."""
    return f'- {field}: "{NAMED[field]}"' if field in NAMED else f"- {field}"


def values(text: str, specs_: Sequence[Spec[Any]]) -> str:
    """deploy/falco/values.yaml with its extra_fields lists rendered."""
    text = marked.replace(text, BLOCK, [entry(field) for field in k8s_audit_fields(specs_)], path=VALUES)
    return marked.replace(
        text, SYSCALL_BLOCK, [entry(field) for field in syscall_fields(specs_)], path=VALUES
    )
