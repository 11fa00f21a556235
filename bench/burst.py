"""Bursts: distinct alerts, each its own target, at a fixed concurrency.

Sent from a thread pool of `requests` sessions, one per concurrent sender: at the tens to
hundreds of actions per second an acting function manages here, the server and the
apiserver bound the rate, not the client (unlike the ignored path, left to wrk).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from kubernetes import client

from bench.common import Row, outcome, percentile, seed_alert
from bench.kubecalls import Baseline
from devcluster.functions import FunctionProcess

GOAL = 0.7


@dataclass(frozen=True)
class Burst:
    count: int
    concurrency: int
    seconds: float
    latencies_ms: tuple[float, ...]
    errors: int
    detail: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def summary(self) -> str:
        return (
            f"{self.rate:.0f}/s, {self.errors} errors, p50 {percentile(list(self.latencies_ms), 50):.0f} ms, "
            f"p99 {percentile(list(self.latencies_ms), 99):.0f} ms{self.detail}"
        )


def run(count: int, concurrency: int, one: Callable[[int], bool]) -> Burst:
    """`one(i)` for i in range(count), `concurrency` at a time; True when it succeeded."""

    def timed(i: int) -> tuple[float, bool]:
        started = time.perf_counter()
        try:
            ok = one(i)
        except (requests.RequestException, RuntimeError, client.ApiException):
            ok = False
        return (time.perf_counter() - started) * 1000, ok

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(timed, range(count)))
    wall = time.perf_counter() - started
    return Burst(
        count, concurrency, wall, tuple(t for t, _ in results), sum(1 for _, ok in results if not ok)
    )


def alerts(
    fn: FunctionProcess, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int, *, expect: int
) -> Burst:
    """POST each alert once; success is status `expect` (and `acted`, for a 200)."""
    local = threading.local()

    def one(i: int) -> bool:
        session: requests.Session | None = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        body, headers = bodies[i]
        answer = session.post(fn.url, data=body, headers=headers, timeout=60)
        return answer.status_code == expect and (expect != 200 or outcome(answer.content) == "acted")

    return run(len(bodies), concurrency, one)


def acting(fn: FunctionProcess, namespace: str, names: list[str], concurrency: int) -> Burst:
    return alerts(fn, [seed_alert(namespace, n) for n in names], concurrency, expect=200)


def baseline(raw: Baseline, namespace: str, names: list[str], concurrency: int) -> Burst:
    conflicts = [0]
    lock = threading.Lock()

    def one(i: int) -> bool:
        _, met = raw.delete_with_lease(namespace, names[i])
        with lock:
            conflicts[0] += met
        return True

    measured = run(len(names), concurrency, one)
    return Burst(
        measured.count,
        measured.concurrency,
        measured.seconds,
        measured.latencies_ms,
        measured.errors,
        f", {conflicts[0]} Lease conflicts re-read",
    )


def row(riposte: Burst, raw: Burst, budget: str) -> Row:
    ratio = riposte.rate / raw.rate
    return Row(
        f"burst: {riposte.count} distinct alerts, concurrency {riposte.concurrency} (a pool of requests "
        f"threads), budget {budget}",
        riposte.summary(),
        f"raw calls + Lease compare-and-swap: {raw.summary()}",
        f"{ratio:.2f}x",
        f">= {GOAL}x, 0 errors",
        ratio >= GOAL and riposte.errors == 0,
    )
