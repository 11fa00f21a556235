"""What every benchmark shares: the sender token, the alerts sent, how processes are
served, and one row of the results table."""

from __future__ import annotations

import json
import math
import os
import secrets
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from devcluster.controlplane import ROOT
from devcluster.functions import FunctionProcess
from devcluster.senders import cloudevent_headers, configmap_alert, encode, shell_alert

# Every request carries the sender token, as Falcosidekick's cloudevents output does
# (CLOUDEVENTS_EXTENSIONS=authtoken:<t> -> header Ce-Authtoken).
TOKEN = f"bench.{secrets.token_urlsafe(18)}"
# Served as the image serves (Dockerfile: WORKERS=1, THREADS=8).
SERVING = {"WORKERS": "1", "THREADS": "8", "RIPOSTE_TOKEN": TOKEN}
TRIVIAL = ROOT / "bench" / "trivial" / "main.py"
SEED_DATA = {"aws_access_key_id": "AKES20LNOA"}  # the seed scenario's ConfigMap


@dataclass(frozen=True)
class Row:
    """One figure of the table: what riposte measured, against what, and the goal."""

    figure: str
    riposte: str
    baseline: str = "-"
    result: str = "-"
    goal: str = "-"
    met: bool | None = None  # None: no goal, reported for how it grows


def serve(name: str, env: Mapping[str, str], workdir: Path, *, source: Path | None = None) -> FunctionProcess:
    """functions-framework serving `name` (or `source`, for the trivial handler) with the
    exact command line, workers and threads of the image; not waited for."""
    command = None
    if source is not None:
        command = [
            str(Path(sys.executable).with_name("functions-framework")),
            "--target=handle",
            f"--source={source}",
            "--host=127.0.0.1",
        ]  # the same as FunctionProcess's own, which passes the port as $PORT does here
    return FunctionProcess(name, {**SERVING, **env}, workdir=workdir, command=command)


def wait_port(port: int, timeout: float = 30.0) -> float:
    """Poll until a TCP connect to the port succeeds; the perf_counter() of that moment."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with socket.socket() as sock:
            try:
                sock.connect(("127.0.0.1", port))
                return time.perf_counter()
            except OSError:
                pass
        time.sleep(0.002)
    raise RuntimeError(f"port {port} not open in {timeout}s")


def ready(process: FunctionProcess, timeout: float = 60.0) -> FunctionProcess:
    """Wait until the server answers HTTP at all (the trivial handler answers 204 to GET,
    so FunctionProcess.wait_ready's 200 cannot be the test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{process.output()}")
        try:
            with urllib.request.urlopen(f"{process.url}/_/health", timeout=2):
                return process
        except urllib.error.HTTPError:
            return process
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{process.name} not serving in {timeout}s:\n{process.output()}")


def pss_mb(pid: int) -> float:
    """PSS of a gunicorn master and all its workers: pages they share counted once."""
    parent = psutil.Process(pid)
    return sum(p.memory_full_info().pss for p in [parent, *parent.children(recursive=True)]) / 2**20


def ignored_alert() -> tuple[bytes, dict[str, str]]:
    """A real-format alert that neither delete-configmap (another rule) nor notify (Notice,
    below its Warning) answers: Falco's "Terminal shell in container", as Falcosidekick's
    cloudevents output sends it, with the sender token."""
    alert = shell_alert("shop", "web-7c5d8f9b6d-x2lqp")
    return encode(alert), cloudevent_headers(alert, authtoken=TOKEN)


def seed_alert(namespace: str, name: str) -> tuple[bytes, dict[str, str]]:
    """The seed alert for ConfigMap namespace/name (a fresh uuid each time)."""
    alert = configmap_alert(namespace, name)
    return encode(alert), cloudevent_headers(alert, authtoken=TOKEN)


def outcome(body: bytes) -> Any:
    """The `outcome` of a binary-mode riposte.action.v1 reply (its data is the body)."""
    try:
        return json.loads(body).get("outcome")
    except ValueError:
        return None


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def load_average() -> str:
    """The 1-minute load average, against the cores: other work on the machine makes every
    figure noisier."""
    return f"{os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)"
