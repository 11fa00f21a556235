"""Shared fixtures: the real local control plane, the shipped RBAC, real SA tokens.

The control plane is started once per test session (hack/build-apiserver.sh builds the
apiserver on first use, printing its progress). It cannot be skipped: if it cannot start,
every test here fails with the reason. deploy/knative's namespace and RBAC are applied as
shipped, and each function runs as its own ServiceAccount with a TokenRequest token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import requests.adapters
from kubernetes import client

from devcluster import manifests
from devcluster.controlplane import ControlPlane, ControlPlaneError
from devcluster.functions import FunctionProcess
from devcluster.kubelet import Kubelet
from tests.helpers import check_reply

Serve = Callable[..., FunctionProcess]


@pytest.fixture(scope="session", autouse=True)
def every_reply_matches_the_schema() -> Iterator[None]:
    """Validate every reply any test receives over requests (raw socket exchanges check
    theirs in tests/helpers.py)."""
    send = requests.adapters.HTTPAdapter.send

    def checked(self: requests.adapters.HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = send(self, request, *args, **kwargs)
        check_reply(response.headers, response.content)
        return response

    requests.adapters.HTTPAdapter.send = checked  # type: ignore[method-assign]
    yield
    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def cluster() -> Iterator[ControlPlane]:
    try:
        plane = ControlPlane.start()
    except ControlPlaneError as exc:
        pytest.fail(f"the local control plane could not start (DESIGN.md §9): {exc}", pytrace=False)
    try:
        manifests.apply(plane.client(), manifests.base())
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def core(cluster: ControlPlane) -> client.CoreV1Api:
    return client.CoreV1Api(cluster.client())


@pytest.fixture(scope="session")
def kubelet(cluster: ControlPlane) -> Iterator[Kubelet]:
    """A stand-in kubelet registered as a Node (`kubelet.node_name`): pods placed on it
    (`spec.nodeName`) have their logs served through the real apiserver's pods/log."""
    with Kubelet(cluster.workdir, client_ca=cluster.kubelet_client_ca) as stand_in:
        stand_in.register(cluster.client(), f"kubelet-{uuid.uuid4().hex[:8]}")
        yield stand_in


@pytest.fixture(scope="session")
def serve(cluster: ControlPlane) -> Iterator[Serve]:
    """Start a function as its own ServiceAccount; same settings share one process."""
    running: dict[tuple[object, ...], FunctionProcess] = {}

    def start(function: str, **env: str) -> FunctionProcess:
        # The blast-radius budget and cooldown are tested on their own (test_budget.py);
        # elsewhere they would turn many test actions into refusals.
        env = {"RIPOSTE_BUDGET": "1000/1s", "RIPOSTE_COOLDOWN_SECONDS": "0", **env}
        key = (function, *sorted(env.items()))
        if key not in running:
            kubeconfig = cluster.serviceaccount_kubeconfig("riposte", function)
            process = FunctionProcess(
                function, {"KUBECONFIG": str(kubeconfig), **env}, workdir=cluster.workdir
            )
            running[key] = process.wait_ready()
        return running[key]

    yield start
    for process in running.values():
        process.stop()


@pytest.fixture
def namespace(core: client.CoreV1Api) -> str:
    """A fresh namespace (never deleted: no namespace controller runs here)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace({"metadata": {"name": name}})
    return name


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
