"""The live state a decision is verified against, read in one concurrent round.

Every decision needs the target's namespace (its opt-out label), the target itself, this
alert's Event (was it acted on before?) and the function's budget Lease (the spend
starts from it); a spec may add reads of its own (isolate-pod: the namespace's
NetworkPolicies). They are independent GETs, so they run at once: one round trip of
reads on the path every acting alert takes, not four.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared import names
from shared.acting import record
from shared.acting.spec import Follow, Read
from shared.config import Settings
from shared.deadline import Deadline
from shared.kube.client import JSONObject, Kube
from shared.targets import Target


@dataclass(frozen=True)
class Live:
    """What was read; None means not found."""

    namespace: JSONObject | None
    object: JSONObject | None
    recorded: bool  # this alert's Event exists: the function acted on it before
    lease: JSONObject | None  # the budget Lease as read (budget.spend starts from it)
    extra: Mapping[str, Any]


def read(
    kube: Kube,
    deadline: Deadline,
    settings: Settings,
    target: Target,
    *,
    identity: str,
    reads: Mapping[str, Read],
) -> Live:
    own, function = settings.namespace, settings.function
    calls: list[Callable[[], Any]] = [
        lambda: kube.get(deadline, "Namespace", name=target.namespace) if target.namespace else None,
        lambda: kube.get(deadline, target.kind, name=target.name, namespace=target.namespace),
        lambda: kube.get(
            deadline,
            "Event",
            namespace=record.event_namespace(target),
            name=names.event_name(function, identity),
        ),
        lambda: kube.get(deadline, "Lease", namespace=own, name=names.budget_lease(function)),
    ]
    calls.extend(functools.partial(read, kube, deadline, target) for read in reads.values())
    namespace, obj, event, lease, *extra = kube.concurrently(*calls)
    return Live(
        namespace=namespace,
        object=obj,
        recorded=event is not None,
        lease=lease,
        extra=dict(zip(reads, extra, strict=True)),
    )


def follow(kube: Kube, deadline: Deadline, obj: JSONObject, follows: Mapping[str, Follow]) -> dict[str, Any]:
    """The spec's reads that need the live object (its node, owners, ...), all at once."""
    if not follows:
        return {}
    found = kube.concurrently(*(functools.partial(read, kube, deadline, obj) for read in follows.values()))
    return dict(zip(follows, found, strict=True))
