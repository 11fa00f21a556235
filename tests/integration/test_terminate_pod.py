"""terminate-pod against the real apiserver, as its own ServiceAccount (DESIGN §12).

Pods here have no node unless a test needs logs (without a kubelet, a graceful delete of
a pod on a node waits for that node forever; a pod with no node is deleted at once), and
their status is set by the admin. Covered: each rule's real format keeps the evidence and
then deletes exactly that pod; the pod-create rules only for standalone pods that still
have the host flag and that the audited request made; owned pods on syscall rules, with
the top owner as the cooldown key; redelivery and concurrent duplicates; stale or forged
alerts, mirror pods, protected namespaces, exemptions and dry-run change nothing; a grace
period of 0 refuses to start; an apiserver outage is a 503, then the redelivery acts.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.kubelet import Kubelet
from shared import errors
from shared.acting import runner
from tests.conftest import Serve
from tests.helpers import (
    cloudevent_headers,
    encode,
    load_function,
    meta,
    redeliver_until_answered,
    sidekick,
)

FUNCTION = "terminate-pod"
CONTAINER = "3ad7b26ded6d" + "4" * 52
FLAGS = {
    "Create HostNetwork Pod": "hostNetwork",
    "Create HostPid Pod": "hostPID",
    "Create HostIPC Pod": "hostIPC",
}
SYSCALL = ("Drop and execute new binary in container", "Fileless execution via memfd_create")


def make_pod(
    core: client.CoreV1Api, namespace: str, *, name: str = "edge-proxy", flag: str | None = None,
    owner: dict[str, Any] | None = None, node: str | None = None, annotations: dict[str, str] | None = None,
) -> Any:  # fmt: skip
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}]}
    if flag:
        spec[flag] = True
    if node:
        spec["nodeName"] = node
    metadata: dict[str, Any] = {"name": name, "annotations": annotations or {}}
    if owner:
        metadata["ownerReferences"] = [owner]
    pod = core.create_namespaced_pod(namespace, {"metadata": metadata, "spec": spec})
    status = {"phase": "Running", "containerStatuses": [{
        "name": "c", "image": "x", "imageID": "", "ready": True, "restartCount": 0,
        "containerID": f"containerd://{CONTAINER}", "state": {"running": {}}}]}  # fmt: skip
    core.patch_namespaced_pod_status(name, namespace, {"status": status})
    return pod


def audit_alert(namespace: str, pod: Any, rule: str, **changes: Any) -> dict[str, Any]:
    """The fixture's "Create HostNetwork Pod" as Falcosidekick forwards it, as `rule`,
    with what deploy/falco appends (response code, the created pod's uid)."""
    alert = {**sidekick("k8saudit_create_hostnetwork_pod"), "uuid": str(uuid.uuid4()), "rule": rule}
    alert["output_fields"] = {
        **alert["output_fields"],
        "ka.resp.name": meta(pod).name,
        "ka.target.namespace": namespace,
        "ka.verb": "create",
        "ka.response.code": "201",
        "ka.resp.uid": meta(pod).uid,
        **changes,
    }
    return alert


def syscall_alert(namespace: str, pod: Any, rule: str = SYSCALL[0], **changes: Any) -> dict[str, Any]:
    alert = {**sidekick("syscall_drop_and_execute_new_binary_in_container"), "uuid": str(uuid.uuid4())}
    alert["rule"] = rule
    alert["output_fields"] = {
        **alert["output_fields"],
        "k8s.ns.name": namespace,
        "k8s.pod.name": meta(pod).name,
        "k8s.pod.uid": meta(pod).uid,
        "container.id": CONTAINER[:12],
        **changes,
    }
    return alert


def send(http: requests.Session, url: str, alert: dict[str, Any]) -> dict[str, Any]:
    response = http.post(url, data=encode(alert), headers=cloudevent_headers(alert))
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def pods(core: client.CoreV1Api, namespace: str) -> list[str]:
    return [meta(p).name or "" for p in core.list_namespaced_pod(namespace).items]


def evidence_of(core: client.CoreV1Api, namespace: str) -> list[Any]:
    selector = f"riposte.io/evidence=true,riposte.io/source-namespace={namespace}"
    return core.list_namespaced_secret("riposte", label_selector=selector).items


def replicaset(cluster: ControlPlane, namespace: str) -> dict[str, Any]:
    """A ReplicaSet (no controller runs: it makes no pods) and the ownerReference to it."""
    made = client.AppsV1Api(cluster.client()).create_namespaced_replica_set(namespace, {
        "metadata": {"name": "web-5d4"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "x"}]}}},
    })  # fmt: skip
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4", "uid": meta(made).uid,
            "controller": True}  # fmt: skip


