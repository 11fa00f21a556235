"""undo, as its own ServiceAccount against the real apiserver (DESIGN §13).

A human's Undo arrives as interact sends it: a `riposte.undo.v1` event whose request is
signed with the approval key. undo re-creates a deleted ConfigMap from its copy
(create-only), releases a quarantined pod (its policy deleted, its label removed, uid
preconditions), answers `already-done` the second time, and trusts nothing unsigned or
decided by someone not in its RIPOSTE_APPROVERS. Its sweep, which carries no authority
and no token, lifts only quarantines whose riposte.io/expires-at has passed and expires
stale approvals; run twice, it does nothing more.
"""

from __future__ import annotations

import datetime
import time
import uuid
from typing import Any

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from shared import alert as alert_model
from shared.approval import record, store, undo
from shared.approval.undo import UndoRequest
from shared.deadline import Deadline
from shared.kube.client import Kube
from shared.targets import Target
from tests.conftest import Serve
from tests.helpers import cloudevent_headers, configmap_alert, encode, meta, shell_alert

KEY = "riposte-approval-key-0123456789abcdef"
TOKEN = "riposte-undo-token-0123456789abc"
APPROVER = "U0APPROVER"
# What a PingSource (or the OpenFaaS CronJob, deploy/openfaas/undo-sweep.yaml) sends.
PING = {
    "Ce-Specversion": "1.0",
    "Ce-Id": "ping-1",
    "Ce-Source": "/apis/v1/namespaces/riposte/pingsources/undo-sweep",
    "Ce-Type": "dev.knative.sources.ping",
    "Content-Type": "application/json",
}


@pytest.fixture
def undo_fn(serve: Serve) -> FunctionProcess:
    return serve("undo", RIPOSTE_APPROVAL_KEY=KEY, RIPOSTE_APPROVERS=APPROVER, RIPOSTE_TOKEN=TOKEN)


def undo_event(
    http: requests.Session, fn: FunctionProcess, request: UndoRequest, *, by: str = APPROVER, key: str = KEY
) -> requests.Response:
    data = undo.event_data(
        key,
        request,
        decided_by=by,
        channel="slack",
        decided_at=record.stamp(datetime.datetime.now(datetime.UTC)),
    )
    headers = {
        "Ce-Specversion": "1.0", "Ce-Id": str(uuid.uuid4()), "Ce-Source": "riposte/interact",
        "Ce-Type": undo.EVENT_TYPE, "Ce-Authtoken": TOKEN, "Content-Type": "application/json",
    }  # fmt: skip
    return http.post(fn.url, json=data, headers=headers)


def acted(http: requests.Session, fn: FunctionProcess, alert: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert)).json()
    assert reply["outcome"] == "acted", reply
    return reply


