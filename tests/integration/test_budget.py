"""The blast-radius budget (RIPOSTE_BUDGET) and per-target cooldown, cluster-wide.

Several function processes as the same ServiceAccount share one Lease; the tests check
the budget is never exceeded by even one action under concurrency, that it survives a
restart (it lives in the cluster), that the window reopens, that dry-runs and refusals
spend nothing, that the humans hear about it (the result event and a Warning Event on
the Lease), and that a target is acted on once per cooldown under distinct alerts.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from tests.helpers import annotations_of, cloudevent_headers, configmap_alert, encode, meta

LEASE = "riposte-budget-delete-configmap"
Start = Callable[..., list[FunctionProcess]]  # the processes fixture: start(n, **env)


@pytest.fixture
def coordination(cluster: ControlPlane) -> client.CoordinationV1Api:
    return client.CoordinationV1Api(cluster.client())


@pytest.fixture(autouse=True)
def fresh_budget(coordination: client.CoordinationV1Api) -> None:
    """Each test starts from an empty budget (other modules spend from the same Lease)."""
    lease = coordination.read_namespaced_lease(LEASE, "riposte")
    assert lease.metadata is not None
    lease.metadata.annotations = {}
    coordination.replace_namespaced_lease(LEASE, "riposte", lease)


@pytest.fixture
def processes(cluster: ControlPlane) -> Iterator[Start]:
    """Start n delete-configmap processes with the same settings, as its ServiceAccount."""
    started: list[FunctionProcess] = []

    def start(n: int, **env: str) -> list[FunctionProcess]:
        kubeconfig = cluster.serviceaccount_kubeconfig("riposte", "delete-configmap")
        batch = [
            FunctionProcess(
                "delete-configmap", {"KUBECONFIG": str(kubeconfig), **env}, workdir=cluster.workdir
            )
            for _ in range(n)
        ]
        started.extend(batch)
        return [p.wait_ready() for p in batch]

    yield start
    for process in started:
        process.stop()


def configmaps(
    core: client.CoreV1Api, namespace: str, count: int, data: dict[str, str] | None = None
) -> None:
    for i in range(count):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": f"cm-{i}"}, "data": data or {"password": "p"}}
        )


def send(fn: FunctionProcess, alert: dict[str, Any]) -> requests.Response:
    return requests.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)


def remaining(core: client.CoreV1Api, namespace: str) -> set[str | None]:
    return {meta(c).name for c in core.list_namespaced_config_map(namespace).items}


def copies_from(core: client.CoreV1Api, namespace: str) -> list[client.V1Secret]:
    return [
        s
        for s in core.list_namespaced_secret("riposte", label_selector="riposte.io/copy-of=configmap").items
        if annotations_of(s)["riposte.io/source-namespace"] == namespace
    ]


def test_four_processes_never_exceed_the_budget(
    core: client.CoreV1Api, namespace: str, processes: Start
) -> None:
    fns = processes(4, RIPOSTE_BUDGET="5/60s", RIPOSTE_COOLDOWN_SECONDS="0")
    configmaps(core, namespace, 50)
    alerts = [configmap_alert(namespace, f"cm-{i}") for i in range(50)]
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda i: send(fns[i % 4], alerts[i]).json(), range(50)))
    outcomes = [r["outcome"] for r in replies]
    assert outcomes.count("acted") == 5, outcomes
    refused = [r for r in replies if r["outcome"] == "refused"]
    assert len(refused) == 45
    assert all("budget exhausted" in r["reason"] for r in refused)
    assert len(remaining(core, namespace)) == 45
    kept = {f"riposte/{meta(s).name}" for s in copies_from(core, namespace)}
    acted = {r["copy"] for r in replies if r["outcome"] == "acted"}
    # The copy is kept while the budget is spent; a spend the Lease as read granted but a
    # racing process then won names the copy it left in its refusal, of a ConfigMap kept.
    raced = {r["copy"] for r in refused if "copy" in r}
    assert len(acted) == 5 and kept == acted | raced
    assert {r["target"]["name"] for r in refused if "copy" in r} <= remaining(core, namespace)
    warnings = [
        e
        for e in core.list_namespaced_event("riposte").items
        if e.involved_object.name == LEASE and e.reason == "RiposteBudgetExhausted"
    ]
    assert warnings and warnings[0].type == "Warning"


def age_the_budget(coordination: client.CoordinationV1Api, seconds: float) -> None:
    """Move every spend recorded in the Lease `seconds` into the past, as time would."""
    lease = coordination.read_namespaced_lease(LEASE, "riposte")
    assert lease.metadata is not None and lease.metadata.annotations is not None
    spent = json.loads(lease.metadata.annotations["riposte.io/spent"])
    shift = round(seconds * 10 / 3600)  # RIPOSTE_BUDGET below: ten buckets of 360 s
    lease.metadata.annotations["riposte.io/spent"] = json.dumps([[b - shift, n] for b, n in spent])
    coordination.replace_namespaced_lease(LEASE, "riposte", lease)


def test_the_window_reopens(
    core: client.CoreV1Api, namespace: str, processes: Start, coordination: client.CoordinationV1Api
) -> None:
    """Time is moved in the Lease, not waited for: the outcome cannot depend on speed."""
    [fn] = processes(1, RIPOSTE_BUDGET="2/3600s", RIPOSTE_COOLDOWN_SECONDS="0")
    configmaps(core, namespace, 5)
    outcomes = [send(fn, configmap_alert(namespace, f"cm-{i}")).json()["outcome"] for i in range(3)]
    assert outcomes == ["acted", "acted", "refused"]
    age_the_budget(coordination, 1800)  # half a window ago: still spent
    assert send(fn, configmap_alert(namespace, "cm-3")).json()["outcome"] == "refused"
    age_the_budget(coordination, 2520)  # 72 minutes ago in all: the window has passed
    assert send(fn, configmap_alert(namespace, "cm-4")).json()["outcome"] == "acted"


def test_the_budget_survives_a_restart(core: client.CoreV1Api, namespace: str, processes: Start) -> None:
    [first] = processes(1, RIPOSTE_BUDGET="3/60s", RIPOSTE_COOLDOWN_SECONDS="0")
    configmaps(core, namespace, 4)
    assert [send(first, configmap_alert(namespace, f"cm-{i}")).json()["outcome"] for i in range(2)] == [
        "acted",
        "acted",
    ]
    first.stop()
    [second] = processes(1, RIPOSTE_BUDGET="3/60s", RIPOSTE_COOLDOWN_SECONDS="0")
    assert send(second, configmap_alert(namespace, "cm-2")).json()["outcome"] == "acted"
    assert send(second, configmap_alert(namespace, "cm-3")).json()["outcome"] == "refused"


def test_dry_runs_and_refusals_spend_nothing(
    core: client.CoreV1Api, namespace: str, processes: Start
) -> None:
    [dry] = processes(1, RIPOSTE_BUDGET="1/60s", RIPOSTE_DRY_RUN="true")
    [real] = processes(1, RIPOSTE_BUDGET="1/60s")
    configmaps(core, namespace, 3)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "no-creds"}, "data": {"a": "b"}})
    assert {send(dry, configmap_alert(namespace, f"cm-{i}")).json()["outcome"] for i in range(3)} == {
        "dry-run"
    }
    assert send(real, configmap_alert(namespace, "no-creds")).json()["outcome"] == "refused"
    assert send(real, configmap_alert("kube-system", "x")).json()["outcome"] == "refused"
    assert send(real, configmap_alert(namespace, "cm-0")).json()["outcome"] == "acted"
    refused = send(real, configmap_alert(namespace, "cm-1")).json()
    assert refused["outcome"] == "refused" and "budget exhausted" in refused["reason"]
    # The spent budget shows in the Lease as read: no copy is kept for the refused action.
    assert "copy" not in refused
    assert [annotations_of(c)["riposte.io/source-name"] for c in copies_from(core, namespace)] == ["cm-0"]


def test_one_target_is_acted_on_once_per_cooldown(
    core: client.CoreV1Api, namespace: str, processes: Start
) -> None:
    [fn] = processes(1, RIPOSTE_BUDGET="100/60s", RIPOSTE_COOLDOWN_SECONDS="60")
    outcomes = []
    for _ in range(10):  # the same ConfigMap, written again after each deletion
        if "cm-0" not in remaining(core, namespace):
            configmaps(core, namespace, 1)
        outcomes.append(send(fn, configmap_alert(namespace, "cm-0")).json())
    assert [o["outcome"] for o in outcomes].count("acted") == 1
    assert all("cooldown" in o["reason"] for o in outcomes[1:])
    assert len(copies_from(core, namespace)) == 1


def test_a_redelivery_is_not_refused_by_its_own_cooldown(
    core: client.CoreV1Api, namespace: str, processes: Start
) -> None:
    [fn] = processes(1, RIPOSTE_BUDGET="100/60s", RIPOSTE_COOLDOWN_SECONDS="60")
    configmaps(core, namespace, 1)
    alert = configmap_alert(namespace, "cm-0")
    with ThreadPoolExecutor(8) as pool:
        outcomes = [r.json()["outcome"] for r in pool.map(lambda _: send(fn, alert), range(16))]
    assert outcomes.count("acted") == 1
    assert set(outcomes) == {"acted", "already-done"}


class Recorder(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_humans_hear_that_riposte_stopped_acting(
    core: client.CoreV1Api, namespace: str, processes: Start
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sink = f"http://127.0.0.1:{server.server_address[1]}/results"
        [fn] = processes(1, RIPOSTE_BUDGET="1/60s", RIPOSTE_RESULT_URL=sink)
        configmaps(core, namespace, 2)
        send(fn, configmap_alert(namespace, "cm-0"))
        send(fn, configmap_alert(namespace, "cm-1"))
    finally:
        server.shutdown()
    results = [
        (h, json.loads(b))
        for h, b in Recorder.received
        if json.loads(b).get("target", {}).get("namespace") == namespace
    ]
    assert [r["outcome"] for _, r in results] == ["acted", "refused"]
    headers, refused = results[1]
    assert headers["ce-type"] == "riposte.action.v1"
    assert "budget exhausted" in refused["reason"]


def test_a_missing_lease_refuses_and_keeps_no_copy(
    coordination: client.CoordinationV1Api, core: client.CoreV1Api, namespace: str, processes: Start
) -> None:
    [fn] = processes(1)
    configmaps(core, namespace, 1)
    shipped = coordination.read_namespaced_lease(LEASE, "riposte")
    coordination.delete_namespaced_lease(LEASE, "riposte")
    try:
        reply = send(fn, configmap_alert(namespace, "cm-0")).json()
    finally:
        assert shipped.metadata is not None
        shipped.metadata.resource_version = shipped.metadata.uid = None
        coordination.create_namespaced_lease("riposte", shipped)
    assert reply["outcome"] == "refused"
    assert reply["reason"].startswith(f"budget Lease riposte/{LEASE} is missing")
    assert remaining(core, namespace) == {"cm-0"}
    assert copies_from(core, namespace) == []
