"""A stand-in kubelet: the one part of a node the apiserver talks to for `pods/log`.

No kubelet can run here (no container runtime), but the apiserver's log path is real:
`GET /api/v1/namespaces/<ns>/pods/<pod>/log` looks up the pod's Node and proxies to
`https://<InternalIP>:<kubeletEndpoint.Port>/containerLogs/<ns>/<pod>/<container>`,
forwarding `tailLines`, `limitBytes` and `previous` (DESIGN.md §9). This server answers
that path as the kubelet's own server does (pkg/kubelet/server, kuberuntime logs, 1.20):

- a pod it does not hold: 404 `pod "<name>" does not exist`; a container the pod lacks:
  404 `container "<c>" not found in pod "<pod>"`;
- a container not started yet: 400 `container "<c>" in pod "<pod>" is waiting to start:
  <reason>`; `previous=true` without a previous instance: 400 `previous terminated
  container "<c>" in pod "<pod>" not found`;
- otherwise the log: the last `tailLines` lines, of those at most the first `limitBytes`
  bytes (kubelet writes through a limited writer after tailing), as text/plain.

It authenticates its caller as a kubelet with x509 client authentication does: the
apiserver's `--kubelet-client-certificate` must be signed by the CA it was given; a
request without a client certificate is 401. Its serving certificate is self-signed (the
apiserver runs without `--kubelet-certificate-authority`, so it does not verify it).

    kubelet = Kubelet(workdir, client_ca=cluster.kubelet_client_ca).start()
    kubelet.register(api_client, "node-1")      # Node with InternalIP 127.0.0.1 and our port
    kubelet.put("shop", "web-1", "c", "line 1\\nline 2\\n", previous="crashed\\n")
    kubelet.waiting("shop", "web-1", "sidecar")  # not started: 400, as a kubelet answers
"""

from __future__ import annotations

import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


@dataclass
class Container:
    """One container's logs as a node keeps them: current instance and the previous one."""

    current: bytes | None = None  # None: not started yet
    previous: bytes | None = None  # None: it never restarted
    waiting_reason: str = "ContainerCreating"


@dataclass(frozen=True)
class Request:
    """A log request the stand-in received (what the apiserver forwarded)."""

    namespace: str
    pod: str
    container: str
    query: dict[str, str]


@dataclass
class _State:
    pods: dict[tuple[str, str], dict[str, Container]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def tail(data: bytes, lines: int | None) -> bytes:
    """The last `lines` lines of `data` (a last line without a newline counts as one)."""
    if lines is None:
        return data
    if lines <= 0:
        return b""
    parts = data.splitlines(keepends=True)
    return b"".join(parts[-lines:])


class Kubelet:
    """A local HTTPS server answering `/containerLogs/...` for the pods it is told about."""

    def __init__(self, workdir: Path, *, client_ca: Path) -> None:
        self.workdir = workdir
        self.state = _State()
        cert, key = workdir / "kubelet-serving.crt", workdir / "kubelet-serving.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-keyout", str(key), "-out", str(cert), "-subj", "/CN=riposte-stand-in-kubelet",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL  # no certificate: answered 401 below
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port: int = self._server.server_address[1]
        self.node_name = ""  # set by register
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Kubelet:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Kubelet:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- the node --------------------------------------------------------------------

    def node(self, name: str) -> dict[str, Any]:
        """A Node whose kubelet is this server. Only an InternalIP address: the apiserver
        prefers a Hostname address, which would not resolve to us."""
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"riposte.io/stand-in-kubelet": "true"}},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
            },
        }

    def register(self, api: ApiClient, name: str) -> None:
        """Create the Node (as admin) and set its status: addresses, kubelet port."""
        from kubernetes import client

        core = client.CoreV1Api(api)
        body = self.node(name)
        core.create_node(cast(Any, {"metadata": body["metadata"]}))
        core.patch_node_status(name, {"status": body["status"]})
        self.node_name = name

    # -- what the node holds ---------------------------------------------------------

    def put(
        self,
        namespace: str,
        pod: str,
        container: str,
        current: str | bytes,
        *,
        previous: str | bytes | None = None,
    ) -> None:
        """The container runs (its log is `current`); `previous`: the instance before a restart."""
        with self.state.lock:
            self.state.pods.setdefault((namespace, pod), {})[container] = Container(
                current=_bytes(current), previous=None if previous is None else _bytes(previous)
            )

    def waiting(self, namespace: str, pod: str, container: str, reason: str = "ContainerCreating") -> None:
        """The container has not started (no log yet)."""
        with self.state.lock:
            self.state.pods.setdefault((namespace, pod), {})[container] = Container(waiting_reason=reason)

    @property
    def requests(self) -> list[Request]:
        with self.state.lock:
            return list(self.state.requests)


def _bytes(text: str | bytes) -> bytes:
    return text.encode() if isinstance(text, str) else text


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            connection: Any = self.connection
            if not connection.getpeercert():
                return self._answer(HTTPStatus.UNAUTHORIZED, "Unauthorized")
            url = urlsplit(self.path)
            parts = [unquote(p) for p in url.path.split("/")[1:]]
            if len(parts) != 4 or parts[0] != "containerLogs":
                return self._answer(HTTPStatus.NOT_FOUND, "404 page not found")
            _, namespace, pod, name = parts
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            with state.lock:
                state.requests.append(Request(namespace, pod, name, query))
                containers = state.pods.get((namespace, pod))
                container = None if containers is None else containers.get(name)
            if containers is None:
                return self._answer(HTTPStatus.NOT_FOUND, f'pod "{pod}" does not exist\n')
            if container is None:
                return self._answer(HTTPStatus.NOT_FOUND, f'container "{name}" not found in pod "{pod}"\n')
            if query.get("previous") == "true":
                data = container.previous
                if data is None:
                    return self._answer(
                        HTTPStatus.BAD_REQUEST,
                        f'previous terminated container "{name}" in pod "{pod}" not found',
                    )
            else:
                data = container.current
                if data is None:
                    return self._answer(
                        HTTPStatus.BAD_REQUEST,
                        f'container "{name}" in pod "{pod}" is waiting to start: {container.waiting_reason}',
                    )
            lines = int(query["tailLines"]) if "tailLines" in query else None
            data = tail(data, lines)
            if "limitBytes" in query:
                data = data[: int(query["limitBytes"])]
            self._answer(HTTPStatus.OK, data)

        def _answer(self, status: HTTPStatus, body: str | bytes) -> None:
            data = _bytes(body)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
