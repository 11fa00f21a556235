"""riposte's benchmarks, in one run, against the local real kube-apiserver (DESIGN.md §10).

    make bench                       prints the table and writes bench/results.md
    python -m bench.run --quick      shorter loads and smaller bursts, while developing
                                     (prints only)

Every ratio is between figures of this one run. HTTP load on the ignored path is wrk's
(bench/wrk.py); bursts come from a thread pool of `requests` sessions (bench/burst.py);
functions and the trivial handler are served as the image serves them (bench/common.py).
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import requests
from kubernetes import client

from bench import budgetcost, burst, cold, ignored, report, warm, wrk
from bench.common import TOKEN, TRIVIAL, Row, ignored_alert, load_average, pss_mb, ready, serve
from bench.kubecalls import Baseline, create_configmaps, reset_lease
from devcluster import manifests
from devcluster.controlplane import ROOT, ControlPlane
from devcluster.functions import FunctionProcess
from devcluster.senders import cloudevent_headers, configmap_alert, encode
from devcluster.sink import RecordingSink
from shared import names as riposte_names

BUDGET = "1000/60s"  # the burst's budget (issue 10): every action of a burst is granted
MEMORY_GOAL = {"delete-configmap": 100.0, "notify": 60.0}
FUNCTIONS = ("cordon_node", "delete_configmap", "isolate_pod", "label_pod", "notify", "undo")


@dataclass(frozen=True)
class Sizes:
    wrk_seconds: float  # per server and connection count, split over the rounds
    rounds: int
    warm: int
    cold: int
    burst: int
    memory_burst: int
    spend_sizes: tuple[int, ...]


FULL = Sizes(
    wrk_seconds=10, rounds=2, warm=60, cold=3, burst=300, memory_burst=1000, spend_sizes=(10, 100, 1000)
)
QUICK = Sizes(wrk_seconds=2, rounds=2, warm=15, cold=3, burst=100, memory_burst=200, spend_sizes=(10, 100))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short loads, small bursts (not the figures)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    started = datetime.datetime.now(datetime.UTC)
    load_before = load_average()
    rows = measure(sizes)
    command = (
        "`python -m bench.run --quick` (a development run, not figures)" if args.quick else "`make bench`"
    )
    header = [
        f"{command}, {started:%Y-%m-%d %H:%M} UTC, {_wrk_version()}; "
        f"load average {load_before} before, {load_average()} after.",
        "Ignored path: wrk, 1 thread, keep-alive, "
        f"{sizes.wrk_seconds:g} s per server and connection count in {sizes.rounds} interleaved rounds. "
        "Bursts and warm latency: a thread pool of Python `requests` sessions.",
    ]
    text = report.document(rows, header)
    print(text)
    if not args.quick:  # a development run's figures are not the results
        (ROOT / "bench" / "results.md").write_text(text)


# The table's order, whatever order the steps run in.
SECTIONS = ("ignored", "cold", "imports", "warm", "burst", "budget", "memory")


def measure(sizes: Sizes) -> list[Row]:
    found: dict[str, list[Row]] = {section: [] for section in SECTIONS}
    with ControlPlane.start() as plane, RecordingSink() as sink:
        admin = plane.client()
        shipped = manifests.base()
        manifests.apply(admin, shipped)
        lease_name = riposte_names.budget_lease("delete-configmap")
        lease = next(d for d in shipped if d["kind"] == "Lease" and d["metadata"]["name"] == lease_name)
        core, coordination = client.CoreV1Api(admin), client.CoordinationV1Api(admin)
        namespace = f"bench-{uuid.uuid4().hex[:6]}"
        core.create_namespace(cast(Any, {"metadata": {"name": namespace}}))
        kubeconfig = plane.serviceaccount_kubeconfig("riposte", "delete-configmap")
        acting_env = {"KUBECONFIG": str(kubeconfig), "RIPOSTE_BUDGET": BUDGET}
        notify_env = {"RIPOSTE_WEBHOOK_URL": sink.url}

        step("import times")
        found["imports"] += cold.import_rows(
            [
                cold.importtime(f, {"KUBECONFIG": str(kubeconfig)} if f != "notify" else notify_env)
                for f in FUNCTIONS
            ]
        )

        reset_lease(coordination, lease)
        trivial = ready(serve("trivial", {}, plane.workdir, source=TRIVIAL))
        acting = serve("delete-configmap", acting_env, plane.workdir).wait_ready()
        notify = serve("notify", notify_env, plane.workdir).wait_ready()
        try:
            step("ignored path (wrk)")
            loads = ignored.measure(
                {"trivial": trivial, "delete-configmap": acting, "notify": notify},
                seconds=sizes.wrk_seconds,
                rounds=sizes.rounds,
            )
            trivial.stop()
            found["ignored"] += ignored.rows(loads, baseline="trivial")

            raw = Baseline(kubeconfig)
            step("warm latency")
            reset_lease(coordination, lease)
            found["warm"].append(warm.measure(core, acting, raw, namespace, sizes.warm))

            step("burst")
            names = [f"burst-{i}" for i in range(sizes.burst)]
            create_configmaps(core, namespace, [f"cas-{n}" for n in names] + names)
            reset_lease(coordination, lease)
            baseline = burst.baseline(raw, namespace, [f"cas-{n}" for n in names], 16)
            reset_lease(coordination, lease)
            riposte = burst.acting(acting, namespace, names, 16)
            found["burst"].append(burst.row(riposte, baseline, BUDGET))
            acting.stop()

            step("memory bursts")
            found["memory"] += memory(
                core, coordination, lease, plane.workdir, acting_env, namespace, notify, sink, sizes
            )
            found["memory"] += ignored.memory_rows(loads)
        finally:
            for process in (trivial, acting, notify):
                process.stop()

        step("cold starts")
        reset_lease(coordination, lease)
        starts = []
        for i in range(sizes.cold):
            # A token the apiserver has not seen: a function scaled to zero comes back after
            # the apiserver's token cache (seconds) has forgotten its last one.
            fresh = plane.serviceaccount_kubeconfig("riposte", "delete-configmap")
            env = {**acting_env, "KUBECONFIG": str(fresh)}
            starts.append(cold.once(core, env, plane.workdir, namespace, f"cold-{i}"))
        trivial_ms = [cold.trivial_port_ms(plane.workdir, TRIVIAL) for _ in range(sizes.cold)]
        found["cold"] += cold.rows(starts, trivial_ms)

        step("budget spend cost")
        reset_lease(coordination, lease)
        found["budget"] += budgetcost.rows(budgetcost.measure(kubeconfig, sizes.spend_sizes))
    return [row for section in SECTIONS for row in found[section]]


def step(what: str) -> None:
    print(f"[bench] {datetime.datetime.now(datetime.UTC):%H:%M:%S} {what}", file=sys.stderr, flush=True)


def memory(
    core: client.CoreV1Api,
    coordination: client.CoordinationV1Api,
    lease: dict[str, Any],
    workdir: Path,
    acting_env: dict[str, str],
    namespace: str,
    notify: FunctionProcess,
    sink: RecordingSink,
    sizes: Sizes,
) -> list[Row]:
    """PSS of a fresh acting function, and of notify, before and after a burst of
    `sizes.memory_burst` distinct alerts at concurrency 16."""
    count = sizes.memory_burst
    names = [f"mem-{i}" for i in range(count)]
    create_configmaps(core, namespace, names)
    reset_lease(coordination, lease)
    rows = []
    fn = serve("delete-configmap", acting_env, workdir).wait_ready()
    try:
        body, headers = ignored_alert()
        requests.post(fn.url, data=body, headers=headers, timeout=10)
        before = pss_mb(fn.process.pid)
        measured = burst.acting(fn, namespace, names, 16)
        after = pss_mb(fn.process.pid)
    finally:
        fn.stop()
    rows.append(memory_row("delete-configmap", count, before, after, measured))

    alerts = []
    for i in range(count):
        alert = configmap_alert(namespace, f"notify-{i}")
        alerts.append((encode(alert), cloudevent_headers(alert, authtoken=TOKEN)))
    before = pss_mb(notify.process.pid)
    received = len(sink.received)
    measured = burst.alerts(notify, alerts, 16, expect=204)
    after = pss_mb(notify.process.pid)
    delivered = len(sink.received) - received
    rows.append(memory_row("notify", count, before, after, measured, f"; {delivered} webhook messages sent"))
    return rows


def memory_row(
    name: str, count: int, before: float, after: float, measured: burst.Burst, extra: str = ""
) -> Row:
    goal = MEMORY_GOAL[name]
    return Row(
        f"PSS of {name} (master + worker) after {count} distinct alerts at concurrency 16",
        f"{after:.1f} MB (warm, before it: {before:.1f} MB)",
        result=f"the burst: {measured.summary()}{extra}",
        goal=f"<= {goal:.0f} MB",
        met=after <= goal and measured.errors == 0,
    )


def _wrk_version() -> str:
    result = subprocess.run([wrk.binary(), "--version"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).strip().splitlines()
    return first[0].split(" [")[0] if first else "wrk"


if __name__ == "__main__":
    main()
