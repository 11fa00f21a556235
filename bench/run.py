"""riposte's benchmarks, in one run, against the local real kube-apiserver (DESIGN.md §10).

    make bench        prints a Markdown table and writes bench/results.md

- warm latency: one seed alert -> ConfigMap deleted, over HTTP, vs the raw client calls
  the action needs (read + copy + delete with preconditions + Event) made directly with
  the official client as the same ServiceAccount;
- cold start: process start -> first deletion done (functions-framework, imports, first
  TLS connection to the apiserver);
- ignored alerts per second over HTTP vs a trivial functions-framework handler served the
  same way (one gunicorn worker, default threads), with 8 concurrent clients;
- a burst of 1,000 distinct alerts at concurrency 16: all acted, errors, p50/p99;
- memory of the serving processes (gunicorn master + worker) after the runs above.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import psutil
import requests
from kubernetes import client, config

from devcluster import manifests
from devcluster.controlplane import ROOT, ControlPlane, _die_with_parent, free_port
from devcluster.functions import FunctionProcess
from devcluster.senders import cloudevent_headers, configmap_alert, encode

# The budget would (rightly) refuse a benchmark's stream of actions; it is still spent
# and checked on every action, with a window short enough never to refuse.
UNBOUNDED = {"RIPOSTE_BUDGET": "1000/1s", "RIPOSTE_COOLDOWN_SECONDS": "0"}
WARM_RUNS = 60
BURST = 1000
BURST_CONCURRENCY = 16
COLD_RUNS = 3
THROUGHPUT_REQUESTS = 3000
CONCURRENCY = 8


def main() -> None:
    rows: list[tuple[str, str, str, str]] = []
    with ControlPlane.start() as plane:
        api = plane.client()
        manifests.apply(api, manifests.base())
        core = client.CoreV1Api(api)
        kubeconfig = plane.serviceaccount_kubeconfig("riposte", "delete-configmap")
        namespace = f"bench-{uuid.uuid4().hex[:6]}"
        core.create_namespace(cast(Any, {"metadata": {"name": namespace}}))

        with FunctionProcess(
            "delete-configmap", {"KUBECONFIG": str(kubeconfig), **UNBOUNDED}, workdir=plane.workdir
        ) as fn:
            fn.wait_ready()
            riposte_ms = warm_latency(core, fn, namespace)
            # kubernetes.config's loaders carry no annotations (kubernetes 37), unlike its client
            as_sa = client.CoreV1Api(
                config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
            )
            raw_ms = raw_latency(core, as_sa, namespace)
            guarded_ms = raw_guarded_latency(core, as_sa, namespace)
            rows.append(
                (
                    "warm alert -> delete (median)",
                    f"{riposte_ms:.1f} ms",
                    f"4 bare client calls {raw_ms:.1f} ms: ratio {riposte_ms / raw_ms:.2f}x",
                    "<= 1.5x",
                )
            )
            rows.append(
                (
                    "same, vs the same guarded calls",
                    f"{riposte_ms:.1f} ms",
                    f"its calls made directly {guarded_ms:.1f} ms: ratio {riposte_ms / guarded_ms:.2f}x",
                    "(overhead of HTTP + framework)",
                )
            )
            _, pss_warm = memory_mb(fn.process.pid)
            rows.append(burst(core, fn, namespace))
            ignored = throughput(fn.url)
            rss, pss = memory_mb(fn.process.pid)
        with serve_trivial(plane.workdir) as trivial_url:
            baseline = throughput(trivial_url)
        rows.append(
            (
                "ignored alerts / s",
                f"{ignored:.0f} req/s",
                f"trivial handler {baseline:.0f} req/s: {ignored / baseline:.2f}x",
                ">= 0.8x",
            )
        )
        cold = [cold_start(core, kubeconfig, namespace, plane.workdir) for _ in range(COLD_RUNS)]
        rows.append(
            (
                "cold start -> first delete",
                f"{statistics.median(cold) * 1000:.0f} ms",
                f"median of {COLD_RUNS}: " + ", ".join(f"{c * 1000:.0f}" for c in cold),
                "<= 1000 ms",
            )
        )
        rows.append(
            (
                "memory of the serving processes",
                f"{pss_warm:.0f} MB PSS warm, {pss:.0f} MB after the burst",
                f"RSS {rss:.0f} MB after it counts pages master and worker share twice",
                "<= 100 MB",
            )
        )

    table = render(rows)
    print(table)
    (ROOT / "bench" / "results.md").write_text(table + "\n")


def warm_latency(core: client.CoreV1Api, fn: FunctionProcess, namespace: str) -> float:
    session = requests.Session()
    timings = []
    for i in range(WARM_RUNS + 5):
        name = f"warm-{i}"
        core.create_namespaced_config_map(
            namespace, cast(Any, {"metadata": {"name": name}, "data": {"password": "x"}})
        )
        alert = configmap_alert(namespace, name)
        started = time.perf_counter()
        response = session.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert))
        elapsed = time.perf_counter() - started
        assert response.json().get("outcome") == "acted", response.text
        if i >= 5:  # the first requests warm connections and caches
            timings.append(elapsed)
    return statistics.median(timings) * 1000


def raw_latency(core: client.CoreV1Api, as_sa: client.CoreV1Api, namespace: str) -> float:
    """The calls the action needs, straight from the client, as the same ServiceAccount
    (an SA token costs the apiserver a lookup per call that an admin token does not)."""
    timings = []
    for i in range(WARM_RUNS + 5):
        name = f"raw-{i}"
        core.create_namespaced_config_map(
            namespace, cast(Any, {"metadata": {"name": name}, "data": {"password": "x"}})
        )
        started = time.perf_counter()
        live = as_sa.read_namespaced_config_map(name, namespace)
        copy_delete_record(as_sa, namespace, live, tag="raw")
        if i >= 5:
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def raw_guarded_latency(core: client.CoreV1Api, as_sa: client.CoreV1Api, namespace: str) -> float:
    """The same round trips riposte makes, straight from the client as the same
    ServiceAccount: four concurrent reads (namespace, ConfigMap, this alert's Event, the
    budget Lease), the budget's compare-and-swap, the copy, the delete, the Event."""
    coordination = client.CoordinationV1Api(as_sa.api_client)
    timings = []
    with ThreadPoolExecutor(4) as pool:
        for i in range(WARM_RUNS + 5):
            name = f"guarded-{i}"
            core.create_namespaced_config_map(
                namespace, cast(Any, {"metadata": {"name": name}, "data": {"password": "x"}})
            )
            started = time.perf_counter()
            reads: list[Future[Any]] = [
                pool.submit(as_sa.read_namespace, namespace),
                pool.submit(as_sa.read_namespaced_config_map, name, namespace),
                pool.submit(_absent, as_sa.read_namespaced_event, f"guarded-{uuid.uuid4().hex}", namespace),
                pool.submit(coordination.read_namespaced_lease, "riposte-budget-delete-configmap", "riposte"),
            ]
            _, live, _, lease = (r.result() for r in reads)
            coordination.replace_namespaced_lease("riposte-budget-delete-configmap", "riposte", lease)
            copy_delete_record(as_sa, namespace, live, tag="guarded")
            if i >= 5:
                timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def copy_delete_record(as_sa: client.CoreV1Api, namespace: str, live: Any, *, tag: str) -> None:
    """The three writes of a delete: a copy, the delete with preconditions, an Event."""
    meta = live.metadata
    as_sa.create_namespaced_secret(
        "riposte", cast(Any, {"metadata": {"name": f"{tag}-copy-{meta.uid}"}, "data": {}})
    )
    as_sa.delete_namespaced_config_map(
        meta.name,
        namespace,
        body=cast(Any, {"preconditions": {"uid": meta.uid, "resourceVersion": meta.resource_version}}),
    )
    as_sa.create_namespaced_event(
        namespace,
        cast(
            Any,
            {
                "metadata": {"name": f"{tag}-{meta.uid}"},
                "involvedObject": {"kind": "ConfigMap", "namespace": namespace, "name": meta.name},
                "reason": "Bench",
                "message": tag,
            },
        ),
    )


