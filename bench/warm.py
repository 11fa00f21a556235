"""Warm latency: one seed alert -> ConfigMap deleted, over HTTP, one request at a time, vs
the raw client calls a naive delete needs (read, copy, delete, Event) as the same
ServiceAccount. The two alternate, one each per round, so the machine's load falls on
both alike (goal <= 1.5x)."""

from __future__ import annotations

import time

import requests
from kubernetes import client

from bench.common import Row, median, outcome, seed_alert
from bench.kubecalls import Baseline, create_configmaps
from devcluster.functions import FunctionProcess

GOAL = 1.5
WARMUP = 5  # rounds not counted: first connections, caches


def measure(
    core: client.CoreV1Api, fn: FunctionProcess, baseline: Baseline, namespace: str, runs: int
) -> Row:
    total = runs + WARMUP
    create_configmaps(
        core, namespace, [f"warm-{i}" for i in range(total)] + [f"raw-{i}" for i in range(total)]
    )
    riposte: list[float] = []
    raw: list[float] = []
    with requests.Session() as session:
        for i in range(total):
            body, headers = seed_alert(namespace, f"warm-{i}")
            started = time.perf_counter()
            answer = session.post(fn.url, data=body, headers=headers, timeout=30)
            elapsed = time.perf_counter() - started
            if answer.status_code != 200 or outcome(answer.content) != "acted":
                raise RuntimeError(f"warm alert not acted on: {answer.status_code} {answer.text}")
            raw_elapsed = baseline.delete(namespace, f"raw-{i}")
            if i >= WARMUP:
                riposte.append(elapsed * 1000)
                raw.append(raw_elapsed * 1000)
    ratio = median(riposte) / median(raw)
    return Row(
        "warm alert -> delete, median",
        f"{median(riposte):.1f} ms",
        f"read + copy + delete + Event {median(raw):.1f} ms",
        f"{ratio:.2f}x",
        f"<= {GOAL}x",
        ratio <= GOAL,
    )
