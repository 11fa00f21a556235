"""cordon-node against the real apiserver, as its own ServiceAccount (DESIGN §12).

Nodes and pod status are written by the admin client (no kubelet runs here): Ready
conditions, spec.nodeName, containerStatuses. Each escape rule cordons the pod's node
once (riposte's taint appended, the node's own taints kept, unschedulable, the label);
every stale or forged alert (pod uid, container id, host) and every node it must not
cordon (control plane, opted out, the last schedulable ones) is refused, nothing changed.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from tests.conftest import Serve
from tests.helpers import cloudevent_headers, encode, meta, present, shell_alert

RULES = (
    "Detect release_agent File Container Escapes",
    "Linux Kernel Module Injection Detected",
    "Debugfs Launched in Privileged Container",
)
CONTAINER = "a1b2c3d4e5f6" + "0" * 52
FOREIGN_TAINTS = [
    {"key": "gpu", "value": "true", "effect": "NoSchedule"},
    {"key": "spot", "effect": "PreferNoSchedule"},
]


def make_node(
    core: client.CoreV1Api, name: str, labels: dict[str, str] | None = None, taints: Any = None
) -> Any:
    core.create_node({"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}})
    status = {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}]}
    return core.patch_node_status(name, {"status": status})


def make_pod(core: client.CoreV1Api, namespace: str, node: str, name: str = "web-1") -> Any:
    spec = {"nodeName": node, "containers": [{"name": "c", "image": "x"}]}
    pod = core.create_namespaced_pod(namespace, {"metadata": {"name": name}, "spec": spec})
    status = {
        "phase": "Running",
        "containerStatuses": [{
            "name": "c", "image": "x", "imageID": "", "ready": True, "restartCount": 0,
            "containerID": f"containerd://{CONTAINER}", "state": {"running": {}},
        }],
    }  # fmt: skip
    core.patch_namespaced_pod_status(name, namespace, {"status": status})
    return pod


def escape(namespace: str, pod: Any, node: str, rule: str = RULES[0], **changes: Any) -> dict[str, Any]:
    alert = shell_alert(namespace, meta(pod).name or "")
    alert.update(rule=rule, priority="Critical", hostname=node)
    alert["output_fields"].update({"k8s.pod.uid": meta(pod).uid, "container.id": CONTAINER[:12]})
    alert["output_fields"].update(changes)
    return alert


def send(http: requests.Session, url: str, alert: dict[str, Any]) -> dict[str, Any]:
    response = http.post(url, data=encode(alert), headers=cloudevent_headers(alert))
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def ours(node: Any) -> list[Any]:
    return [t for t in (node.spec.taints or []) if t.key == "riposte.io/quarantine"]


def spec_of(node: client.V1Node) -> client.V1NodeSpec:
    return present(node.spec)


@pytest.fixture
def nodes(core: client.CoreV1Api) -> dict[str, str]:
    """Three fresh worker nodes: the pod's, and two others still schedulable."""
    suffix = uuid.uuid4().hex[:6]
    made = {role: f"{role}-{suffix}" for role in ("infected", "other-1", "other-2")}
    make_node(core, made["infected"], taints=FOREIGN_TAINTS)
    make_node(core, made["other-1"])
    make_node(core, made["other-2"])
    return made


@pytest.mark.parametrize("rule", RULES)
def test_an_escape_cordons_the_pods_node_keeping_its_own_taints(
    serve: Serve,
    core: client.CoreV1Api,
    http: requests.Session,
    namespace: str,
    nodes: dict[str, str],
    rule: str,
) -> None:
    fn = serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE="0")
    pod = make_pod(core, namespace, nodes["infected"])
    reply = send(http, fn.url, escape(namespace, pod, nodes["infected"], rule))
    assert reply["outcome"] == "acted", reply
    assert reply["target"] == {"kind": "Node", "namespace": None, "name": nodes["infected"]}
    node = core.read_node(nodes["infected"])
    assert spec_of(node).unschedulable is True and len(ours(node)) == 1
    assert {(t.key, t.effect) for t in present(spec_of(node).taints)} >= {
        ("gpu", "NoSchedule"),
        ("spot", "PreferNoSchedule"),
    }
    assert (meta(node).labels or {})["riposte.io/quarantine"] == "true"
    events = [
        e for e in core.list_namespaced_event("default").items if e.involved_object.name == nodes["infected"]
    ]
    assert len(events) == 1 and events[0].involved_object.kind == "Node"
    assert spec_of(core.read_node(nodes["other-1"])).unschedulable is None