@pytest.mark.parametrize("rule", FLAGS)
def test_a_standalone_host_pod_is_deleted_after_its_evidence_is_kept(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, rule: str
) -> None:
    pod = make_pod(core, namespace, flag=FLAGS[rule])
    reply = send(http, serve(FUNCTION).url, audit_alert(namespace, pod, rule))
    assert reply["outcome"] == "acted", reply
    assert "manifest is kept in the evidence" in reply["reason"]
    assert pods(core, namespace) == []
    [secret] = evidence_of(core, namespace)
    assert meta(secret).name == f"riposte-evidence-{meta(pod).uid}"
    # README "Recovering a terminated pod's manifest": the same fields dropped, created again.
    document = json.loads(gzip.decompress(base64.b64decode((secret.data or {})["evidence.json.gz"])))
    manifest = {k: v for k, v in document["pod"].items() if k != "status"}
    manifest["spec"] = {k: v for k, v in manifest["spec"].items() if k != "nodeName"}
    dropped = ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
               "deletionGracePeriodSeconds", "ownerReferences", "generateName")  # fmt: skip
    manifest["metadata"] = {k: v for k, v in manifest["metadata"].items() if k not in dropped}
    restored = core.create_namespaced_pod(namespace, manifest)
    assert getattr(restored.spec, {"hostNetwork": "host_network", "hostPID": "host_pid",
                                   "hostIPC": "host_ipc"}[FLAGS[rule]]) is True  # fmt: skip


@pytest.mark.parametrize("rule", SYSCALL)
def test_a_syscall_rule_deletes_an_owned_pod_naming_what_replaces_it(
    serve: Serve, cluster: ControlPlane, core: client.CoreV1Api, http: requests.Session, namespace: str,
    rule: str,
) -> None:  # fmt: skip
    pod = make_pod(core, namespace, name="web-5d4-x", owner=replicaset(cluster, namespace))
    reply = send(http, serve(FUNCTION).url, syscall_alert(namespace, pod, rule))
    assert reply["outcome"] == "acted" and "ReplicaSet web-5d4 will replace it" in reply["reason"], reply
    assert pods(core, namespace) == [] and len(evidence_of(core, namespace)) == 1


def test_the_top_owner_is_the_cooldown_key(
    serve: Serve, cluster: ControlPlane, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    fn = serve(FUNCTION, RIPOSTE_COOLDOWN_SECONDS="600")
    owner = replicaset(cluster, namespace)
    first, second = (make_pod(core, namespace, name=f"web-5d4-{n}", owner=owner) for n in (1, 2))
    assert send(http, fn.url, syscall_alert(namespace, first))["outcome"] == "acted"
    again = send(http, fn.url, syscall_alert(namespace, second))
    assert again["outcome"] == "refused" and "cooldown" in again["reason"], again
    assert pods(core, namespace) == ["web-5d4-2"]


def test_the_evidence_holds_logs_read_through_the_stand_in_kubelet(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session, namespace: str
) -> None:
    pod = make_pod(core, namespace, node=kubelet.node_name)
    kubelet.put(namespace, "edge-proxy", "c", "dropped /tmp/kdevtmpfsi\n")
    reply = send(http, serve(FUNCTION).url, syscall_alert(namespace, pod))
    assert reply["outcome"] == "acted", reply
    asked = [r for r in kubelet.requests if r.namespace == namespace]
    assert asked and asked[-1].query["tailLines"] == "500"
    # On a node, a graceful delete waits for its kubelet: the pod is terminating.
    assert meta(core.read_namespaced_pod("edge-proxy", namespace)).deletion_timestamp is not None
    assert send(http, serve(FUNCTION).url, syscall_alert(namespace, pod))["outcome"] == "already-done"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"ka.response.code": "403"}, "the audited request failed"),
        ({"ka.resp.uid": None}, "ka.resp.uid"),
        ({"ka.resp.uid": "00000000-0000-0000-0000-000000000000"}, "another object"),
        ({"ka.resp.name": "gone-1"}, "not found"),
    ],
)
def test_an_audit_alert_about_another_or_a_failed_request_deletes_nothing(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, changes: dict[str, Any],
    says: str,
) -> None:  # fmt: skip
    pod = make_pod(core, namespace, flag="hostNetwork")
    reply = send(http, serve(FUNCTION).url, audit_alert(namespace, pod, "Create HostNetwork Pod", **changes))
    assert reply["outcome"] == "refused" and says in reply["reason"], reply
    assert pods(core, namespace) == ["edge-proxy"] and evidence_of(core, namespace) == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"k8s.pod.uid": "00000000-0000-0000-0000-000000000000"}, "another pod"),
        ({"container.id": "ffffffffffff"}, "no container of the live pod"),
    ],
)
def test_a_stale_syscall_alert_deletes_nothing(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, changes: dict[str, Any],
    says: str,
) -> None:  # fmt: skip
    pod = make_pod(core, namespace)
    reply = send(http, serve(FUNCTION).url, syscall_alert(namespace, pod, **changes))
    assert reply["outcome"] == "refused" and says in reply["reason"], reply
    assert pods(core, namespace) == ["edge-proxy"] and evidence_of(core, namespace) == []


