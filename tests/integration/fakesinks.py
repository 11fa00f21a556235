"""Local HTTP servers standing in for Slack, Teams and a webhook receiver (outside services:
the only thing faked). Each answers from a script (`answer(500, 200)`, `(429, {"Retry-After":
"1"})`, `HANG`), then 200, and records every request it received with what it answered.

The URL carries a secret path, as Slack's and Teams' do, so tests can check it never
leaks into notify's output or answers.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG = "hang"  # accept the request, never answer (until released)
Behaviour = int | tuple[int, dict[str, str]] | str


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None  # None: never answered (hung)
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


class FakeSink:
    def __init__(self, name: str) -> None:
        self.name = name
        self.secret = f"T0{secrets.token_hex(4)}/B0{secrets.token_hex(4)}/{secrets.token_urlsafe(18)}"
        self.path = f"/services/{self.secret}"
        self.received: list[Received] = []
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                entry = Received(self.path, dict(self.headers.items()), body, None, time.monotonic())
                with sink._lock:
                    sink.received.append(entry)
                    behaviour: Behaviour = sink._script.popleft() if sink._script else 200
                if behaviour == HANG:
                    sink._release.wait(60)
                    return
                status, headers = behaviour if isinstance(behaviour, tuple) else (int(behaviour), {})
                entry.status = status
                answer = b"ok" if status < 300 else b"no"
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, *behaviours: Behaviour) -> None:
        """The next answers, in order; 200 after them."""
        with self._lock:
            self._script.extend(behaviours)

    def accepted(self) -> list[Received]:
        """The requests it answered with a 2xx: the messages a channel shows."""
        with self._lock:
            return [entry for entry in self.received if entry.status is not None and entry.status < 300]

    def recover(self) -> None:
        """Answer 200 from now on (whatever was scripted), keeping what was received."""
        with self._lock:
            self._script.clear()
        self._release.set()

    def reset(self) -> None:
        self._release.set()  # let hung handlers finish
        with self._lock:
            self.received.clear()
            self._script.clear()
        self._release = threading.Event()

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