def _absent(read: Any, *args: str) -> None:
    try:
        read(*args)
    except client.ApiException as exc:
        if exc.status != 404:
            raise


def cold_start(core: client.CoreV1Api, kubeconfig: Path, namespace: str, workdir: Path) -> float:
    name = f"cold-{uuid.uuid4().hex[:6]}"
    core.create_namespaced_config_map(
        namespace, cast(Any, {"metadata": {"name": name}, "data": {"password": "x"}})
    )
    alert = configmap_alert(namespace, name)
    started = time.perf_counter()
    with FunctionProcess(
        "delete-configmap", {"KUBECONFIG": str(kubeconfig), **UNBOUNDED}, workdir=workdir
    ) as fn:
        while True:
            try:
                response = requests.post(
                    fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=10
                )
                break
            except requests.ConnectionError:
                time.sleep(0.005)
        elapsed = time.perf_counter() - started
        assert response.json().get("outcome") == "acted", response.text
    return elapsed


def burst(core: client.CoreV1Api, fn: FunctionProcess, namespace: str) -> tuple[str, str, str, str]:
    """1,000 distinct seed alerts at concurrency 16: all must act; latency per request."""
    for i in range(BURST):
        core.create_namespaced_config_map(
            namespace, cast(Any, {"metadata": {"name": f"burst-{i}"}, "data": {"password": "x"}})
        )
    alerts = [configmap_alert(namespace, f"burst-{i}") for i in range(BURST)]
    sessions = [requests.Session() for _ in range(BURST_CONCURRENCY)]

    def post(i: int) -> tuple[float, bool]:
        started = time.perf_counter()
        response = sessions[i % BURST_CONCURRENCY].post(
            fn.url, data=encode(alerts[i]), headers=cloudevent_headers(alerts[i]), timeout=60
        )
        ok = response.status_code == 200 and response.json().get("outcome") == "acted"
        return time.perf_counter() - started, ok

    started = time.perf_counter()
    with ThreadPoolExecutor(BURST_CONCURRENCY) as pool:
        results = list(pool.map(post, range(BURST)))
    wall = time.perf_counter() - started
    latencies = sorted(t for t, _ in results)
    errors = sum(1 for _, ok in results if not ok)
    p50, p99 = latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000
    return (
        f"burst of {BURST} alerts, concurrency {BURST_CONCURRENCY}",
        f"{BURST - errors} acted, {errors} errors",
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, {BURST / wall:.0f} actions/s",
        "all acted, 0 errors",
    )