def test_owned_pods_lost_flags_and_mirror_pods_are_refused(
    serve: Serve, cluster: ControlPlane, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    fn = serve(FUNCTION)
    owned = make_pod(core, namespace, name="owned", flag="hostPID", owner=replicaset(cluster, namespace))
    reply = send(http, fn.url, audit_alert(namespace, owned, "Create HostPid Pod"))
    assert reply["outcome"] == "refused" and "owned by ReplicaSet/web-5d4" in reply["reason"], reply
    plain = make_pod(core, namespace, name="plain")
    reply = send(http, fn.url, audit_alert(namespace, plain, "Create HostIPC Pod"))
    assert reply["outcome"] == "refused" and "no longer has hostIPC" in reply["reason"], reply
    mirror = make_pod(
        core, namespace, name="static", node="static-node", annotations={"kubernetes.io/config.mirror": "x"}
    )
    reply = send(http, fn.url, syscall_alert(namespace, mirror))
    assert reply["outcome"] == "refused" and "mirror" in reply["reason"], reply
    assert sorted(pods(core, namespace)) == ["owned", "plain", "static"]
    assert evidence_of(core, namespace) == []


def test_protected_exempt_host_and_dry_run_delete_nothing(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    pod = make_pod(core, namespace)
    fn = serve(FUNCTION)
    for protected in ("kube-system", "riposte"):
        reply = send(http, fn.url, syscall_alert(namespace, pod, **{"k8s.ns.name": protected}))
        assert reply["outcome"] == "refused", reply
    host = syscall_alert(namespace, pod, **{"container.id": "host"})
    assert http.post(fn.url, data=encode(host), headers=cloudevent_headers(host)).status_code == 204
    exempt = serve(
        FUNCTION, RIPOSTE_EXEMPT=json.dumps([{"kind": "Pod", "namespace": namespace, "name": "edge-proxy"}])
    )
    assert send(http, exempt.url, syscall_alert(namespace, pod))["outcome"] == "refused"
    dry = send(http, serve(FUNCTION, RIPOSTE_DRY_RUN="true").url, syscall_alert(namespace, pod))
    assert dry["outcome"] == "dry-run" and "delete the pod" in dry["reason"]
    assert pods(core, namespace) == ["edge-proxy"] and evidence_of(core, namespace) == []


def test_redeliveries_and_concurrent_duplicates_delete_once(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    fn = serve(FUNCTION)
    pod = make_pod(core, namespace)
    alert = syscall_alert(namespace, pod)
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
    again = send(http, fn.url, alert)
    assert again["outcome"] == "already-done" and "riposte-evidence-" in again["reason"], again
    assert pods(core, namespace) == [] and len(evidence_of(core, namespace)) == 1


def test_a_grace_period_of_zero_is_refused_as_a_setting() -> None:
    spec = load_function(FUNCTION).SPEC
    with pytest.raises(errors.ConfigError, match="force delete"):
        runner.load_settings(spec, {"RIPOSTE_TERMINATE_GRACE_SECONDS": "0"})
    assert load_function(FUNCTION).GRACE.of(runner.load_settings(spec, {})) == 1


def test_an_apiserver_outage_is_a_503_and_the_redelivery_deletes(
    serve: Serve, cluster: ControlPlane, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    fn = serve(FUNCTION, RIPOSTE_DEADLINE_SECONDS="2")
    pod = make_pod(core, namespace)
    alert = syscall_alert(namespace, pod)
    cluster.stop_apiserver()
    try:
        down = http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)
        assert down.status_code == 503
    finally:
        cluster.start_apiserver()
    assert pods(core, namespace) == ["edge-proxy"]
    again = redeliver_until_answered(
        lambda: http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert))
    )
    assert again.json()["outcome"] == "acted"
    assert pods(core, namespace) == [] and len(evidence_of(core, namespace)) == 1
