"""The baselines made straight with the official kubernetes client, as the function's own
ServiceAccount (an SA token costs the apiserver a token review per call that an admin
token does not), and the admin set-up the benchmarks need.

A naive delete is four calls: read the ConfigMap, create a copy (a Secret in riposte's
namespace), delete it with uid + resourceVersion preconditions, create an Event. The
burst baseline adds one compare-and-swap write of one shared Lease per action, re-read
and retried on 409: the least a budget shared by every replica can cost.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

from kubernetes import client, config

from bench.common import SEED_DATA

COPIES = "riposte"  # copies live in riposte's namespace, as riposte's do
LEASE = "riposte-budget-delete-configmap"  # the Lease delete-configmap's SA may update


def serviceaccount_api(kubeconfig: Path, pool: int = 16) -> client.ApiClient:
    """The stock official client from a kubeconfig, its connection pool as large as the
    concurrency using it."""
    configuration = client.Configuration()
    config.load_kube_config(  # type: ignore[no-untyped-call]  # unannotated in kubernetes 37
        config_file=str(kubeconfig), client_configuration=configuration
    )
    configuration.connection_pool_maxsize = pool
    return client.ApiClient(configuration)


def create_configmaps(core: client.CoreV1Api, namespace: str, names: list[str]) -> None:
    """The seed's ConfigMaps, as admin (a few at a time: set-up, not measured)."""

    def create(name: str) -> None:
        core.create_namespaced_config_map(
            namespace, cast(Any, {"metadata": {"name": name}, "data": SEED_DATA})
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, names))


def reset_lease(coordination: client.CoordinationV1Api, shipped: dict[str, Any]) -> None:
    """Replace the budget Lease by the one deploy/ ships (empty): a fresh window, whatever
    the budget keeps in it."""
    meta = shipped["metadata"]
    try:
        coordination.delete_namespaced_lease(meta["name"], meta["namespace"])
    except client.ApiException as exc:
        if exc.status != 404:
            raise
    coordination.create_namespaced_lease(meta["namespace"], cast(Any, shipped))


def naive_delete(core: client.CoreV1Api, namespace: str, name: str, *, tag: str) -> None:
    """Read, copy, delete with preconditions, Event."""
    live = core.read_namespaced_config_map(name, namespace)
    meta = live.metadata
    assert meta is not None and meta.uid is not None
    copy = {"name": meta.name, "namespace": meta.namespace, "data": live.data}
    core.create_namespaced_secret(
        COPIES,
        cast(
            Any,
            {
                "metadata": {"name": f"{tag}-{meta.uid}"},
                "data": {"configmap.json": base64.b64encode(json.dumps(copy).encode()).decode()},
            },
        ),
    )
    core.delete_namespaced_config_map(
        name,
        namespace,
        body=cast(Any, {"preconditions": {"uid": meta.uid, "resourceVersion": meta.resource_version}}),
    )
    core.create_namespaced_event(
        namespace,
        cast(
            Any,
            {
                "metadata": {"name": f"{tag}-{meta.uid}"},
                "involvedObject": {
                    "kind": "ConfigMap",
                    "namespace": namespace,
                    "name": name,
                    "uid": meta.uid,
                },
                "reason": "Deleted",
                "message": f"bench baseline {tag}",
                "type": "Normal",
            },
        ),
    )


def cas_lease(coordination: client.CoordinationV1Api) -> int:
    """One compare-and-swap write of the shared Lease; re-read on 409. The conflicts met."""
    conflicts = 0
    while True:
        lease = coordination.read_namespaced_lease(LEASE, COPIES)
        assert lease.metadata is not None
        annotations = lease.metadata.annotations or {}
        annotations["bench.riposte.io/spent"] = str(int(annotations.get("bench.riposte.io/spent", "0")) + 1)
        lease.metadata.annotations = annotations
        try:
            coordination.replace_namespaced_lease(LEASE, COPIES, lease)
            return conflicts
        except client.ApiException as exc:
            if exc.status != 409:
                raise
            conflicts += 1


class Baseline:
    """The raw calls, as the ServiceAccount; one client per thread, as concurrent callers."""

    def __init__(self, kubeconfig: Path) -> None:
        self._kubeconfig = kubeconfig
        self._local = threading.local()

    def _api(self) -> client.ApiClient:
        api: client.ApiClient | None = getattr(self._local, "api", None)
        if api is None:
            api = self._local.api = serviceaccount_api(self._kubeconfig, pool=2)
        return api

    def delete(self, namespace: str, name: str) -> float:
        """The four calls of a naive delete; seconds taken."""
        started = time.perf_counter()
        naive_delete(client.CoreV1Api(self._api()), namespace, name, tag=f"raw-{uuid.uuid4().hex[:8]}")
        return time.perf_counter() - started

    def delete_with_lease(self, namespace: str, name: str) -> tuple[float, int]:
        """The Lease's compare-and-swap, then the four calls; (seconds, conflicts met)."""
        started = time.perf_counter()
        api = self._api()
        conflicts = cas_lease(client.CoordinationV1Api(api))
        naive_delete(client.CoreV1Api(api), namespace, name, tag=f"cas-{uuid.uuid4().hex[:8]}")
        return time.perf_counter() - started, conflicts