def throughput(url: str) -> float:
    """Requests per second for an alert no function acts on (Falcosidekick's /test event)."""
    alert = configmap_alert("shop", "x")
    alert["rule"], alert["source"] = "Test rule", "internal"
    body, headers = encode(alert), cloudevent_headers(alert)
    sessions = [requests.Session() for _ in range(CONCURRENCY)]

    def worker(session: requests.Session) -> int:
        for _ in range(THROUGHPUT_REQUESTS // CONCURRENCY):
            assert session.post(url, data=body, headers=headers).status_code == 204
        return THROUGHPUT_REQUESTS // CONCURRENCY

    for session in sessions:  # connect first
        session.post(url, data=body, headers=headers)
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        done = sum(pool.map(worker, sessions))
    return done / (time.perf_counter() - started)


class serve_trivial:  # noqa: N801 - used as a context manager, like open()
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("functions-framework")),
                "--target=handle",
                f"--source={ROOT / 'bench' / 'trivial' / 'main.py'}",
                "--host=127.0.0.1",
                f"--port={self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

    def __enter__(self) -> str:
        url = f"http://127.0.0.1:{self.port}"
        for _ in range(600):
            try:
                requests.get(url, timeout=1)
                return url
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("trivial handler did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait()


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) summed over gunicorn's master and worker. The worker is forked from the
    master after the imports, so RSS counts their shared pages twice; PSS splits them."""
    parent = psutil.Process(pid)
    infos = [p.memory_full_info() for p in [parent, *parent.children(recursive=True)]]
    return sum(i.rss for i in infos) / 2**20, sum(i.pss for i in infos) / 2**20


def render(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| measure | riposte | compared with | goal |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
