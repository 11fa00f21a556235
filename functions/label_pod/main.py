"""label-pod: mark the pod an alert names as suspicious, for humans and policies to see.

Answers:  no rule by default: it is opt-in. RIPOSTE_RULES must list the rules it answers,
          else it refuses to start. Any source; minimum priority Debug (RIPOSTE_MIN_PRIORITY).
Reads:    the pod an alert names, as isolate-pod does (shared/targets.pod).
Verifies: the pod exists and is the one the alert is about (shared/acting/provenance).
Acts:     adds the label riposte.io/suspicious: "<rule slug>" to exactly that pod (uid
          precondition). Nothing else: a label changes no traffic and no scheduling.
Verbs:    those of every acting function and pods get, patch (any namespace).
"""

from __future__ import annotations

import re

from shared import targets
from shared.acting import runner
from shared.acting.spec import Context, Done, Facts, Grant, Plan, Settled, Spec, Verdict
from shared.action import Outcome
from shared.priority import Priority

LABEL = "riposte.io/suspicious"


def rule_slug(rule: str) -> str:
    """The rule as a label value: lower case, runs of other characters as `-`, at most 63."""
    slug = re.sub(r"[^a-z0-9]+", "-", rule.lower()).strip("-")[:63].strip("-")
    return slug or "rule"


def verify(facts: Facts) -> Verdict[str]:
    value = rule_slug(facts.alert.rule)
    if (facts.object["metadata"].get("labels") or {}).get(LABEL) == value:
        return Settled(Outcome.ALREADY_DONE, f"pod already labelled {LABEL}={value}")
    return Plan(f"label the pod {LABEL}={value}", value, cooldown=f"pod/{facts.object['metadata']['uid']}")


def act(context: Context, facts: Facts, plan: Plan[str]) -> Done:
    meta = facts.object["metadata"]
    patch = {"metadata": {"labels": {LABEL: plan.data}}}
    context.kube.patch(
        context.deadline, "Pod", name=meta["name"], namespace=meta["namespace"], patch=patch, uid=meta["uid"]
    )
    return Done(
        Outcome.ACTED, f"labelled {LABEL}={plan.data}", meta["uid"], {"label": f"{LABEL}={plan.data}"}
    )


SPEC = Spec(
    name="label-pod",
    summary=f"adds `{LABEL}: <rule>` to exactly the pod an alert names; opt-in (set RIPOSTE_RULES)",
    rules=(),
    requires_rules=True,
    min_priority=Priority.DEBUG,
    sources=("syscall", "k8s_audit"),
    fields=(
        "k8s.pod.name",
        "k8s.ns.name",
        "k8s.pod.uid",
        "ka.target.name",
        "ka.resp.name",
        "ka.target.namespace",
    ),
    target=targets.pod,
    verify=verify,
    act=act,
    rbac=(Grant("", ("pods",), ("get", "patch"), "re-read the pod; add the label (uid precondition)"),),
)
handle = runner.serve(SPEC)
