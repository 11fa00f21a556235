"""capture-evidence against the real apiserver, as its own ServiceAccount, with the
stand-in kubelet serving logs through the real pods/log path (DESIGN §9, §12).

Pods are placed on the stand-in's Node and their status (container ids, restart counts)
set by the admin, as a kubelet would. Covered: each default rule's real format keeps one
Secret per pod uid (alert redacted, pod, owner chain, Events, logs with tailLines and
limitBytes, the previous instance, sha256), redeliveries and later alerts answer
already-done naming it, concurrent duplicates keep one, stale or forged alerts (pod uid,
container id, gone) and protected or exempt pods are refused with nothing kept, dry-run
keeps nothing, a pod with no node or a container not started has its logs recorded as
unavailable, truncation is marked, the Secret stays under 900 KiB, a full store refuses,
an apiserver outage is a 503 and the redelivery keeps the evidence.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.kubelet import Kubelet
from tests.conftest import Serve
from tests.helpers import (
    annotations_of,
    cloudevent_headers,
    encode,
    load_function,
    meta,
    redeliver_until_answered,
    shell_alert,
    sidekick,
)

FUNCTION = "capture-evidence"
RULES: tuple[str, ...] = load_function(FUNCTION).RULES
CONTAINER = "3ad7b26ded6d" + "1" * 52
SIDECAR = "9f8e7d6c5b4a" + "2" * 52


def make_pod(
    core: client.CoreV1Api,
    namespace: str,
    node: str | None,
    *,
    name: str = "web-1",
    restarts: int = 0,
    owner: dict[str, Any] | None = None,
    sidecar_started: bool = True,
) -> Any:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}, {"name": "side", "image": "y"}]}
    if node:
        spec["nodeName"] = node
    metadata: dict[str, Any] = {"name": name, "labels": {"app": "web"}}
    if owner:
        metadata["ownerReferences"] = [owner]
    pod = core.create_namespaced_pod(namespace, {"metadata": metadata, "spec": spec})
    side_state = {"running": {}} if sidecar_started else {"waiting": {"reason": "ContainerCreating"}}
    status = {
        "phase": "Running",
        "containerStatuses": [
            {"name": "c", "image": "x", "imageID": "", "ready": True, "restartCount": restarts,
             "containerID": f"containerd://{CONTAINER}", "state": {"running": {}}},
            {"name": "side", "image": "y", "imageID": "", "ready": sidecar_started, "restartCount": 0,
             "containerID": f"containerd://{SIDECAR}" if sidecar_started else None, "state": side_state},
        ],
    }  # fmt: skip
    core.patch_namespaced_pod_status(name, namespace, {"status": status})
    return pod


def alert_for(namespace: str, pod: Any, rule: str = "Read sensitive file untrusted", **changes: Any) -> Any:
    """A real format per rule: the fixture of the rule when there is one, else the shell's
    with that rule, and the fields deploy/falco appends (k8s.pod.uid)."""
    fixtures = {
        "Read sensitive file untrusted": "syscall_read_sensitive_file_untrusted",
        "Contact K8S API Server From Container": "syscall_contact_k8s_api_server_from_container",
        "Terminal shell in container": "syscall_terminal_shell_in_container",
    }
    alert = shell_alert(namespace, meta(pod).name or "")
    if rule in fixtures:
        alert = {**sidekick(fixtures[rule]), "uuid": str(uuid.uuid4())}
        alert["output_fields"].update({"k8s.ns.name": namespace, "k8s.pod.name": meta(pod).name})
    alert["rule"] = rule
    alert["output_fields"].update({"k8s.pod.uid": meta(pod).uid, "container.id": CONTAINER[:12]})
    alert["output_fields"].update(changes)
    return alert


def send(http: requests.Session, url: str, alert: dict[str, Any]) -> dict[str, Any]:
    response = http.post(url, data=encode(alert), headers=cloudevent_headers(alert))
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def kept(core: client.CoreV1Api, pod: Any) -> tuple[Any, dict[str, Any]]:
    """The evidence Secret of `pod` and its document, checked against its sha256."""
    secret = core.read_namespaced_secret(f"riposte-evidence-{meta(pod).uid}", "riposte")
    raw = gzip.decompress(base64.b64decode((secret.data or {})["evidence.json.gz"]))
    assert annotations_of(secret)["riposte.io/sha256"] == hashlib.sha256(raw).hexdigest()
    document: dict[str, Any] = json.loads(raw)
    return secret, document


def evidence_of(core: client.CoreV1Api, namespace: str) -> list[Any]:
    selector = f"riposte.io/evidence=true,riposte.io/source-namespace={namespace}"
    return core.list_namespaced_secret("riposte", label_selector=selector).items


def log(document: dict[str, Any], container: str, instance: str = "current") -> dict[str, Any]:
    found: dict[str, Any] = next(
        x for x in document["logs"] if x["container"] == container and x["instance"] == instance
    )
    return found


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_keeps_one_secret_of_the_pods_evidence(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session, namespace: str, rule: str
) -> None:
    fn = serve(FUNCTION)
    pod = make_pod(core, namespace, kubelet.node_name)
    kubelet.put(namespace, "web-1", "c", "".join(f"req {n}\n" for n in range(800)))
    kubelet.put(namespace, "web-1", "side", "ok\n")
    reply = send(http, fn.url, alert_for(namespace, pod, rule))
    assert reply["outcome"] == "acted", reply
    uid = meta(pod).uid
    assert reply["evidence"] == f"riposte/riposte-evidence-{uid}"
    secret, document = kept(core, pod)
    assert (meta(secret).labels or {})["riposte.io/evidence"] == "true"
    assert document["alert"]["rule"] == rule and document["pod"]["metadata"]["uid"] == uid
    assert "managedFields" not in document["pod"]["metadata"]
    current = log(document, "c")
    assert current["lines"] == 500 and current["text"].endswith("req 799\n") and current["truncated"] is None
    assert log(document, "side")["text"] == "ok\n"
    asked = [r for r in kubelet.requests if r.namespace == namespace and r.container == "c"]
    assert asked[-1].query["tailLines"] == "500" and int(asked[-1].query["limitBytes"]) > 0
    assert len(evidence_of(core, namespace)) == 1


def test_the_document_holds_owners_events_the_previous_instance_and_the_redacted_alert(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session, namespace: str,
    cluster: ControlPlane,
) -> None:  # fmt: skip
    apps = client.AppsV1Api(cluster.client())
    deployment = apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "x"}]}}},
    })  # fmt: skip
    replicaset = apps.create_namespaced_replica_set(namespace, {
        "metadata": {"name": "web-5d4", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
            "name": "web", "uid": meta(deployment).uid, "controller": True}]},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "x"}]}}},
    })  # fmt: skip
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4",
             "uid": meta(replicaset).uid, "controller": True}  # fmt: skip
    pod = make_pod(core, namespace, kubelet.node_name, restarts=2, owner=owner)
    core.create_namespaced_event(namespace, {
        "metadata": {"name": "web-1.backoff"}, "reason": "BackOff", "message": "restarting",
        "involvedObject": {"kind": "Pod", "namespace": namespace, "name": "web-1", "uid": meta(pod).uid},
    })  # fmt: skip
    kubelet.put(namespace, "web-1", "c", "now\n", previous="segfault\n")
    kubelet.put(namespace, "web-1", "side", "")
    alert = alert_for(namespace, pod)
    alert["output_fields"]["ka.req.configmap.obj"] = "password=hunter2"  # a credential field
    assert send(http, serve(FUNCTION).url, alert)["outcome"] == "acted"
    _, document = kept(core, pod)
    assert [(o["kind"], o["name"], o["found"]) for o in document["owners"]] == [
        ("ReplicaSet", "web-5d4", True),
        ("Deployment", "web", True),
    ]
    assert [e["reason"] for e in document["events"]] == ["BackOff"]
    assert log(document, "c", "previous")["text"] == "segfault\n"
    assert document["alert"]["output_fields"]["ka.req.configmap.obj"] == "<redacted>"
    assert "hunter2" not in json.dumps(document)


def test_redeliveries_and_later_alerts_are_already_done_naming_the_secret(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session, namespace: str
) -> None:
    fn = serve(FUNCTION)
    pod = make_pod(core, namespace, kubelet.node_name)
    kubelet.put(namespace, "web-1", "c", "x\n")
    kubelet.put(namespace, "web-1", "side", "y\n")
    alert = alert_for(namespace, pod)
    assert send(http, fn.url, alert)["outcome"] == "acted"
    name = f"riposte/riposte-evidence-{meta(pod).uid}"
    again = send(http, fn.url, alert)
    assert again["outcome"] == "already-done" and name in again["reason"], again
    later = send(http, fn.url, alert_for(namespace, pod, "Find AWS Credentials"))
    assert later["outcome"] == "already-done" and name in later["reason"], later
    assert len(evidence_of(core, namespace)) == 1


def test_concurrent_duplicates_keep_one_secret(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, namespace: str
) -> None:
    fn = serve(FUNCTION)
    pod = make_pod(core, namespace, kubelet.node_name)
    kubelet.put(namespace, "web-1", "c", "x\n")
    kubelet.put(namespace, "web-1", "side", "y\n")
    alert = alert_for(namespace, pod)
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
    assert len(evidence_of(core, namespace)) == 1


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"k8s.pod.uid": "00000000-0000-0000-0000-000000000000"}, "another pod"),
        ({"container.id": "ffffffffffff"}, "no container of the live pod"),
        ({"k8s.pod.uid": None}, "k8s.pod.uid"),
        ({"k8s.pod.name": "gone-1"}, "not found"),
    ],
)
def test_a_stale_or_forged_alert_keeps_nothing(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session, namespace: str,
    changes: dict[str, Any], says: str,
) -> None:  # fmt: skip
    pod = make_pod(core, namespace, kubelet.node_name)
    reply = send(http, serve(FUNCTION).url, alert_for(namespace, pod, **changes))
    assert reply["outcome"] == "refused" and says in reply["reason"], reply
    assert evidence_of(core, namespace) == []


def test_protected_exempt_host_and_dry_run_keep_nothing(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session, namespace: str
) -> None:
    pod = make_pod(core, namespace, kubelet.node_name)
    fn = serve(FUNCTION)
    protected = alert_for(namespace, pod, **{"k8s.ns.name": "kube-system"})
    assert send(http, fn.url, protected)["outcome"] == "refused"
    own = alert_for(namespace, pod, **{"k8s.ns.name": "riposte"})
    assert send(http, fn.url, own)["outcome"] == "refused"
    host = alert_for(namespace, pod, **{"container.id": "host"})
    assert http.post(fn.url, data=encode(host), headers=cloudevent_headers(host)).status_code == 204
    exempt = serve(
        FUNCTION, RIPOSTE_EXEMPT=json.dumps([{"kind": "Pod", "namespace": namespace, "name": "web-1"}])
    )
    assert send(http, exempt.url, alert_for(namespace, pod))["outcome"] == "refused"
    dry = serve(FUNCTION, RIPOSTE_DRY_RUN="true")
    reply = send(http, dry.url, alert_for(namespace, pod))
    assert reply["outcome"] == "dry-run" and "riposte-evidence-" in reply["reason"]
    assert evidence_of(core, namespace) == []
    assert [
        e for e in core.list_namespaced_event(namespace).items if (meta(e).name or "").startswith("riposte")
    ] == []


def test_logs_of_a_pod_without_a_node_or_a_container_not_started_are_unavailable(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session, namespace: str
) -> None:
    fn = serve(FUNCTION)
    nowhere = make_pod(core, namespace, None, name="pending-1")
    assert send(http, fn.url, alert_for(namespace, nowhere))["outcome"] == "acted"
    _, document = kept(core, nowhere)
    assert {x["available"] for x in document["logs"]} == {False}
    assert "not scheduled on a node" in log(document, "c")["reason"]
    starting = make_pod(core, namespace, kubelet.node_name, sidecar_started=False)
    kubelet.put(namespace, "web-1", "c", "up\n")
    kubelet.waiting(namespace, "web-1", "side")
    assert send(http, fn.url, alert_for(namespace, starting))["outcome"] == "acted"
    _, document = kept(core, starting)
    assert log(document, "c")["text"] == "up\n"
    assert log(document, "side")["available"] is False and "not started" in log(document, "side")["reason"]


def test_truncation_is_marked_and_the_secret_stays_under_900_kib(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session, namespace: str
) -> None:
    fn = serve(FUNCTION)
    pod = make_pod(core, namespace, kubelet.node_name)
    noise = os.urandom(2 * 1024 * 1024).hex()  # incompressible, far over any limit
    lines = "".join(noise[i : i + 1000] + "\n" for i in range(0, len(noise), 1000))
    kubelet.put(namespace, "web-1", "c", lines)
    kubelet.put(namespace, "web-1", "side", lines)
    reply = send(http, fn.url, alert_for(namespace, pod))
    assert reply["outcome"] == "acted" and "truncated" in reply["reason"], reply
    secret, document = kept(core, pod)
    assert len(base64.b64decode((secret.data or {})["evidence.json.gz"])) < 900 * 1024
    for container in ("c", "side"):
        assert "limitBytes" in log(document, container)["truncated"]
        assert log(document, container)["bytes"] == log(document, container)["limit_bytes"]


def test_a_full_evidence_store_refuses(
    serve: Serve, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session, namespace: str
) -> None:
    fn = serve(FUNCTION, RIPOSTE_EVIDENCE_MAX_BYTES="1048576")
    core.create_namespaced_secret("riposte", {
        "metadata": {"name": f"riposte-evidence-filler-{namespace}",
                     "labels": {"riposte.io/evidence": "true"},
                     "annotations": {"riposte.io/evidence-bytes": str(1024 * 1024)}},
    })  # fmt: skip
    try:
        pod = make_pod(core, namespace, kubelet.node_name)
        reply = send(http, fn.url, alert_for(namespace, pod))
        assert reply["outcome"] == "refused" and "evidence store full" in reply["reason"], reply
        assert evidence_of(core, namespace) == []
    finally:
        core.delete_namespaced_secret(f"riposte-evidence-filler-{namespace}", "riposte")


def test_an_apiserver_outage_is_a_503_and_the_redelivery_keeps_the_evidence(
    serve: Serve, cluster: ControlPlane, core: client.CoreV1Api, kubelet: Kubelet, http: requests.Session,
    namespace: str,
) -> None:  # fmt: skip
    fn = serve(FUNCTION, RIPOSTE_DEADLINE_SECONDS="2")
    pod = make_pod(core, namespace, kubelet.node_name)
    kubelet.put(namespace, "web-1", "c", "x\n")
    kubelet.put(namespace, "web-1", "side", "y\n")
    alert = alert_for(namespace, pod)
    cluster.stop_apiserver()
    try:
        down = http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)
        assert down.status_code == 503
    finally:
        cluster.start_apiserver()
    assert evidence_of(core, namespace) == []
    again = redeliver_until_answered(
        lambda: http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert))
    )
    assert again.json()["outcome"] == "acted"
    assert len(evidence_of(core, namespace)) == 1


def test_captures_spend_the_blast_radius_budget(
    serve: Serve, cluster: ControlPlane, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    leases = client.CoordinationV1Api(cluster.client())
    reset = {
        "metadata": {
            "annotations": {
                "riposte.io/spent": "[]",
                "riposte.io/actions": None,
                "riposte.io/cooldowns": "{}",
            }
        }
    }
    leases.patch_namespaced_lease("riposte-budget-capture-evidence", "riposte", reset)
    fn = serve(FUNCTION, RIPOSTE_BUDGET="1/3600s")
    first, second = (make_pod(core, namespace, None, name=f"web-{n}") for n in (1, 2))
    assert send(http, fn.url, alert_for(namespace, first))["outcome"] == "acted"
    refused = send(http, fn.url, alert_for(namespace, second))
    assert refused["outcome"] == "refused" and "budget exhausted" in refused["reason"], refused
    assert len(evidence_of(core, namespace)) == 1
    leases.patch_namespaced_lease("riposte-budget-capture-evidence", "riposte", reset)
