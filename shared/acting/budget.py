"""The blast-radius budget: at most N actions per sliding window per function, cluster-wide,
and at most one action per target per cooldown.

A noisy rule, a bad Falco update or an attacker who can trigger alerts at will must not
make riposte delete or isolate hundreds of objects a minute. The count must hold across
every replica Knative starts, so it lives in the cluster: one coordination.k8s.io/v1
Lease per function in riposte's namespace (`riposte-budget-<function>`, shipped with the
deploy manifests), whose annotations hold the recent actions and per-target cooldowns.

Spending is one GET and one PUT of that Lease. The PUT carries the resourceVersion it
read, so two replicas that read the same state cannot both spend the last unit: the
loser gets 409, re-reads and decides again. Only actions about to be taken spend budget;
dry-runs and refusals never do. A spent unit is not refunded if the action then fails:
the budget errs on the side of doing less.

What a spend reads and writes does not grow with the actions in the window: the window
is cut into BUCKETS equal buckets, and the Lease holds one count per bucket that can
still overlap the window (`riposte.io/spent`, `[[bucket number, count], ...]`). A spend
counts every bucket that overlaps the last window, the oldest one whole, so no window
ever holds more than the budget; the price is that a spent window reopens up to one
bucket (a tenth of it) late. Cooldowns hold one entry per target acted on within the
cooldown, each dropped as it expires.

    kubectl -n riposte get lease riposte-budget-delete-configmap -o yaml   # inspect
    kubectl -n riposte annotate lease riposte-budget-delete-configmap \\
        riposte.io/spent- riposte.io/cooldowns-                            # reset
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from shared import names
from shared.config import Settings
from shared.deadline import Deadline
from shared.kube import errors
from shared.kube.client import Kube

SPENT = "riposte.io/spent"  # JSON list of [bucket number, actions in it], oldest first
COOLDOWNS = "riposte.io/cooldowns"  # JSON: target key hash -> [epoch seconds, alert key hash]
LEGACY_ACTIONS = "riposte.io/actions"  # earlier versions: [epoch seconds, target] per action
BUCKETS = 10  # per window: a spent window reopens at most a tenth of it late


def spend(
    kube: Kube,
    deadline: Deadline,
    settings: Settings,
    target: str,
    *,
    alert: str,
    lease: dict[str, Any] | None = None,
    decided: Decision | None = None,
) -> str | None:
    """Spend one action on `target` for the alert identity `alert`; None when granted,
    else the reason it is refused.

    A redelivery of the alert that spent the target's cooldown is let through without
    spending again: the action's own idempotency (preconditions, the Event) then answers
    `already-done`, where a cooldown refusal would misreport an action that happened.
    `lease` is the Lease as read with the live state (shared/acting/live.py), saving a GET; a
    stale one only costs a 409 and a re-read. `decided` is what `decide` made of it, when
    the caller asked first: it is written as it is, not decided again.
    """
    namespace, name = settings.namespace, names.budget_lease(settings.function)
    decision = decided
    while True:
        if decision is None:
            if lease is None:
                try:
                    lease = kube.get(deadline, "Lease", namespace=namespace, name=name)
                except errors.NotFound:
                    return _missing(namespace, name)
            decision = decide(kube, deadline, settings, target, alert=alert, lease=lease)
        if decision.written is None:
            return decision.refusal
        try:
            kube.update(
                deadline, {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", **decision.written}
            )
        except errors.Conflict:
            lease = decision = None  # another replica spent in between: decide again on fresh state
            continue
        return None


@dataclass(frozen=True)
class Decision:
    """One spend decided on one state of the Lease."""

    refusal: str | None = None  # None: granted
    written: dict[str, Any] | None = None  # the Lease to write back; None: nothing to write


def decide(
    kube: Kube,
    deadline: Deadline,
    settings: Settings,
    target: str,
    *,
    alert: str,
    lease: dict[str, Any] | None,
) -> Decision:
    """The spend `lease`, the Lease as read with the live state (None: not found), allows.
    Writes nothing but the Warning Event of an exhausted budget; `spend(decided=)` writes it.

    The runner decides first when it prepares while spending (keeping a copy): an
    exhausted budget, a cooldown or a missing Lease then makes no copy per alert. A stale
    `lease` may still turn into a refusal in `spend`, when another replica spent the last
    unit in between.
    """
    if lease is None:  # not found by that read
        return Decision(_missing(settings.namespace, names.budget_lease(settings.function)))
    decision, exhausted = _decide(lease, settings, target, alert, time.time())
    if exhausted:
        _warn_exhausted(kube, deadline, lease, settings=settings)
    return decision


def _decide(
    lease: dict[str, Any], settings: Settings, target: str, alert: str, now: float
) -> tuple[Decision, bool]:
    """The decision, and whether it is the refusal of an exhausted budget (not a cooldown's)."""
    budget = settings.budget
    annotations = lease["metadata"].get("annotations") or {}
    spent = _spent(annotations, now, budget.seconds)
    cooldowns = {
        k: entry
        for k, entry in _load(annotations.get(COOLDOWNS), {}).items()
        if _within(entry, now, budget.cooldown)
    }
    key, alert_key = _key(target), _key(alert)
    if key in cooldowns:
        if cooldowns[key][1] == alert_key:
            return Decision(), False
        since = now - cooldowns[key][0]
        return Decision(f"cooldown: {target} was acted on {since:.0f}s ago (RIPOSTE_COOLDOWN_SECONDS)"), False
    if sum(count for _, count in spent) >= budget.count:
        exhausted = f"budget exhausted: {budget.count} actions in the last {budget.seconds}s (RIPOSTE_BUDGET)"
        return Decision(exhausted), True
    spent = _add(spent, _bucket(now, budget.seconds))
    if budget.cooldown:
        cooldowns[key] = [round(now, 3), alert_key]
    kept = {k: v for k, v in annotations.items() if k != LEGACY_ACTIONS}
    metadata = {
        **lease["metadata"],
        "annotations": {
            **kept,
            SPENT: json.dumps(spent, separators=(",", ":")),
            COOLDOWNS: json.dumps(cooldowns, separators=(",", ":")),
        },
    }
    spec = {**(lease.get("spec") or {}), "holderIdentity": settings.function, "renewTime": _micro_time(now)}
    return Decision(written={**lease, "metadata": metadata, "spec": spec}), False


def _missing(namespace: str, name: str) -> str:
    return f"budget Lease {namespace}/{name} is missing: apply deploy/knative/budget.yaml"


def _warn_exhausted(kube: Kube, deadline: Deadline, lease: dict[str, Any], *, settings: Settings) -> None:
    """One Warning Event on the Lease per window, so `kubectl get events` shows it."""
    function, budget, now = settings.function, settings.budget, time.time()
    meta = lease["metadata"]
    window = int(now // budget.seconds)
    stamp = _micro_time(now)[:19] + "Z"
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{window:x}", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "namespace": meta["namespace"],
            "name": meta["name"],
            "uid": meta.get("uid"),
        },
        "reason": "RiposteBudgetExhausted",
        "message": f"{function} stopped acting: {budget.count} actions in {budget.seconds}s (RIPOSTE_BUDGET)",
        "type": "Warning",
        "source": {"component": f"riposte/{function}"},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }
    # Already recorded this window (409), or not recordable: the refusal stands either way.
    with contextlib.suppress(errors.KubeError):
        kube.create(deadline, body)


