"""Test helpers: the fixtures as data, and the requests real senders make.

`cloudevent_headers` reproduces Falcosidekick's `cloudevents` output (binary mode,
sdk-go defaults, extensions from the alert) and `raw_exchange` replays captured bytes
over a real socket, exactly as sent.
"""

from __future__ import annotations

import copy
import http.client
import json
import socket
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SIDEKICK = FIXTURES / "falcosidekick"
FALCO = FIXTURES / "falco-http-output"
HTTP = FIXTURES / "http"
CONFIGMAP_RULE = "Create/Modify Configmap With Private Credentials"


def sidekick(name: str) -> dict[str, Any]:
    """A Falcosidekick payload fixture, decoded."""
    return json.loads((SIDEKICK / f"{name}.json").read_text())


def configmap_alert(namespace: str | None, name: str, *, identity: str | None = None) -> dict[str, Any]:
    """The seed alert as Falcosidekick forwards it, with append_output's namespace."""
    alert = copy.deepcopy(sidekick("k8saudit_configmap_with_private_credentials"))
    alert["uuid"] = identity or str(uuidlib.uuid4())
    alert["output_fields"]["ka.req.configmap.name"] = name
    alert["output"] = alert["output"].replace("configmap=payment-config", f"configmap={name}")
    if namespace is not None:
        alert["output_fields"]["ka.target.namespace"] = namespace
    return alert


def cloudevent_headers(alert: dict[str, Any], **extensions: str) -> dict[str, str]:
    """Headers of Falcosidekick's cloudevents output (binary mode) for `alert`."""
    headers = {
        "Ce-Eventsource": alert.get("source", "syscall"),
        "Ce-Hostname": alert.get("hostname", ""),
        "Ce-Id": str(uuidlib.uuid4()),
        "Ce-Priority": alert["priority"],
        "Ce-Rule": alert["rule"],
        "Ce-Source": "https://falco.org",
        "Ce-Specversion": "1.0",
        "Ce-Time": alert["time"],
        "Ce-Type": "falco.rule.output.v1",
        "Content-Type": "application/json",
        "User-Agent": "Go-http-client/1.1",
    }
    for key, value in extensions.items():
        headers[f"Ce-{key.capitalize()}"] = value
    return headers


def encode(alert: dict[str, Any]) -> bytes:
    """Go json.Marshal's compact form."""
    return json.dumps(alert, separators=(",", ":")).encode()


@dataclass
class Captured:
    """A `.http` fixture: its raw bytes and their parts."""

    raw: bytes
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def captured(name: str) -> Captured:
    text = (HTTP / name).read_bytes()
    marker = b"# ---- raw request bytes follow"
    raw = text[text.index(marker) :].split(b"\n", 1)[1]
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    method, path, _ = lines[0].split(" ")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return Captured(raw=raw, method=method, path=path, headers=headers, body=body)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_exchange(port: int, raw: bytes, timeout: float = 30.0) -> Answer:
    """Send `raw` bytes as they are over a new socket; read one HTTP response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        return Answer(response.status, response.headers, response.read())


def with_body(capture: Captured, body: bytes) -> bytes:
    """The captured request with another body (Content-Length adjusted)."""
    head = capture.raw.split(b"\r\n\r\n", 1)[0].decode()
    lines = [
        f"Content-Length: {len(body)}" if line.lower().startswith("content-length:") else line
        for line in head.split("\r\n")
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
