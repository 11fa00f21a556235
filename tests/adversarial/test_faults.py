"""Faults: the apiserver dies in the middle of a burst.

Requests caught by the outage must answer 503 (never a 2xx for an action not done);
after a restart, redelivering exactly those requests must leave every action done
exactly once with every copy kept. This module restarts the shared control plane's
apiserver.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from tests.conftest import Serve
from tests.helpers import (
    annotations_of,
    cloudevent_headers,
    configmap_alert,
    encode,
    meta,
    redeliver_until_answered,
)

COUNT = 120


def test_an_apiserver_outage_mid_burst_loses_nothing_and_acts_once(
    cluster: ControlPlane, serve: Serve, core: client.CoreV1Api, namespace: str
) -> None:
    fn = serve("delete-configmap", RIPOSTE_DEADLINE_SECONDS="1")
    for i in range(COUNT):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": f"cm-{i}"}, "data": {"password": "p"}}
        )
    alerts = [configmap_alert(namespace, f"cm-{i}") for i in range(COUNT)]
    answered = threading.Semaphore(0)

    def post(alert: dict[str, Any]) -> requests.Response:
        response = requests.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=60)
        answered.release()
        return response

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(post, alert) for alert in alerts]
        for _ in range(COUNT // 4):  # a quarter answered: pull the plug
            answered.acquire()
        cluster.stop_apiserver()
        try:
            responses = [f.result() for f in futures]
        finally:
            cluster.start_apiserver()

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(503) > 0, "the outage must have caught some requests"
    names = {meta(c).name for c in core.list_namespaced_config_map(namespace).items}
    for alert, response in zip(alerts, responses, strict=True):
        if response.status_code == 200:
            assert response.json()["outcome"] == "acted", response.json()["reason"]
            assert alert["output_fields"]["ka.req.configmap.name"] not in names, "2xx for an action not done"
        else:
            assert int(response.headers["Retry-After"]) > 0

    retried = [a for a, r in zip(alerts, responses, strict=True) if r.status_code == 503]
    with ThreadPoolExecutor(8) as pool:
        redelivered = list(pool.map(lambda a: redeliver_until_answered(lambda: requests.post(
            fn.url, data=encode(a), headers=cloudevent_headers(a), timeout=60
        )), retried))  # fmt: skip
    assert {r.status_code for r in redelivered} == {200}
    assert {r.json()["outcome"] for r in redelivered} <= {"acted", "already-done"}

    assert core.list_namespaced_config_map(namespace).items == []
    selector = f"riposte.io/copy-of=configmap,riposte.io/source-namespace={namespace}"
    kept = core.list_namespaced_secret("riposte", label_selector=selector).items
    assert sorted(annotations_of(s)["riposte.io/source-name"] for s in kept) == sorted(
        f"cm-{i}" for i in range(COUNT)
    )
    events = [e.involved_object.name for e in core.list_namespaced_event(namespace).items]
    assert len(events) == len(set(events)), "an object recorded twice"
