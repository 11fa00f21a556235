"""Test helpers: the fixtures as data, and the requests real senders make.

`cloudevent_headers` reproduces Falcosidekick's `cloudevents` output (binary mode,
sdk-go defaults, extensions from the alert) and `raw_exchange` replays captured bytes
over a real socket, exactly as sent.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import socket
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import jsonschema
import requests

from devcluster.senders import CONFIGMAP_RULE, cloudevent_headers, configmap_alert, encode, shell_alert
from shared import action
from shared import alert as alert_model
from shared.action import ActionResult, AlertSummary, Outcome
from shared.targets import Target

if TYPE_CHECKING:
    from kubernetes.client import V1ObjectMeta

__all__ = ["CONFIGMAP_RULE", "cloudevent_headers", "configmap_alert", "encode", "shell_alert"]

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SIDEKICK = FIXTURES / "falcosidekick"
FALCO = FIXTURES / "falco-http-output"
HTTP = FIXTURES / "http"
T = TypeVar("T")


def load_function(name: str) -> types.ModuleType:
    """A function's main.py as a module of its own name (they are all `main`): importing it
    reads no setting and builds no client (shared/acting/runner.py serve)."""
    path = Path(__file__).resolve().parent.parent / "functions" / name.replace("-", "_") / "main.py"
    module_name = f"riposte_function_{name.replace('-', '_')}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def sidekick(name: str) -> dict[str, Any]:
    """A Falcosidekick payload fixture, decoded."""
    payload: dict[str, Any] = json.loads((SIDEKICK / f"{name}.json").read_text())
    return payload


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
        answer = Answer(response.status, response.headers, response.read())
    check_reply(answer.headers, answer.body)
    return answer


SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "schemas" / "riposte.action.v1.json").read_text()
)


def check_reply(headers: Any, body: bytes) -> None:
    """A riposte.action.v1 reply must be valid against schemas/riposte.action.v1.json and
    name that schema (an absolute URI, as CloudEvents requires). tests/conftest.py runs
    this on every reply a test receives."""
    if headers.get("ce-type") != "riposte.action.v1":
        return
    assert headers.get("ce-dataschema") == SCHEMA["$id"], headers.get("ce-dataschema")
    jsonschema.validate(json.loads(body), SCHEMA)


def redeliver_until_answered(
    send: Callable[[], requests.Response], *, attempts: int = 10
) -> requests.Response:
    """Send again while the answer is 503, as an at-least-once sender (Knative's broker,
    Falcosidekick's retries) does; a slow machine only takes more rounds, never another
    outcome. The last answer is returned whatever it is."""
    for _ in range(attempts - 1):
        response = send()
        if response.status_code != 503:
            return response
        time.sleep(min(float(response.headers.get("Retry-After", "1")), 1.0))
    return send()


def with_body(capture: Captured, body: bytes) -> bytes:
    """The captured request with another body (Content-Length adjusted)."""
    head = capture.raw.split(b"\r\n\r\n", 1)[0].decode()
    lines = [
        f"Content-Length: {len(body)}" if line.lower().startswith("content-length:") else line
        for line in head.split("\r\n")
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# The official client's models type every field Optional, even those the apiserver always
# sets on what it returns (metadata, its name, ...): these say "it is there" to mypy, and
# fail the test where it is not.


class HasMetadata(Protocol):
    @property
    def metadata(self) -> V1ObjectMeta | None: ...


def present(value: T | None) -> T:
    """`value`, which must be there."""
    assert value is not None
    return value


def meta(obj: HasMetadata) -> V1ObjectMeta:
    """An API object's metadata."""
    return present(obj.metadata)


def name_of(obj: HasMetadata) -> str:
    """An API object's name."""
    return present(meta(obj).name)


def labels_of(obj: HasMetadata) -> dict[str, str]:
    """An API object's labels, where it must have some."""
    return present(meta(obj).labels)


def annotations_of(obj: HasMetadata) -> dict[str, str]:
    """An API object's annotations, where it must have some (riposte's copies)."""
    return present(meta(obj).annotations)


def action_result(
    raw: dict[str, Any],
    *,
    target: Target,
    outcome: Outcome = Outcome.ACTED,
    reason: str = "deleted; copy kept in riposte/riposte-cm-0f1e",
    function: str = "delete-configmap",
    duration_ms: int | None = 12,
    dry_run: bool = False,
    **details: object,
) -> ActionResult:
    """A result as an acting function builds it (shared/acting/runner.py) for alert `raw`."""
    return ActionResult(
        function=function,
        action=function,
        target=target,
        outcome=outcome,
        reason=reason,
        alert=AlertSummary.of(alert_model.parse(raw)),
        dry_run=dry_run,
        duration_ms=duration_ms,
        details=details,
    )


def result_event(result: ActionResult, *, token: str | None = None) -> tuple[dict[str, str], bytes]:
    """Headers and body of `result`'s riposte.action.v1 CloudEvent, in binary mode."""
    return action.binary(action.event(result, token=token))