def _bucket(epoch: float, window: int) -> int:
    return int(epoch * BUCKETS // window)


def _spent(annotations: dict[str, str], now: float, window: int) -> list[list[int]]:
    """The buckets that overlap the window ending now, oldest first: [number, count].

    A Lease written before buckets (a list of actions) is read into buckets once, so an
    upgrade does not reopen a spent window."""
    oldest = _bucket(now - window, window)
    buckets: list[list[int]] = []
    for entry in _load(annotations.get(SPENT), []):
        if (
            isinstance(entry, list)
            and len(entry) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in entry)
            and entry[0] >= oldest
            and entry[1] > 0
        ):
            buckets.append(entry)
    for action in _load(annotations.get(LEGACY_ACTIONS), []):
        if _within(action, now, window):
            buckets = _add(buckets, _bucket(action[0], window))
    return sorted(buckets)


def _add(buckets: list[list[int]], number: int) -> list[list[int]]:
    """`buckets` with one more action in bucket `number`."""
    for entry in buckets:
        if entry[0] == number:
            entry[1] += 1
            return buckets
    return sorted([*buckets, [number, 1]])


def _within(entry: Any, now: float, seconds: int) -> bool:
    """A `[epoch seconds, …]` record younger than `seconds`; a malformed one is dropped."""
    return (
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], int | float)
        and now - entry[0] < seconds
    )


def _key(target: str) -> str:
    return hashlib.sha256(target.encode()).hexdigest()[:32]


def _load(raw: str | None, default: Any) -> Any:
    """Annotation JSON; anything unreadable (a human's edit) counts as empty."""
    try:
        value = json.loads(raw) if raw else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def _micro_time(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
