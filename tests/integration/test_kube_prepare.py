"""Kube.prepare: a served function opens its connections to the apiserver before its
first alert, in the background, and starts all the same when the apiserver is down."""

from __future__ import annotations

from pathlib import Path

from devcluster.controlplane import ControlPlane
from shared.kube.client import FIRST_READS, Kube


def open_connections(kube: Kube) -> int:
    """Idle connections in the client's pools (what prepare leaves behind)."""
    pools = kube._client().rest_client.pool_manager.pools
    idle = 0
    for key in pools.keys():
        queue = pools[key].pool
        assert queue is not None  # None only once a pool is closed
        idle += sum(1 for connection in queue.queue if connection is not None)
    return idle


def test_prepare_opens_the_connections_of_a_first_decision(cluster: ControlPlane) -> None:
    kubeconfig = cluster.serviceaccount_kubeconfig("riposte", "delete-configmap")
    cold = Kube(str(kubeconfig))
    assert open_connections(cold) == 0  # building the client opens nothing
    prepared = Kube(str(kubeconfig))
    prepared.prepare().join(timeout=10)
    assert open_connections(prepared) == FIRST_READS


def test_prepare_with_the_apiserver_unreachable_ends_quietly(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    thread = Kube(str(kubeconfig)).prepare()
    thread.join(timeout=10)
    assert not thread.is_alive()  # it gave up within its own deadline, raising nothing
