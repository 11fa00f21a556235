"""What one budget spend costs as the window fills: shared/acting/budget.py's public
`spend`, as delete-configmap's ServiceAccount, against the real apiserver (its GET and
compare-and-swap PUT of the Lease included), sequentially from an empty window up to
the largest size; the median of the spends that take the window to each size."""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import Row, median
from shared import config, names
from shared.acting import budget
from shared.deadline import Deadline
from shared.kube.client import Kube
from shared.priority import Priority

SIZES = (10, 100, 1000)


def samples(n: int) -> int:
    """How many spends up to the N-th make its median: 5 for 10, 10 for 100, 20 for 1,000."""
    return min(20, max(5, n // 10))


def measure(kubeconfig: Path, sizes: tuple[int, ...] = SIZES) -> dict[int, float]:
    """{N: median ms of one spend taking the window to N actions} (a budget of max(sizes)
    per hour, no cooldown: every spend is granted)."""
    settings = config.load(
        "delete-configmap",
        rules=("Create/Modify Configmap With Private Credentials",),
        min_priority=Priority.WARNING,
        budget=f"{max(sizes)}/3600s",
        cooldown_seconds=0,
        environ={"KUBECONFIG": str(kubeconfig), "RIPOSTE_TOKEN": "bench-token-unused-here"},
    )
    kube = Kube(settings.kubeconfig)
    kube.warm()
    kube.get(Deadline(30), "Lease", namespace=settings.namespace, name=names.budget_lease(settings.function))
    spent_ms: list[float] = []
    for i in range(1, max(sizes) + 1):
        started = time.perf_counter()
        refused = budget.spend(kube, Deadline(30), settings, f"bench/cm-{i}", alert=f"bench-alert-{i}")
        spent_ms.append((time.perf_counter() - started) * 1000)
        if refused is not None:
            raise RuntimeError(f"budget spend {i} refused: {refused}")
    return {n: median(spent_ms[max(0, n - samples(n)) : n]) for n in sizes}


def rows(costs: dict[int, float]) -> list[Row]:
    return [
        Row(
            f"budget spend, {n} actions in the window (median of spends {max(1, n - samples(n) + 1)}-{n})",
            f"{ms:.1f} ms",
        )
        for n, ms in costs.items()
    ]
