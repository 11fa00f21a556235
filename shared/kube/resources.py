"""The resource table: every kind riposte reads or writes, and where it lives in the API.

A new kind is one row here. Paths follow the API's conventions:
`/api/v1/namespaces/<ns>/pods/<name>` for the core group,
`/apis/<group>/<version>/[namespaces/<ns>/]<plural>/<name>` for the others.
Names reaching a path were checked by shared/names (no `/`, `..`, `%`) first; they are
percent-quoted here all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Resource:
    """One kind of object in the API."""

    kind: str
    group: str  # "" for the core group
    version: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        """As written in an object's `apiVersion`: `v1`, `apps/v1`, …"""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, *, namespace: str | None = None, name: str | None = None, subresource: str = "") -> str:
        """The API path of the collection (no name) or of one object (and its subresource)."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced:
            if namespace is None:
                raise ValueError(f"{self.kind} is namespaced: a namespace is needed")
            base += f"/namespaces/{quote(namespace, safe='')}"
        path = f"{base}/{self.plural}"
        if name is not None:
            path += f"/{quote(name, safe='')}"
            if subresource:
                path += f"/{subresource}"
        return path


RBAC = "rbac.authorization.k8s.io"
_TABLE = (
    Resource("Namespace", "", "v1", "namespaces", namespaced=False),
    Resource("Node", "", "v1", "nodes", namespaced=False),
    Resource("Pod", "", "v1", "pods", namespaced=True),
    Resource("ConfigMap", "", "v1", "configmaps", namespaced=True),
    Resource("Secret", "", "v1", "secrets", namespaced=True),
    Resource("Service", "", "v1", "services", namespaced=True),
    Resource("ServiceAccount", "", "v1", "serviceaccounts", namespaced=True),
    Resource("Event", "", "v1", "events", namespaced=True),
    Resource("ReplicationController", "", "v1", "replicationcontrollers", namespaced=True),
    Resource("Deployment", "apps", "v1", "deployments", namespaced=True),
    Resource("ReplicaSet", "apps", "v1", "replicasets", namespaced=True),
    Resource("StatefulSet", "apps", "v1", "statefulsets", namespaced=True),
    Resource("DaemonSet", "apps", "v1", "daemonsets", namespaced=True),
    Resource("Job", "batch", "v1", "jobs", namespaced=True),
    Resource("CronJob", "batch", "v1", "cronjobs", namespaced=True),
    Resource("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies", namespaced=True),
    Resource("Lease", "coordination.k8s.io", "v1", "leases", namespaced=True),
    Resource("Role", RBAC, "v1", "roles", namespaced=True),
    Resource("RoleBinding", RBAC, "v1", "rolebindings", namespaced=True),
    Resource("ClusterRole", RBAC, "v1", "clusterroles", namespaced=False),
    Resource("ClusterRoleBinding", RBAC, "v1", "clusterrolebindings", namespaced=False),
)
RESOURCES: dict[str, Resource] = {resource.kind: resource for resource in _TABLE}


def of(kind: str) -> Resource:
    """The table row of `kind`; ValueError naming the known kinds otherwise."""
    try:
        return RESOURCES[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}: expected one of {', '.join(sorted(RESOURCES))}") from None


def by_plural(group: str, plural: str) -> Resource | None:
    """The row for an RBAC-style (group, plural) pair, or None."""
    for resource in _TABLE:
        if resource.group == group and resource.plural == plural:
            return resource
    return None
