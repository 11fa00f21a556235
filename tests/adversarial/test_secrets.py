"""Secrets never leak: the sender token, the result URL (whose path may carry a
credential) and ConfigMap credential values stay out of log lines, reply bodies, Events,
copies' metadata and error answers, across every kind of answer (acted, refused,
already-done, 4xx, 401, 503).

The one place the token does travel is by design (DESIGN.md §5): the reply and result
events carry it as the `authtoken` extension, so notify accepts them.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from tests.conftest import Serve
from tests.helpers import cloudevent_headers, configmap_alert, encode, shell_alert

TOKEN = "tok.en-SECRET-0123456789abcdef"
SINK_SECRET = "hooks-secret-path-7f3a9c"
CREDENTIAL = "AKES20LNOA-SECRET-VALUE"


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def sink_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{SINK_SECRET}"
    server.shutdown()


def test_no_secret_appears_in_logs_replies_or_events(
    serve: Serve, core: client.CoreV1Api, namespace: str, sink_url: str, cluster: ControlPlane
) -> None:
    env = {"RIPOSTE_TOKEN": TOKEN, "RIPOSTE_RESULT_URL": sink_url}
    delete_configmap, isolate_pod = serve("delete-configmap", **env), serve("isolate-pod", **env)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"aws_access_key_id": CREDENTIAL}}
    )
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "plain"}, "data": {"a": "b"}})
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}

    seed = configmap_alert(namespace, "aws-creds")
    seed["output_fields"]["ka.req.configmap.obj"] = f'{{"data":{{"aws_access_key_id":"{CREDENTIAL}"}}}}'
    seed["output"] += f' config={{"aws_access_key_id":"{CREDENTIAL}"}}'
    shell = shell_alert(namespace, "web-1")
    answers = []
    for fn, alert, extra in [
        (delete_configmap, seed, auth),  # acted
        (delete_configmap, seed, auth),  # already-done
        (delete_configmap, configmap_alert(namespace, "plain"), auth),  # refused
        (delete_configmap, configmap_alert(None, "x"), auth),  # 422
        (delete_configmap, seed, {}),  # 401 missing
        (delete_configmap, seed, {"Authorization": f"Bearer {TOKEN}x"}),  # 401 wrong
        (isolate_pod, shell, {"Ce-Authtoken": TOKEN}),  # acted
        (isolate_pod, {**shell, "rule": 5}, auth),  # 400
    ]:
        headers = (
            cloudevent_headers(alert)
            if isinstance(alert["rule"], str)
            else {"Content-Type": "application/json"}
        )
        response = requests.post(fn.url, data=encode(alert), headers={**headers, **extra}, timeout=30)
        answers.append(response)
    assert [a.status_code for a in answers] == [200, 200, 200, 422, 401, 401, 200, 400]
    assert answers[0].json()["outcome"] == "acted"

    for response in answers:
        assert TOKEN not in response.text
        assert SINK_SECRET not in response.text and CREDENTIAL not in response.text
        headers = {k.lower(): v for k, v in response.headers.items() if k.lower() != "ce-authtoken"}
        assert TOKEN not in str(headers)
    assert answers[0].headers["ce-authtoken"] == TOKEN  # by design: notify checks it

    for fn in (delete_configmap, isolate_pod):
        output = fn.output()
        assert TOKEN not in output and SINK_SECRET not in output and CREDENTIAL not in output
    for event in core.list_namespaced_event(namespace).items:
        assert event.message is not None
        assert TOKEN not in str(event) and CREDENTIAL not in event.message
    for copy in core.list_namespaced_secret("riposte", label_selector="riposte.io/copy-of=configmap").items:
        assert CREDENTIAL not in str(copy.metadata)


def test_a_down_result_sink_is_a_503_that_does_not_name_the_url(serve: Serve) -> None:
    """The alert names a protected namespace, so the refusal needs no API call: the sink
    (nothing listens on port 9) is the only thing that can fail, however slow the machine."""
    fn = serve(
        "delete-configmap",
        RIPOSTE_RESULT_URL=f"http://127.0.0.1:9/{SINK_SECRET}",
        RIPOSTE_DEADLINE_SECONDS="1",
    )
    alert = configmap_alert("kube-system", "aws-creds")
    response = requests.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)
    assert response.status_code == 503
    assert "RIPOSTE_RESULT_URL" in response.json()["error"]
    assert SINK_SECRET not in response.text and SINK_SECRET not in fn.output()
