"""Start, stop and restart etcd + kube-apiserver on free loopback ports.

    with ControlPlane.start() as cp:
        cp.kubeconfig                      # admin (system:masters) kubeconfig path
        cp.serviceaccount_kubeconfig(...)  # a real TokenRequest token, as a kubeconfig

Children get PR_SET_PDEATHSIG, so a killed test run leaves no etcd or apiserver behind.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "hack" / "build-apiserver.sh"
ISSUER = "https://kubernetes.default.svc.cluster.local"
READY_TIMEOUT = 60.0


class ControlPlaneError(RuntimeError):
    """The control plane could not be built or started; the message says why."""


def apiserver_binary() -> str:
    """Path of kube-apiserver, building it once (minutes, with progress) if needed."""
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, stderr=None, text=True, check=False
    )
    path = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode != 0 or not os.access(path, os.X_OK):
        raise ControlPlaneError(
            f"building kube-apiserver failed (exit {result.returncode}); see the output above "
            f"of {BUILD_SCRIPT}"
        )
    return path


def etcd_binary() -> str:
    """etcd from KUBEBUILDER_ASSETS, or Debian's etcd-server package."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets and os.access(os.path.join(assets, "etcd"), os.X_OK):
        return os.path.join(assets, "etcd")
    found = shutil.which("etcd")
    if found is None:
        raise ControlPlaneError("etcd is not installed: run `make deps` (it installs Debian's etcd-server)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Runs in the child: SIGKILL it when the parent (the test run) dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class ControlPlane:
    """A running etcd + kube-apiserver pair, owned by this process."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.etcd_port = free_port()
        self.peer_port = free_port()
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_urlsafe(32)
        self.kubeconfig = workdir / "admin.kubeconfig"
        self.ca_file = workdir / "serving.crt"
        # The apiserver presents this client certificate to kubelets (pods/log); a stand-in
        # kubelet (devcluster/kubelet.py) trusts the CA that signed it, as a real one would.
        self.kubelet_client_ca = workdir / "kubelet-client-ca.crt"
        self._etcd: subprocess.Popen[bytes] | None = None
        self._apiserver: subprocess.Popen[bytes] | None = None
        self._apiserver_bin = ""

    # -- lifecycle -------------------------------------------------------------------

    @classmethod
    def start(cls, workdir: Path | None = None) -> ControlPlane:
        """Build if needed, then start etcd and the apiserver; ready on return."""
        apiserver = apiserver_binary()
        etcd = etcd_binary()
        cp = cls(Path(workdir or tempfile.mkdtemp(prefix="riposte-cp-")))
        cp._apiserver_bin = apiserver
        try:
            cp._write_credentials()
            cp._start_etcd(etcd)
            cp.start_apiserver()
        except BaseException:
            cp.stop()
            raise
        return cp

    def __enter__(self) -> ControlPlane:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop both processes and remove the working directory."""
        self.stop_apiserver()
        terminate(self._etcd)
        self._etcd = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def stop_apiserver(self) -> None:
        """Take the API down (etcd keeps the data), as in an apiserver restart."""
        terminate(self._apiserver)
        self._apiserver = None

    def start_apiserver(self) -> None:
        """(Re)start the apiserver on the same port and wait until it is ready."""
        with open(self.workdir / "apiserver.log", "ab") as log:
            self._apiserver = spawn(
                [
                    self._apiserver_bin,
                    f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                    "--bind-address=127.0.0.1",
                    "--advertise-address=127.0.0.1",
                    f"--secure-port={self.port}",
                    "--insecure-port=0",
                    f"--tls-cert-file={self.workdir / 'serving.crt'}",
                    f"--tls-private-key-file={self.workdir / 'serving.key'}",
                    f"--token-auth-file={self.workdir / 'tokens.csv'}",
                    "--authorization-mode=RBAC",
                    f"--service-account-issuer={ISSUER}",
                    f"--service-account-key-file={self.workdir / 'sa.pub'}",
                    f"--service-account-signing-key-file={self.workdir / 'sa.key'}",
                    "--service-cluster-ip-range=10.96.0.0/16",
                    "--enable-admission-plugins=NamespaceLifecycle",
                    "--disable-admission-plugins=ServiceAccount",
                    # Ephemeral containers are alpha (off) in 1.20, GA from 1.25: on here so
                    # isolate-pod's "EphemeralContainers Created" is tested against real ones.
                    "--feature-gates=EphemeralContainers=true",
                    "--endpoint-reconciler-type=none",
                    f"--cert-dir={self.workdir}",
                    f"--kubelet-client-certificate={self.workdir / 'kubelet-client.crt'}",
                    f"--kubelet-client-key={self.workdir / 'kubelet-client.key'}",
                ],
                log,
            )
        self._wait_ready()

    # -- access ----------------------------------------------------------------------

    def client(self) -> ApiClient:
        """A kubernetes ApiClient as the admin."""
        from kubernetes import config

        # kubernetes.config's loaders carry no annotations (kubernetes 37), unlike its client
        api: ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig)
        )
        return api

    def serviceaccount_token(self, namespace: str, name: str, seconds: int = 3600) -> str:
        """A real bound ServiceAccount token from the TokenRequest API."""
        from kubernetes import client

        api = client.CoreV1Api(self.client())
        request = client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[ISSUER], expiration_seconds=seconds)
        )
        response = api.create_namespaced_service_account_token(name, namespace, request)
        assert response.status is not None and response.status.token is not None
        return response.status.token

    def serviceaccount_kubeconfig(self, namespace: str, name: str) -> Path:
        """A kubeconfig that authenticates as the ServiceAccount namespace/name."""
        path = self.workdir / f"sa-{namespace}-{name}.kubeconfig"
        self._write_kubeconfig(path, f"{namespace}-{name}", self.serviceaccount_token(namespace, name))
        return path

    # -- internals -------------------------------------------------------------------

    def _write_credentials(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
            "-keyout", str(self.workdir / "serving.key"), "-out", str(self.ca_file),
            "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        )  # fmt: skip
        _openssl("genrsa", "-out", str(self.workdir / "sa.key"), "2048")
        self._write_kubelet_client()
        _openssl("rsa", "-in", str(self.workdir / "sa.key"), "-pubout", "-out", str(self.workdir / "sa.pub"))
        (self.workdir / "tokens.csv").write_text(f'{self.admin_token},admin,admin-uid,"system:masters"\n')
        self._write_kubeconfig(self.kubeconfig, "admin", self.admin_token)

    def _write_kubelet_client(self) -> None:
        """A CA and the client certificate the apiserver authenticates to kubelets with."""
        ca_key, key = self.workdir / "kubelet-client-ca.key", self.workdir / "kubelet-client.key"
        csr, crt = self.workdir / "kubelet-client.csr", self.workdir / "kubelet-client.crt"
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-keyout", str(ca_key),
            "-out", str(self.kubelet_client_ca), "-subj", "/CN=riposte-dev-kubelet-client-ca",
        )  # fmt: skip
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
            "-subj", "/O=system:masters/CN=kube-apiserver-kubelet-client",
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.kubelet_client_ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "30", "-out", str(crt),
        )  # fmt: skip

    def _write_kubeconfig(self, path: Path, user: str, token: str) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "local", "cluster": {"server": self.url, "certificate-authority": str(self.ca_file)}}
            ],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": user, "context": {"cluster": "local", "user": user}}],
            "current-context": user,
        }
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)

    def _start_etcd(self, etcd: str) -> None:
        with open(self.workdir / "etcd.log", "ab") as log:
            self._etcd = spawn(
                [
                    etcd,
                    f"--data-dir={self.workdir / 'etcd'}",
                    f"--listen-client-urls=http://127.0.0.1:{self.etcd_port}",
                    f"--advertise-client-urls=http://127.0.0.1:{self.etcd_port}",
                    f"--listen-peer-urls=http://127.0.0.1:{self.peer_port}",
                    f"--initial-advertise-peer-urls=http://127.0.0.1:{self.peer_port}",
                    f"--initial-cluster=default=http://127.0.0.1:{self.peer_port}",
                    "--unsafe-no-fsync" if _etcd_has_no_fsync(etcd) else "--quota-backend-bytes=0",
                ],
                log,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._etcd.poll() is not None:
                raise ControlPlaneError(f"etcd exited: {_tail(self.workdir / 'etcd.log')}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.etcd_port}/health", timeout=1) as r:
                    if b"true" in r.read():
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise ControlPlaneError(f"etcd not healthy in {READY_TIMEOUT}s: {_tail(self.workdir / 'etcd.log')}")

    def _wait_ready(self) -> None:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        request = urllib.request.Request(
            f"{self.url}/readyz", headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self._apiserver is not None
            if self._apiserver.poll() is not None:
                raise ControlPlaneError(
                    f"kube-apiserver exited ({self._apiserver.returncode}): "
                    f"{_tail(self.workdir / 'apiserver.log')}"
                )
            try:
                with urllib.request.urlopen(request, timeout=2, context=context) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise ControlPlaneError(
            f"kube-apiserver not ready in {READY_TIMEOUT}s: {_tail(self.workdir / 'apiserver.log')}"
        )


def _etcd_has_no_fsync(etcd: str) -> bool:
    """etcd >= 3.5 can skip fsync (tests only); Debian's 3.4 cannot."""
    out = subprocess.run([etcd, "--help"], capture_output=True, text=True, check=False)
    return "--unsafe-no-fsync" in out.stdout + out.stderr


def spawn(
    argv: list[str], log: Any, *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """A child writing to `log`, killed when this process dies (no strays, ever)."""
    return subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )


def terminate(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a child politely, then firmly after 10 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ControlPlaneError(f"openssl {args[0]} failed: {result.stderr.strip()[-500:]}")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


if __name__ == "__main__":  # pragma: no cover - manual smoke run
    with ControlPlane.start() as plane:
        print(f"ready at {plane.url}; KUBECONFIG={plane.kubeconfig}", file=sys.stderr)
