"""An apiserver outage: the alert is answered 503 (never a 2xx for an action not done),
with Retry-After, within RIPOSTE_DEADLINE_SECONDS; once the apiserver is back, the
redelivered alert acts. This module restarts the shared control plane's apiserver.
"""

from __future__ import annotations

import time

import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from tests.conftest import Serve
from tests.helpers import cloudevent_headers, configmap_alert, encode, meta, redeliver_until_answered


def test_apiserver_down_answers_503_and_redelivery_succeeds(
    cluster: ControlPlane, core: client.CoreV1Api, serve: Serve, http: requests.Session, namespace: str
) -> None:
    fn = serve("delete-configmap", RIPOSTE_DEADLINE_SECONDS="2")
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    alert = configmap_alert(namespace, "aws-creds")
    cluster.stop_apiserver()
    try:
        started = time.monotonic()
        response = http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) > 0
        assert "Kubernetes API" in response.json()["error"]
        assert elapsed < 2 + 5, f"the deadline bounds the answer ({elapsed:.1f}s)"
    finally:
        cluster.start_apiserver()
    assert [meta(c).name for c in core.list_namespaced_config_map(namespace).items] == ["aws-creds"]
    redelivered = redeliver_until_answered(
        lambda: http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)
    )
    assert redelivered.status_code == 200, redelivered.text
    assert redelivered.json()["outcome"] == "acted"
    assert core.list_namespaced_config_map(namespace).items == []
