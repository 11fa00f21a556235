"""Where an alert points: the Kubernetes object a function would act on. Pure: no I/O.

A function never guesses: a missing namespace is a 422 naming the field, never "default".
Every name is checked against Kubernetes' own rules before it reaches an API URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared import errors, names
from shared.alert import Alert


@dataclass(frozen=True)
class Target:
    """One object, by kind, namespace (None for cluster-scoped kinds) and name."""

    kind: str
    namespace: str | None
    name: str

    @property
    def subject(self) -> str:
        """The reply CloudEvent's subject: `<namespace>/<kind>/<name>`, or `<kind>/<name>`
        for a cluster-scoped object (lower-case kind)."""
        if self.namespace is None:
            return f"{self.kind.lower()}/{self.name}"
        return f"{self.namespace}/{self.kind.lower()}/{self.name}"


def configmap(alert: Alert) -> Target:
    """The ConfigMap of a k8s_audit alert.

    The seed rule outputs only `ka.req.configmap.name`; its namespace arrives only when
    Falco's `append_output` adds `ka.target.namespace` (deploy/falco does).
    """
    _check_resource(alert, "configmaps")
    return Target(
        kind="ConfigMap",
        namespace=_field(alert, ("ka.target.namespace",), names.is_dns_label, "namespace"),
        name=_field(alert, ("ka.target.name", "ka.req.configmap.name"), names.is_dns_subdomain, "ConfigMap"),
    )


def pod(alert: Alert) -> Target:
    """The pod of a syscall alert (`k8s.pod.name`, `k8s.ns.name`: Falco >= 0.41 appends
    them by default) or of a k8s_audit pod alert (`ka.target.name`, or for pod creates
    `ka.resp.name`, and `ka.target.namespace`)."""
    if alert.source == "k8s_audit":
        _check_resource(alert, "pods")
        return Target(
            kind="Pod",
            namespace=_field(alert, ("ka.target.namespace",), names.is_dns_label, "namespace"),
            name=_field(alert, ("ka.target.name", "ka.resp.name"), names.is_dns_subdomain, "pod"),
        )
    return Target(
        kind="Pod",
        namespace=_field(alert, ("k8s.ns.name",), names.is_dns_label, "namespace"),
        name=_field(alert, ("k8s.pod.name",), names.is_dns_subdomain, "pod"),
    )


def _check_resource(alert: Alert, expected: str) -> None:
    """A k8s_audit alert about another resource names no target of this kind: 422."""
    resource = alert.value("ka.target.resource")
    if resource is not None and resource != expected:
        raise errors.InvalidTarget(
            "output_fields['ka.target.resource']", f"is {str(resource)[:40]!r}, not {expected!r}"
        )


def _field(alert: Alert, keys: tuple[str, ...], valid: Callable[[str], bool], what: str) -> str:
    """The first present field among `keys`, checked; 422 naming the field otherwise."""
    for key in keys:
        value = alert.value(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise errors.InvalidTarget(
                f"output_fields[{key!r}]", f"must be a string, found {type(value).__name__}"
            )
        if not valid(value):
            raise errors.InvalidTarget(f"output_fields[{key!r}]", f"is not a valid {what} name")
        return value
    label = " or ".join(f"output_fields[{key!r}]" for key in keys)
    raise errors.InvalidTarget(label, "is missing (null, <NA> or absent)")


# The objects of k8s_audit alerts about RBAC objects and Services, by `ka.target.resource`:
# their kind, whether they are namespaced, and the apiserver's own name rule (RBAC names
# are checked only as path segments, `system:node`; Service names are DNS-1035 labels).
AUDITED: dict[str, tuple[str, bool, Callable[[str], bool]]] = {
    "clusterrolebindings": ("ClusterRoleBinding", False, names.is_path_segment),
    "clusterroles": ("ClusterRole", False, names.is_path_segment),
    "rolebindings": ("RoleBinding", True, names.is_path_segment),
    "roles": ("Role", True, names.is_path_segment),
    "services": ("Service", True, names.is_dns_label),
}


def audited(alert: Alert, resources: tuple[str, ...]) -> Target:
    """The object a k8s_audit alert about one of `resources` (AUDITED's keys) names.

    Its kind comes from `ka.target.resource`, which may be absent only when `resources`
    leaves no choice (a rule about ClusterRoleBindings); a rule about "Role/ClusterRole"
    needs it. The name is `ka.target.name`; namespaced kinds need `ka.target.namespace`,
    cluster-scoped ones ignore it (Falco prints it empty for them).
    """
    resource = alert.value("ka.target.resource")
    if resource is None:
        if len(resources) != 1:
            raise errors.InvalidTarget(
                "output_fields['ka.target.resource']",
                f"is missing (null, <NA> or absent): needed to tell {' from '.join(resources)}",
            )
        resource = resources[0]
    if not isinstance(resource, str) or resource not in resources:
        raise errors.InvalidTarget(
            "output_fields['ka.target.resource']",
            f"is {str(resource)[:40]!r}, not {' or '.join(repr(r) for r in resources)}",
        )
    kind, namespaced, valid = AUDITED[resource]
    name = _field(alert, ("ka.target.name",), valid, kind)
    if not namespaced:
        return Target(kind=kind, namespace=None, name=name)
    namespace = _field(alert, ("ka.target.namespace",), names.is_dns_label, "namespace")
    return Target(kind=kind, namespace=namespace, name=name)
