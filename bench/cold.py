"""Cold start: process start -> port open -> first action done (the seed alert's ConfigMap
deleted), median of a few runs (goal <= 1.0 s); and `python -X importtime` of each
function's main.py (notify must not import kubernetes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests
from kubernetes import client

from bench.common import SERVING, Row, median, outcome, ready, seed_alert, serve, wait_port
from bench.kubecalls import create_configmaps
from devcluster.controlplane import ROOT

GOAL_MS = 1000.0
FUNCTIONS = ROOT / "functions"


@dataclass(frozen=True)
class Start:
    port_ms: float  # process start -> port open
    first_ms: float  # port open -> first action done

    @property
    def total_ms(self) -> float:
        return self.port_ms + self.first_ms


def once(core: client.CoreV1Api, env: Mapping[str, str], workdir: Path, namespace: str, name: str) -> Start:
    create_configmaps(core, namespace, [name])
    body, headers = seed_alert(namespace, name)
    started = time.perf_counter()
    fn = serve("delete-configmap", env, workdir)
    try:
        opened = wait_port(fn.port)
        answer = requests.post(fn.url, data=body, headers=headers, timeout=30)
        done = time.perf_counter()
        if answer.status_code != 200 or outcome(answer.content) != "acted":
            raise RuntimeError(f"cold start: first alert not acted on: {answer.status_code} {answer.text}")
    finally:
        fn.stop()
    return Start((opened - started) * 1000, (done - opened) * 1000)


def trivial_port_ms(workdir: Path, source: Path) -> float:
    """Process start -> port open for the trivial handler: functions-framework's own share."""
    started = time.perf_counter()
    fn = serve("trivial", {}, workdir, source=source)
    try:
        opened = wait_port(fn.port)
        ready(fn)
    finally:
        fn.stop()
    return (opened - started) * 1000


def rows(starts: list[Start], trivial_ms: list[float]) -> list[Row]:
    middle = sorted(starts, key=lambda s: s.total_ms)[len(starts) // 2]  # the median run
    total = middle.total_ms
    return [
        Row(
            f"cold start: process start -> port open -> first delete done, median of {len(starts)}",
            f"{total:.0f} ms = port open {middle.port_ms:.0f} ms + first request {middle.first_ms:.0f} ms",
            f"trivial handler: port open {median(trivial_ms):.0f} ms",
            "runs: " + ", ".join(f"{s.port_ms:.0f}+{s.first_ms:.0f}" for s in starts),
            f"<= {GOAL_MS:.0f} ms",
            total <= GOAL_MS,
        )
    ]


@dataclass(frozen=True)
class Imports:
    function: str
    total_ms: float  # cumulative import time of the top-level `main`
    kubernetes: bool  # `kubernetes` among the modules it imported
    error: str = ""


def importtime(function: str, env: Mapping[str, str], runs: int = 3) -> Imports:
    """`python -X importtime`, importing functions/<function>/main.py as functions-framework
    does (module `main`, its folder and the repository root on sys.path); median of runs."""
    folder = FUNCTIONS / function
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}",
        **SERVING,
        **env,
    }
    totals, kubernetes = [], False
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import main"],
            env=full_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            return Imports(function, 0.0, False, result.stderr.strip().splitlines()[-1])
        found = parse_importtime(result.stderr)
        if found is None:
            return Imports(function, 0.0, False, "no `main` line in -X importtime's output")
        totals.append(found[0])
        kubernetes = kubernetes or found[1]
    return Imports(function, median(totals), kubernetes)


def parse_importtime(stderr: str) -> tuple[float, bool] | None:
    """(cumulative ms of the top-level `main`, whether `kubernetes` was imported)."""
    total, kubernetes = None, False
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        if name.strip() == "kubernetes":
            kubernetes = True
        if name.rstrip() == " main" and cumulative.strip().isdigit():
            total = int(cumulative) / 1000
    return None if total is None else (total, kubernetes)


def import_rows(found: list[Imports]) -> list[Row]:
    out = []
    for imports in found:
        notify = imports.function == "notify"
        if imports.error:
            out.append(Row(f"import of functions/{imports.function}/main.py", f"failed: {imports.error}"))
            continue
        out.append(
            Row(
                f"import of functions/{imports.function}/main.py (-X importtime, median of 3)",
                f"{imports.total_ms:.0f} ms, kubernetes {'' if imports.kubernetes else 'not '}imported",
                goal="kubernetes not imported" if notify else "-",
                met=(not imports.kubernetes) if notify else None,
            )
        )
    return out
