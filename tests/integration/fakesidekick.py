"""A local server standing in for Falcosidekick (an outside component: the only thing faked).

It applies Falcosidekick's own checks to what it receives on `/` (falcosidekick
types/types.go `FalcoPayload.Check` and handlers.go `mainHandler`: 400 "Please send a
valid request body" for an undecodable body, an unknown priority, an empty rule, a
missing or non-RFC 3339 time, empty output_fields) and Falcosidekick-UI's (models
`Payload` validation: ASCII `output`, printable-ASCII rule, priority, source, hostname;
a 500 there), then does what Falcosidekick does with an accepted payload: a fresh uuid,
tags sorted, and forwarding to its outputs, here as its `cloudevents` output does
(binary mode, type falco.rule.output.v1, extensions priority, rule, hostname and the
configured `authtoken`).
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

PRIORITIES = {"emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"}
# Go's time.Time.UnmarshalJSON: RFC 3339, fractional seconds optional.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
PRINTABLE = re.compile(r"[\x20-\x7e]*")


def sidekick_check(body: bytes) -> str | None:
    """Why Falcosidekick would answer 400 to `body`, or None when it accepts it."""
    try:
        payload = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(payload, dict):
        return "not an object"
    priority, rule, time, fields = (payload.get(k) for k in ("priority", "rule", "time", "output_fields"))
    if not isinstance(priority, str) or priority.lower() not in PRIORITIES:
        return "unknown priority"
    if not isinstance(rule, str) or not rule:
        return "empty rule"
    if not isinstance(time, str) or not RFC3339.fullmatch(time):
        return "no RFC 3339 time"
    if not isinstance(fields, dict) or not fields:
        return "empty output_fields"
    for key in ("k8s.ns.name", "k8s.pod.name"):  # a type assertion that panics on non-strings
        if fields.get(key) is not None and not isinstance(fields[key], str):
            return f"{key} is not a string (Falcosidekick would drop the connection)"
    return None


def ui_check(payload: dict[str, Any]) -> str | None:
    """Why Falcosidekick-UI would refuse the event (a 500 there), or None."""
    output = payload.get("output", "")
    if not isinstance(output, str) or not output.isascii():
        return "output is not ASCII"
    for key in ("rule", "priority", "source", "hostname"):
        value = payload.get(key, "")
        if not isinstance(value, str) or not PRINTABLE.fullmatch(value):
            return f"{key} is not printable ASCII"
    return None


@dataclass
class Forwarded:
    url: str
    status: int


@dataclass
class FakeSidekick:
    """Accepts, validates and forwards; records everything."""

    token: str | None = None
    outputs: list[str] = field(default_factory=list)  # cloudevents targets
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[bytes, str]] = field(default_factory=list)
    forwarded: list[Forwarded] = field(default_factory=list)

    def __post_init__(self) -> None:
        sidekick = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                problem = sidekick_check(body)
                payload = json.loads(body) if problem is None else {}
                problem = problem or ui_check(payload)
                if problem is not None:
                    sidekick.rejected.append((body, problem))
                    answer = b"Please send a valid request body\n"
                    self.send_response(400)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                sidekick.forward(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, payload: dict[str, Any]) -> None:
        """What Falcosidekick does after its 200: a new uuid, sorted tags, every output."""
        payload = {**payload, "uuid": str(uuid.uuid4()), "tags": sorted(payload.get("tags") or [])}
        self.accepted.append(payload)
        headers = {
            "Ce-Specversion": "1.0",
            "Ce-Id": str(uuid.uuid4()),
            "Ce-Source": "https://falco.org",
            "Ce-Type": "falco.rule.output.v1",
            "Ce-Time": datetime.datetime.now(datetime.UTC).isoformat(),
            "Ce-Priority": payload["priority"],
            "Ce-Rule": payload["rule"],
            "Content-Type": "application/json",
        }
        if payload.get("hostname"):
            headers["Ce-Hostname"] = payload["hostname"]
        if self.token:
            headers["Ce-Authtoken"] = self.token
        for url in self.outputs:
            response = requests.post(url, data=json.dumps(payload), headers=headers, timeout=30)
            self.forwarded.append(Forwarded(url, response.status_code))

    def stop(self) -> None:
        self.server.shutdown()
