"""The HTTP edge over real sockets, with the bytes real senders send.

Every captured request in tests/fixtures/http is replayed byte for byte against the real
delete-configmap process; the 1 MiB limit is checked with a 200 MB body while watching
the serving process's memory; the sender token is checked as configured in production.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import psutil
import pytest
import requests
from kubernetes import client

from devcluster.functions import FunctionProcess
from tests.conftest import Serve
from tests.helpers import (
    HTTP,
    captured,
    cloudevent_headers,
    configmap_alert,
    encode,
    meta,
    raw_exchange,
    with_body,
)

FUNCTION = "delete-configmap"
TOKEN = "riposte-test-token-0123456789"

# What delete-configmap answers to each capture as sent: the seed's capture lacks
# ka.target.namespace (Falco adds it only through append_output), so 422 naming it;
# every other rule is not for this function, so 204.
REPLAYS = {
    "cloudevents_k8saudit_configmap_with_private_credentials.http": 422,
    "cloudevents_k8saudit_create_privileged_pod.http": 204,
    "cloudevents_syscall_terminal_shell_in_container.http": 204,
    "falco_http_output_syscall_terminal_shell_in_container.http": 204,
    "openfaas_syscall_terminal_shell_in_container.http": 204,
    "webhook_k8saudit_attach_exec_pod.http": 204,
}


def test_every_capture_is_covered() -> None:
    assert sorted(REPLAYS) == sorted(p.name for p in HTTP.glob("*.http"))


@pytest.mark.parametrize(("name", "status"), sorted(REPLAYS.items()))
def test_captured_requests_replayed_byte_for_byte(serve: Serve, name: str, status: int) -> None:
    fn = serve(FUNCTION)
    answer = raw_exchange(fn.port, captured(name).raw)
    assert answer.status == status, answer.body
    if status == 204:
        assert answer.body == b""
    else:
        assert "ka.target.namespace" in answer.json()["error"]


def test_the_seed_capture_with_append_output_namespace_acts(
    serve: Serve, core: client.CoreV1Api, namespace: str
) -> None:
    fn = serve(FUNCTION)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "payment-config"}, "data": {"aws_access_key_id": "AKES20LNOA"}}
    )
    capture = captured("cloudevents_k8saudit_configmap_with_private_credentials.http")
    body = capture.body.replace(
        b'"ka.verb":"create"}',
        f'"ka.verb":"create","ka.target.namespace":"{namespace}","ka.response.code":"201"}}'.encode(),
    )
    assert body != capture.body
    answer = raw_exchange(fn.port, with_body(capture, body))
    assert answer.status == 200, answer.body
    assert answer.json()["outcome"] == "acted"


@pytest.mark.parametrize("path", ["/", "/_/health", "/_/ready", "/anything"])
def test_get_is_the_health_probe(serve: Serve, http: requests.Session, path: str) -> None:
    response = http.get(serve(FUNCTION).url + path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def worker_rss(fn: FunctionProcess) -> int:
    parent = psutil.Process(fn.process.pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])


def test_a_200_mb_body_is_refused_with_413_without_buffering_it(serve: Serve) -> None:
    fn = serve(FUNCTION)
    before = worker_rss(fn)
    size = 200 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", fn.port), timeout=30) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode()
        )
        sent = 0
        chunk = b" " * (1024 * 1024)
        sock.settimeout(0.5)
        reply = b""
        try:  # a real sender keeps sending; the server must answer and close regardless
            while sent < size and not reply:
                sock.sendall(chunk)
                sent += len(chunk)
                with contextlib.suppress(TimeoutError):
                    reply = sock.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if not reply:
            sock.settimeout(10)
            reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert sent < size, "the server read the whole body instead of answering early"
    assert worker_rss(fn) - before < 20 * 1024 * 1024


def test_a_chunked_body_over_the_limit_is_refused_after_one_mib(serve: Serve) -> None:
    fn = serve(FUNCTION)
    before = worker_rss(fn)
    replies: list[bytes] = []
    with socket.create_connection(("127.0.0.1", fn.port), timeout=30) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )

        def read() -> None:
            try:
                replies.append(sock.recv(65536))
            except OSError:
                replies.append(b"")

        reader = threading.Thread(target=read)
        reader.start()
        chunk = b" " * (256 * 1024)
        try:
            for _ in range(800):  # up to 200 MB
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                if replies:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        reader.join(10)
    assert replies and replies[0].startswith(b"HTTP/1.1 413"), replies[:1]
    assert worker_rss(fn) - before < 20 * 1024 * 1024


def test_the_function_still_serves_after_oversized_bodies(serve: Serve, http: requests.Session) -> None:
    fn = serve(FUNCTION)
    time.sleep(0.1)
    assert http.get(fn.url).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-the-right-token-at-all"}, 401),
        ({"Authorization": f"Bearer {TOKEN}"}, 200),
        ({"Ce-Authtoken": TOKEN}, 200),
    ],
)
def test_sender_token_when_configured(
    serve: Serve,
    http: requests.Session,
    core: client.CoreV1Api,
    namespace: str,
    headers: dict[str, str],
    status: int,
) -> None:
    fn = serve(FUNCTION, RIPOSTE_TOKEN=TOKEN)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    alert = configmap_alert(namespace, "aws-creds")
    response = http.post(fn.url, data=encode(alert), headers={**cloudevent_headers(alert), **headers})
    assert response.status_code == status, response.text
    still_there = [meta(c).name for c in core.list_namespaced_config_map(namespace).items]
    assert still_there == ([] if status == 200 else ["aws-creds"])
    if status == 200:
        assert response.headers["ce-authtoken"] == TOKEN
    assert TOKEN not in fn.output()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"rule": ', "application/json", 400),
        (b"[]", "application/json", 400),
        (b'{"rule": 1, "output_fields": {}}', "application/json", 400),
        (b"rule=x", "application/x-www-form-urlencoded", 415),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    ],
)
def test_malformed_and_wrong_type_bodies_are_4xx_and_change_nothing(
    serve: Serve,
    http: requests.Session,
    core: client.CoreV1Api,
    namespace: str,
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    fn = serve(FUNCTION)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    response = http.post(fn.url, data=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert response.json()["error"]
    assert [meta(c).name for c in core.list_namespaced_config_map(namespace).items] == ["aws-creds"]


def test_log_lines_hold_no_credential_values(
    serve: Serve, http: requests.Session, core: client.CoreV1Api, namespace: str
) -> None:
    fn = serve(FUNCTION)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"aws_access_key_id": "AKES20LNOA"}}
    )
    alert = configmap_alert(namespace, "aws-creds")
    alert["output_fields"]["ka.req.configmap.obj"] = '{"data":{"aws_access_key_id":"AKES20LNOA"}}'
    alert["output"] += ' config={"aws_access_key_id":"AKES20LNOA"}'
    response = http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert))
    assert response.json()["outcome"] == "acted"
    assert "AKES20LNOA" not in response.text
    assert "AKES20LNOA" not in fn.output()