def test_redeliveries_and_concurrent_duplicates_cordon_once(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, nodes: dict[str, str]
) -> None:
    fn = serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE="0")
    pod = make_pod(core, namespace, nodes["infected"])
    alert = escape(namespace, pod, nodes["infected"])
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(
            pool.map(
                lambda _: requests.post(
                    fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=60
                ).json()["outcome"],
                range(8),
            )
        )
    assert outcomes.count("acted") == 1 and set(outcomes) <= {"acted", "already-done"}, outcomes
    assert len(ours(core.read_node(nodes["infected"]))) == 1
    another = escape(namespace, pod, nodes["infected"], RULES[1])
    assert send(http, fn.url, another)["outcome"] == "already-done"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"k8s.pod.uid": "00000000-0000-0000-0000-000000000000"}, "another pod"),
        ({"container.id": "ffffffffffff"}, "no container of the live pod"),
        ({"k8s.pod.uid": None}, "k8s.pod.uid"),
    ],
)
def test_a_stale_or_forged_alert_changes_nothing(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, nodes: dict[str, str],
    changes: dict[str, Any], says: str,
) -> None:  # fmt: skip
    fn = serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE="0")
    pod = make_pod(core, namespace, nodes["infected"])
    reply = send(http, fn.url, escape(namespace, pod, nodes["infected"], **changes))
    assert reply["outcome"] == "refused" and says in reply["reason"], reply
    assert ours(core.read_node(nodes["infected"])) == []


def test_a_hostname_that_is_not_the_pods_node_is_refused(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, nodes: dict[str, str]
) -> None:
    fn = serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE="0")
    pod = make_pod(core, namespace, nodes["infected"])
    reply = send(http, fn.url, escape(namespace, pod, nodes["other-1"]))
    assert reply["outcome"] == "refused" and "came from host" in reply["reason"]
    assert ours(core.read_node(nodes["infected"])) == [] and ours(core.read_node(nodes["other-1"])) == []


@pytest.mark.parametrize(
    "labels",
    [{"node-role.kubernetes.io/control-plane": ""}, {"node-role.kubernetes.io/master": ""},
     {"node-restriction.kubernetes.io/riposte-ignore": "true"}],
)  # fmt: skip
def test_control_plane_and_opted_out_nodes_are_never_cordoned(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, labels: dict[str, str]
) -> None:
    fn = serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE="0")
    name = f"special-{uuid.uuid4().hex[:6]}"
    make_node(core, name, labels=labels)
    pod = make_pod(core, namespace, name)
    assert send(http, fn.url, escape(namespace, pod, name))["outcome"] == "refused"
    assert not spec_of(core.read_node(name)).unschedulable


def test_the_last_schedulable_nodes_are_never_cordoned(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, nodes: dict[str, str]
) -> None:
    everyone = len([n for n in core.list_node().items if not spec_of(n).unschedulable])
    fn = serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE=str(everyone))  # more than would be left
    pod = make_pod(core, namespace, nodes["infected"])
    reply = send(http, fn.url, escape(namespace, pod, nodes["infected"]))
    assert reply["outcome"] == "refused" and "RIPOSTE_CORDON_MIN_SCHEDULABLE" in reply["reason"]
    assert ours(core.read_node(nodes["infected"])) == []


def test_host_events_are_not_for_it_and_dry_run_changes_nothing(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, nodes: dict[str, str]
) -> None:
    pod = make_pod(core, namespace, nodes["infected"])
    host = escape(namespace, pod, nodes["infected"], **{"container.id": "host"})
    fn = serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE="0")
    assert http.post(fn.url, data=encode(host), headers=cloudevent_headers(host)).status_code == 204
    dry = serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE="0", RIPOSTE_DRY_RUN="true")
    assert send(http, dry.url, escape(namespace, pod, nodes["infected"]))["outcome"] == "dry-run"
    assert ours(core.read_node(nodes["infected"])) == []


def test_an_apiserver_outage_is_a_503_and_the_redelivery_cordons(
    serve: Serve, cluster: ControlPlane, core: client.CoreV1Api, http: requests.Session, namespace: str,
    nodes: dict[str, str],
) -> None:  # fmt: skip
    fn = serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE="0", RIPOSTE_DEADLINE_SECONDS="2")
    pod = make_pod(core, namespace, nodes["infected"])
    alert = escape(namespace, pod, nodes["infected"])
    cluster.stop_apiserver()
    try:
        down = http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)
        assert down.status_code == 503
    finally:
        cluster.start_apiserver()
    from tests.helpers import redeliver_until_answered

    again = redeliver_until_answered(
        lambda: http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert))
    )
    assert again.json()["outcome"] == "acted"
    assert len(ours(core.read_node(nodes["infected"]))) == 1
