"""Ignored alerts per second: what every alert a function does not answer costs it, against
a trivial functions-framework handler served the same way (goal >= 0.8x); wrk's p50/p99
and the servers' PSS at 1, 16 and 64 connections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests

from bench import wrk
from bench.common import Row, ignored_alert, pss_mb
from devcluster.functions import FunctionProcess

CONNECTIONS = (1, 16, 64)
GOAL = 0.8


@dataclass(frozen=True)
class Measured:
    """One server at one connection count: wrk's runs (interleaved rounds), and its PSS
    right after them."""

    runs: tuple[wrk.Load, ...]
    pss_mb: float

    @property
    def rate(self) -> float:
        return sum(r.requests for r in self.runs) / sum(r.seconds for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return sum(r.p50_ms for r in self.runs) / len(self.runs)

    @property
    def p99_ms(self) -> float:
        return sum(r.p99_ms for r in self.runs) / len(self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors + r.status_errors for r in self.runs)


def measure(
    servers: Mapping[str, FunctionProcess], *, seconds: float, rounds: int
) -> dict[str, dict[int, Measured]]:
    """Each server at each connection count; rounds alternate the order (A B C, C B A, …) so
    drift in the machine's load falls on all servers alike."""
    body, headers = ignored_alert()
    for name, server in servers.items():  # the alert is ignored (204), and connections warm
        answer = requests.post(server.url, data=body, headers=headers, timeout=10)
        if answer.status_code != 204:
            raise RuntimeError(f"{name} answered {answer.status_code} to the ignored alert: {answer.text}")
        wrk.run(server.url, body, headers, connections=16, seconds=1)
    results: dict[str, dict[int, Measured]] = {name: {} for name in servers}
    for connections in CONNECTIONS:
        runs: dict[str, list[wrk.Load]] = {name: [] for name in servers}
        for round_ in range(rounds):
            order = list(servers) if round_ % 2 == 0 else list(reversed(list(servers)))
            for name in order:
                load = wrk.run(
                    servers[name].url, body, headers, connections=connections, seconds=seconds / rounds
                )
                runs[name].append(load)
        for name, server in servers.items():
            results[name][connections] = Measured(tuple(runs[name]), pss_mb(server.process.pid))
    return results


def rows(results: dict[str, dict[int, Measured]], *, baseline: str) -> list[Row]:
    out = []
    for name, by_connections in results.items():
        if name == baseline:
            continue
        for connections, measured in by_connections.items():
            trivial = results[baseline][connections]
            ratio = measured.rate / trivial.rate
            errors = f", {measured.errors} errors" if measured.errors else ""
            out.append(
                Row(
                    f"ignored alerts/s, {name}, {connections} connection{'s' * (connections > 1)}",
                    f"{measured.rate:.0f}/s, p50 {measured.p50_ms:.1f} ms, p99 {measured.p99_ms:.1f} ms"
                    + errors,
                    f"trivial {trivial.rate:.0f}/s, p50 {trivial.p50_ms:.1f} ms, p99 {trivial.p99_ms:.1f} ms",
                    f"{ratio:.2f}x",
                    f">= {GOAL}x",
                    ratio >= GOAL and measured.errors == 0,
                )
            )
    return out


def memory_rows(results: dict[str, dict[int, Measured]]) -> list[Row]:
    out = []
    for name, by_connections in results.items():
        figures = ", ".join(f"{c}: {m.pss_mb:.0f} MB" for c, m in by_connections.items())
        out.append(Row(f"PSS after the ignored-alert load, {name}, by connections", figures))
    return out
