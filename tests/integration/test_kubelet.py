"""The stand-in kubelet (devcluster/kubelet.py) behind the real apiserver's pods/log.

Every request here goes through the apiserver, which finds the pod's Node, connects to
the Node's InternalIP and kubelet port with its kubelet client certificate, and proxies
the answer: what riposte's functions will see. Covered: tailLines and limitBytes
forwarded and applied as a kubelet applies them, the previous instance, the kubelet's
refusals (not started, no previous instance) as the apiserver relays them, a pod with no
node (204, empty), and a caller without a client certificate (401).
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from typing import Any

import pytest
from kubernetes import client

from devcluster.kubelet import Kubelet

LOG = "".join(f"line {n}\n" for n in range(1, 21))


def pod_on(core: client.CoreV1Api, namespace: str, node: str | None, name: str = "web-1") -> None:
    spec: dict[str, object] = {"containers": [{"name": "c", "image": "x"}, {"name": "side", "image": "y"}]}
    if node:
        spec["nodeName"] = node
    core.create_namespaced_pod(namespace, {"metadata": {"name": name}, "spec": spec})


def log(core: client.CoreV1Api, namespace: str, **options: object) -> str:
    text: str = core.read_namespaced_pod_log("web-1", namespace, **options)
    return text


def test_the_apiserver_forwards_tail_lines_and_limit_bytes_to_the_pods_node(
    core: client.CoreV1Api, kubelet: Kubelet, namespace: str
) -> None:
    pod_on(core, namespace, kubelet.node_name)
    kubelet.put(namespace, "web-1", "c", LOG)
    assert log(core, namespace, container="c", tail_lines=3) == "line 18\nline 19\nline 20\n"
    assert log(core, namespace, container="c", tail_lines=3, limit_bytes=10) == "line 18\nli"
    forwarded = [r for r in kubelet.requests if r.namespace == namespace]
    assert forwarded[-1].container == "c"
    assert forwarded[-1].query == {"tailLines": "3", "limitBytes": "10"}


def test_the_previous_instance_and_the_kubelets_refusals_are_relayed(
    core: client.CoreV1Api, kubelet: Kubelet, namespace: str
) -> None:
    pod_on(core, namespace, kubelet.node_name)
    kubelet.put(namespace, "web-1", "c", "now\n", previous="before the crash\n")
    kubelet.waiting(namespace, "web-1", "side")
    assert log(core, namespace, container="c", previous=True) == "before the crash\n"
    with pytest.raises(client.ApiException) as waiting:
        log(core, namespace, container="side")
    assert waiting.value.status == 400 and "waiting to start" in str(waiting.value.body)
    kubelet.put(namespace, "web-1", "side", "up\n")
    with pytest.raises(client.ApiException) as no_previous:
        log(core, namespace, container="side", previous=True)
    assert no_previous.value.status == 400 and "previous terminated container" in str(no_previous.value.body)


def test_a_pod_without_a_node_has_an_empty_204_log(core: client.CoreV1Api, namespace: str) -> None:
    pod_on(core, namespace, None)
    raw: Any = core.read_namespaced_pod_log(
        "web-1", namespace, container="c", tail_lines=10, _preload_content=False
    )
    assert (raw.status, raw.data) == (204, b"")


def test_a_caller_without_the_apiservers_client_certificate_is_unauthorized(kubelet: Kubelet) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    url = f"https://127.0.0.1:{kubelet.port}/containerLogs/shop/web-1/c"
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(url, context=context, timeout=10)
    assert denied.value.code == 401
