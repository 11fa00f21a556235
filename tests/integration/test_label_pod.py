"""label-pod, the smallest response on the runner, as its own ServiceAccount.

Opt-in: without RIPOSTE_RULES it refuses to start, saying so. With rules, it labels
exactly the pod an alert names (uid precondition), answers `already-done` for the same
pod again, and 204 for rules it was not given.
"""

from __future__ import annotations

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionError, FunctionProcess
from tests.conftest import Serve
from tests.helpers import cloudevent_headers, configmap_alert, encode, meta, shell_alert

RULES = '["Terminal shell in container"]'
LABEL = "riposte.io/suspicious"


def test_without_rules_it_refuses_to_start(cluster: ControlPlane) -> None:
    kubeconfig = cluster.serviceaccount_kubeconfig("riposte", "label-pod")
    process = FunctionProcess("label-pod", {"KUBECONFIG": str(kubeconfig)}, workdir=cluster.workdir)
    try:
        with pytest.raises(FunctionError, match="RIPOSTE_RULES"):
            process.wait_ready(timeout=30)
    finally:
        process.stop()


def test_it_labels_exactly_the_pod_once(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    fn = serve("label-pod", RIPOSTE_RULES=RULES)
    for name in ("web-1", "web-2"):
        spec = {"containers": [{"name": "c", "image": "nginx:1.27"}]}
        core.create_namespaced_pod(namespace, {"metadata": {"name": name}, "spec": spec})
    alert = shell_alert(namespace, "web-1")
    reply = http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert)).json()
    assert reply["outcome"] == "acted", reply
    assert (meta(core.read_namespaced_pod("web-1", namespace)).labels or {}) == {
        LABEL: "terminal-shell-in-container"
    }
    assert not meta(core.read_namespaced_pod("web-2", namespace)).labels
    again = shell_alert(namespace, "web-1")
    assert http.post(fn.url, data=encode(again), headers=cloudevent_headers(again)).json()["outcome"] == (
        "already-done"
    )
    other = configmap_alert(namespace, "x")
    assert http.post(fn.url, data=encode(other), headers=cloudevent_headers(other)).status_code == 204
