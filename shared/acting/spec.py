"""What an acting function supplies to the runner: its spec, and the verdict types.

A spec names the function, its default rules, minimum priority and sources, how to find
its target in an alert, a pure `verify` (live state in, a verdict out: no I/O, so it is
unit-tested without a cluster), an `act` (the writes, through Context), the RBAC its
ServiceAccount needs beyond what every acting function holds, its own settings, and
hooks for the cases only it can word (the target is gone, the alert was acted on
before). `make manifests` renders deploy/ and the README's tables from the specs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from shared import config, names
from shared.action import Outcome
from shared.alert import Alert
from shared.config import Settings
from shared.priority import Priority
from shared.targets import Target

if TYPE_CHECKING:
    from shared.deadline import Deadline
    from shared.kube.client import Kube

P = TypeVar("P")
JSONObject = dict[str, Any]


class Scope(enum.StrEnum):
    """Where an RBAC grant applies."""

    CLUSTER = "cluster"  # any namespace (a ClusterRole): alerts may name any namespace
    OWN = "own"  # riposte's own namespace only (a Role): copies, the budget Lease
    APPROVALS = "approvals"  # `riposte-approvals` only (a Role): approval records


@dataclass(frozen=True)
class Grant:
    """One RBAC rule of a function's ServiceAccount, with why it needs it."""

    group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str
    scope: Scope = Scope.CLUSTER
    names: tuple[str, ...] = ()  # resourceNames, when the grant is for named objects only


@dataclass(frozen=True)
class Facts:
    """Everything `verify` decides on, read before it runs."""

    alert: Alert
    target: Target
    object: JSONObject  # the target as read, live
    namespace: JSONObject | None  # the target's namespace as read (None: cluster-scoped)
    extra: Mapping[str, Any]  # the spec's own extra reads, by name
    settings: Settings


# Every verdict may name `target`: the object it is about when that is not the one the
# alert named (cordon-node verifies the alert's pod and cordons its Node). The reply, the
# Event and the default cooldown key are then about that object.


@dataclass(frozen=True)
class Plan(Generic[P]):
    """What `act` will do: `describe` completes "would …" for a dry-run; `data` is the
    function's own. `cooldown` keys the per-target cooldown (default: the target)."""

    describe: str
    data: P
    cooldown: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    target: Target | None = None


@dataclass(frozen=True)
class Refusal:
    """The target must not be acted on: `refused`, with the reason."""

    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)
    target: Target | None = None


@dataclass(frozen=True)
class Settled:
    """Nothing left to do (already done, or done as far as it can be): no budget spent."""

    outcome: Outcome
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)
    target: Target | None = None
    uid: str | None = None  # the Event's object when `target` is another (needs its uid)


@dataclass(frozen=True)
class Done:
    """What `act` did (`acted`, `partial`, or `already-done` when it found it done), why, and
    the uid of the object the Event is recorded on."""

    outcome: Outcome
    reason: str
    uid: str
    details: Mapping[str, Any] = field(default_factory=dict)
    target: Target | None = None


class Failed(Exception):
    """`act` could not do it for a reason redelivery will not fix: `failed`, with the reason."""


class Refused(Exception):
    """`act` found, on state only it reads, that it must not act: `refused`, with the reason."""


Verdict = Plan[P] | Refusal | Settled
# A read beside the four every decision makes: (kube, deadline, target) -> anything.
Read = Callable[["Kube", "Deadline", Target], Any]
# A read that needs the live target first (its node, its owners, its logs): (kube,
# deadline, the live object) -> anything; run after the first round, all at once.
Follow = Callable[["Kube", "Deadline", JSONObject], Any]
# A follow that needs the decision's context too (riposte's own namespace, the settings):
# (context, the live object) -> anything; run in the same round as the follows.
ContextFollow = Callable[["Context", JSONObject], Any]


@dataclass
class Context:
    """One decision in progress, as `act` and the hooks see it."""

    kube: Kube
    deadline: Deadline
    settings: Settings
    alert: Alert
    target: Target
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Spec(Generic[P]):
    """One acting function."""

    name: str  # deployed name, hyphenated: Service, ServiceAccount, Trigger
    summary: str  # one line for the README's function table
    rules: tuple[str, ...]  # default rules (RIPOSTE_RULES); () with requires_rules: opt-in
    min_priority: Priority
    sources: tuple[str, ...]
    fields: tuple[str, ...]  # the alert's output fields it reads (deploy/falco appends them)
    target: Callable[[Alert], Target]  # InvalidTarget (422) when the alert names none
    verify: Callable[[Facts], Verdict[P]]
    act: Callable[[Context, Facts, Plan[P]], Done]  # Facts: what verify saw
    rbac: tuple[Grant, ...]
    settings: tuple[config.Setting[Any], ...] = ()
    reads: Mapping[str, Read] = field(default_factory=dict)
    follows: Mapping[str, Follow] = field(default_factory=dict)
    context_follows: Mapping[str, ContextFollow] = field(default_factory=dict)
    # Work `act` needs done first that destroys nothing (keeping a copy), run while the
    # budget is spent: the plan `act` then carries out, with what was done in its details.
    # Only after the Lease as read grants the spend; when a re-read refuses it (another
    # replica spent the last unit in between), what was prepared stays, named in the reply.
    prepare: Callable[[Context, Facts, Plan[P]], Plan[P]] | None = None
    # False: the alert is not for this function after all (204), e.g. a host event for a
    # function about containers.
    applies: Callable[[Alert], bool] | None = None
    # The target is not there (before or while acting): the outcome, else refused "not found".
    gone: Callable[[Context], tuple[Outcome, str, Mapping[str, Any]] | None] | None = None
    # This alert was acted on before: the details to repeat (say, where the copy is).
    recall: Callable[[Context], tuple[str, Mapping[str, Any]]] | None = None
    # k8s_audit rules whose alert is about the request that created the target: the live
    # object's uid must equal ka.resp.uid (shared/acting/provenance.py).
    creates: tuple[str, ...] = ()
    requires_rules: bool = False  # no default rules: RIPOSTE_RULES must be set to start
    reversible: bool = False  # undo can reverse what it does (README, notify's Undo)

    def grants(self) -> tuple[Grant, ...]:
        """Everything its ServiceAccount holds: what the runner needs for every acting
        function (the namespace opt-out, the audit Event, the budget Lease), then its own."""
        return (
            Grant("", ("namespaces",), ("get",), "the riposte.io/ignore opt-out on the namespace"),
            Grant(
                "", ("events",), ("get", "create"), "the audit Event; get = this alert was acted on before"
            ),
            Grant(
                "coordination.k8s.io",
                ("leases",),
                ("get", "update"),
                "spend from the blast-radius budget (compare-and-swap on resourceVersion)",
                Scope.OWN,
                names=(names.budget_lease(self.name),),
            ),
            Grant(
                "",
                ("configmaps",),
                ("get", "create"),
                "store a pending approval and re-read it when approved (RIPOSTE_APPROVAL)",
                Scope.APPROVALS,
            ),
            *self.rbac,
        )
