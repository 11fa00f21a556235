"""Duplicate storms and bursts: at-least-once delivery in, at-most-once action out.

The same alert 1,000 times at concurrency 16 must act exactly once with one Event; 1,000
distinct alerts for 1,000 ConfigMaps must all act, each with its copy, with zero errors.
Loopback only, bounded in count. The deadline is raised: these tests are about what is
done under contention, not how fast (a loaded CI machine must not turn them into 503s).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from tests.conftest import Serve
from tests.helpers import cloudevent_headers, configmap_alert, encode, name_of, shell_alert

CONCURRENCY = 16


@dataclass
class Burst:
    responses: list[requests.Response]
    redelivered: int  # sends whose kept-alive connection the server had already closed


def burst(url: str, alerts: list[dict[str, Any]]) -> Burst:
    """POST every alert, 16 at a time, each thread over its own kept-alive connection.

    Like Falcosidekick and the broker (at-least-once senders), a send whose connection
    the server dropped (gunicorn closes idle keep-alive connections) is delivered again.
    """
    local = threading.local()
    redelivered = 0
    lock = threading.Lock()

    def post(alert: dict[str, Any]) -> requests.Response:
        nonlocal redelivered
        if not hasattr(local, "session"):
            local.session = requests.Session()
        session: requests.Session = local.session
        for attempt in range(3):
            try:
                return session.post(url, data=encode(alert), headers=cloudevent_headers(alert), timeout=60)
            except requests.ConnectionError:
                if attempt == 2:
                    raise
                with lock:
                    redelivered += 1
        raise AssertionError("unreachable")

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        responses = list(pool.map(post, alerts))
    return Burst(responses, redelivered)


def riposte_events(core: client.CoreV1Api, namespace: str) -> list[client.CoreV1Event]:
    return [e for e in core.list_namespaced_event(namespace).items if name_of(e).startswith("riposte-")]


def copies_in(core: client.CoreV1Api, namespace: str) -> list[client.V1Secret]:
    selector = f"riposte.io/copy-of=configmap,riposte.io/source-namespace={namespace}"
    return core.list_namespaced_secret("riposte", label_selector=selector).items


def test_the_same_alert_a_thousand_times_acts_once(
    serve: Serve, core: client.CoreV1Api, namespace: str
) -> None:
    fn = serve("delete-configmap", RIPOSTE_DEADLINE_SECONDS="30")
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    alert = configmap_alert(namespace, "aws-creds")
    responses = burst(fn.url, [alert] * 1000).responses
    assert {r.status_code for r in responses} == {200}
    outcomes = [r.json()["outcome"] for r in responses]
    assert outcomes.count("acted") == 1
    assert set(outcomes) == {"acted", "already-done"}
    assert len(riposte_events(core, namespace)) == 1
    assert len(copies_in(core, namespace)) == 1


def test_a_thousand_distinct_alerts_all_act_with_their_copies(
    serve: Serve, core: client.CoreV1Api, namespace: str
) -> None:
    fn = serve("delete-configmap", RIPOSTE_DEADLINE_SECONDS="30")
    for i in range(1000):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": f"cm-{i}"}, "data": {"password": "p"}}
        )
    sent = burst(fn.url, [configmap_alert(namespace, f"cm-{i}") for i in range(1000)])
    errors = [(r.status_code, r.text[:200]) for r in sent.responses if r.status_code != 200]
    assert errors == []
    outcomes = [r.json()["outcome"] for r in sent.responses]
    # A redelivered alert whose first send was handled answers already-done, never twice acted.
    assert set(outcomes) <= {"acted", "already-done"}
    assert outcomes.count("acted") >= 1000 - sent.redelivered
    assert core.list_namespaced_config_map(namespace).items == []
    assert len(copies_in(core, namespace)) == 1000
    assert len(riposte_events(core, namespace)) == 1000


def test_the_same_shell_alert_a_thousand_times_isolates_once(
    serve: Serve, core: client.CoreV1Api, namespace: str, cluster: ControlPlane
) -> None:
    from kubernetes import client

    fn = serve("isolate-pod", RIPOSTE_DEADLINE_SECONDS="30")
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    )
    responses = burst(fn.url, [shell_alert(namespace, "web-1")] * 1000).responses
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["outcome"] for r in responses} <= {"acted", "already-done"}
    assert len(client.NetworkingV1Api(cluster.client()).list_namespaced_network_policy(namespace).items) == 1
    assert len(riposte_events(core, namespace)) == 1