def test_a_deleted_configmap_comes_back_from_its_copy_once(
    serve: Serve, undo_fn: FunctionProcess, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    alert = configmap_alert(namespace, "aws-creds")
    reply = acted(http, serve("delete-configmap"), alert)
    request = UndoRequest(
        "delete-configmap", Target("ConfigMap", namespace, "aws-creds"), reply["uid"], alert["uuid"]
    )

    first = undo_event(http, undo_fn, request)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "acted" and f"asked by {APPROVER} via slack" in first.json()["reason"]
    restored = core.read_namespaced_config_map("aws-creds", namespace)
    assert restored.data == {"password": "p"}
    assert (meta(restored).annotations or {})["riposte.io/restored-from"] == f"riposte-cm-{reply['uid']}"
    assert undo_event(http, undo_fn, request).json()["outcome"] == "already-done"


def test_a_quarantined_pod_is_released(
    serve: Serve, undo_fn: FunctionProcess, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    pod = core.create_namespaced_pod(
        namespace, {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    )
    alert = shell_alert(namespace, "web-1")
    acted(http, serve("isolate-pod"), alert)
    uid = meta(pod).uid
    assert uid is not None
    request = UndoRequest("isolate-pod", Target("Pod", namespace, "web-1"), uid, alert["uuid"])
    assert undo_event(http, undo_fn, request).json()["outcome"] == "acted"
    assert "riposte.io/quarantine" not in (meta(core.read_namespaced_pod("web-1", namespace)).labels or {})
    net = client.NetworkingV1Api(core.api_client)
    assert net.list_namespaced_network_policy(namespace).items == []
    assert undo_event(http, undo_fn, request).json()["outcome"] == "already-done"


def test_an_unsigned_or_unlisted_undo_changes_nothing(
    serve: Serve, undo_fn: FunctionProcess, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    alert = configmap_alert(namespace, "aws-creds")
    reply = acted(http, serve("delete-configmap"), alert)
    request = UndoRequest(
        "delete-configmap", Target("ConfigMap", namespace, "aws-creds"), reply["uid"], alert["uuid"]
    )
    forged = undo_event(http, undo_fn, request, key="someone-elses-key-0123456789abcdef")
    assert forged.status_code == 400 and "not signed" in forged.json()["error"]
    unlisted = undo_event(http, undo_fn, request, by="U0STRANGER")
    assert unlisted.status_code == 401
    assert core.list_namespaced_config_map(namespace).items == []


def test_the_sweep_lifts_only_expired_quarantines_and_stale_approvals(
    serve: Serve, undo_fn: FunctionProcess, core: client.CoreV1Api, http: requests.Session, namespace: str,
    cluster: ControlPlane,
) -> None:  # fmt: skip
    isolate_soon = serve("isolate-pod", RIPOSTE_QUARANTINE_TTL_SECONDS="1")
    isolate_later = serve("isolate-pod", RIPOSTE_QUARANTINE_TTL_SECONDS="3600")
    spec = {"containers": [{"name": "c", "image": "x"}]}
    for name in ("soon", "later"):
        core.create_namespaced_pod(namespace, {"metadata": {"name": name}, "spec": spec})
    acted(http, isolate_soon, shell_alert(namespace, "soon"))
    acted(http, isolate_later, shell_alert(namespace, "later"))
    admin = Kube(str(cluster.kubeconfig))
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    old_alert = alert_model.parse(configmap_alert(namespace, "x"))
    stale = record.request(
        function="delete-configmap", action="copy and delete", alert=old_alert,
        target=Target("ConfigMap", namespace, "x"), target_uid="u-x", now=past, ttl_seconds=60, key=KEY,
    )  # fmt: skip
    store.create(admin, Deadline(10), stale)
    time.sleep(1.5)  # "soon" is past its expiry now (a lower bound: a slower machine only waits longer)

    swept = http.post(undo_fn.url, json={"sweep": True}, headers=PING)  # no token: no authority
    assert swept.status_code == 204, swept.text
    labels = {
        name: meta(core.read_namespaced_pod(name, namespace)).labels or {} for name in ("soon", "later")
    }
    assert "riposte.io/quarantine" not in labels["soon"] and "riposte.io/quarantine" in labels["later"]
    expired = store.get(admin, Deadline(10), stale.id)
    assert expired is not None and expired.state is record.State.EXPIRED
    again = http.post(undo_fn.url, json={"sweep": True}, headers=PING)
    assert again.status_code == 204
    assert '"undone":[]' in undo_fn.output().splitlines()[-1]


def test_only_the_schedule_goes_without_the_token(undo_fn: FunctionProcess, http: requests.Session) -> None:
    assert http.post(undo_fn.url, json={"sweep": True}, headers=PING).status_code == 204
    assert http.post(undo_fn.url, json={"sweep": True}).status_code == 401  # plain JSON needs the token
    forged = {**PING, "Ce-Type": undo.EVENT_TYPE}
    assert http.post(undo_fn.url, json={}, headers=forged).status_code == 401


def test_a_cordoned_node_is_uncordoned_keeping_its_own_taints(
    serve: Serve, undo_fn: FunctionProcess, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    from tests.integration.test_cordon_node import FOREIGN_TAINTS, escape, make_node, make_pod

    name = f"node-{uuid.uuid4().hex[:6]}"
    node = make_node(core, name, taints=FOREIGN_TAINTS)
    pod = make_pod(core, namespace, name)
    alert = escape(namespace, pod, name)
    acted(http, serve("cordon-node", RIPOSTE_CORDON_MIN_SCHEDULABLE="0"), alert)
    uid = meta(node).uid
    assert uid is not None
    request = UndoRequest("cordon-node", Target("Node", None, name), uid, alert["uuid"])
    assert undo_event(http, undo_fn, request).json()["outcome"] == "acted"
    after = core.read_node(name)
    spec = after.spec
    assert spec is not None and not spec.unschedulable
    keys = {t.key for t in spec.taints or []}
    assert {"gpu", "spot"} <= keys and "riposte.io/quarantine" not in keys
    assert "riposte.io/quarantine" not in (meta(after).labels or {})
    assert undo_event(http, undo_fn, request).json()["outcome"] == "already-done"
