"""Duplicate storms and bursts: at-least-once delivery in, at-most-once action out.

The same alert 1,000 times at concurrency 16 must act exactly once with one Event; 1,000
distinct alerts for 1,000 ConfigMaps must all act, each with its copy, with zero errors.
Loopback only, bounded in count. The deadline is raised: these tests are about what is
done under contention, not how fast (a loaded CI machine must not turn them into 503s).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.helpers import cloudevent_headers, configmap_alert, encode, shell_alert

CONCURRENCY = 16


def burst(url: str, alerts: list[dict]) -> list[requests.Response]:
    sessions = [requests.Session() for _ in range(CONCURRENCY)]

    def post(i: int) -> requests.Response:
        alert = alerts[i]
        return sessions[i % CONCURRENCY].post(
            url, data=encode(alert), headers=cloudevent_headers(alert), timeout=60
        )

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(post, range(len(alerts))))


def riposte_events(core, namespace):
    return [e for e in core.list_namespaced_event(namespace).items if e.metadata.name.startswith("riposte-")]


def copies_in(core, namespace):
    selector = f"riposte.io/copy-of=configmap,riposte.io/source-namespace={namespace}"
    return core.list_namespaced_secret("riposte", label_selector=selector).items


def test_the_same_alert_a_thousand_times_acts_once(serve, core, namespace):
    fn = serve("delete-configmap", RIPOSTE_DEADLINE_SECONDS="30")
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    alert = configmap_alert(namespace, "aws-creds")
    responses = burst(fn.url, [alert] * 1000)
    assert {r.status_code for r in responses} == {200}
    outcomes = [r.json()["outcome"] for r in responses]
    assert outcomes.count("acted") == 1
    assert set(outcomes) == {"acted", "already-done"}
    assert len(riposte_events(core, namespace)) == 1
    assert len(copies_in(core, namespace)) == 1


def test_a_thousand_distinct_alerts_all_act_with_their_copies(serve, core, namespace):
    fn = serve("delete-configmap", RIPOSTE_DEADLINE_SECONDS="30")
    for i in range(1000):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": f"cm-{i}"}, "data": {"password": "p"}}
        )
    responses = burst(fn.url, [configmap_alert(namespace, f"cm-{i}") for i in range(1000)])
    errors = [(r.status_code, r.text[:200]) for r in responses if r.status_code != 200]
    assert errors == []
    assert [r.json()["outcome"] for r in responses] == ["acted"] * 1000
    assert core.list_namespaced_config_map(namespace).items == []
    assert len(copies_in(core, namespace)) == 1000
    assert len(riposte_events(core, namespace)) == 1000


def test_the_same_shell_alert_a_thousand_times_isolates_once(serve, core, namespace, cluster):
    from kubernetes import client

    fn = serve("isolate-pod", RIPOSTE_DEADLINE_SECONDS="30")
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    )
    responses = burst(fn.url, [shell_alert(namespace, "web-1")] * 1000)
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["outcome"] for r in responses} <= {"acted", "already-done"}
    assert len(client.NetworkingV1Api(cluster.client()).list_namespaced_network_policy(namespace).items) == 1
    assert len(riposte_events(core, namespace)) == 1
