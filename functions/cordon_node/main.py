"""cordon-node: keep new pods off a node a container may have escaped to. Never drains.

Answers:  Falco syscall rules "Detect release_agent File Container Escapes", "Linux Kernel
          Module Injection Detected", "Debugfs Launched in Privileged Container"
          (RIPOSTE_RULES; minimum priority Warning). Host events (container.id host): 204.
Reads:    output_fields k8s.pod.name, k8s.ns.name, k8s.pod.uid, container.id; hostname.
Verifies: the live pod is the one Falco saw (uid) and runs that container; its node is the
          alert's host; the node is no control-plane node, not opted out
          (`node-restriction.kubernetes.io/riposte-ignore: "true"`, a label kubelets cannot
          set on their own Node), and cordoning it leaves at least
          RIPOSTE_CORDON_MIN_SCHEDULABLE other schedulable Ready nodes.
Acts:     one update of the node as read (its resourceVersion): unschedulable, riposte's
          taint `riposte.io/quarantine=<alert hash>:NoSchedule` appended to the node's own
          taints (a strategic-merge patch would replace them), the label
          `riposte.io/quarantine: "true"`. The taint is what holds: a kubelet can set
          `unschedulable` back, not remove taints. undo lifts only riposte's own.
Verbs:    those of every acting function and pods get; nodes get, list, update.
"""

from __future__ import annotations

import datetime
import hashlib

from shared import config, names, targets
from shared.acting import provenance, runner, settings
from shared.acting.spec import Context, Done, Facts, Grant, Plan, Refusal, Settled, Spec, Verdict
from shared.action import Outcome
from shared.deadline import Deadline
from shared.kube.client import JSONObject, Kube
from shared.priority import Priority
from shared.targets import Target

RULES = (
    "Detect release_agent File Container Escapes",
    "Linux Kernel Module Injection Detected",
    "Debugfs Launched in Privileged Container",
)
CONTROL_PLANE = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
OPT_OUT = "node-restriction.kubernetes.io/riposte-ignore"
SET_UNSCHEDULABLE = "riposte.io/set-unschedulable"  # undo sets it back only if riposte did


def parse_minimum(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 10_000:
        raise ValueError(f"must be a count from 0 to 10000, found {value}")
    return value


MIN_SCHEDULABLE = config.Setting(
    "RIPOSTE_CORDON_MIN_SCHEDULABLE",
    parse_minimum,
    1,
    "cordon-node only: never leave fewer than this many other schedulable Ready nodes",
)


def node_of(kube: Kube, deadline: Deadline, pod: JSONObject) -> JSONObject | None:
    name = (pod.get("spec") or {}).get("nodeName")
    return kube.find(deadline, "Node", name=name) if name else None


def all_nodes(kube: Kube, deadline: Deadline, pod: JSONObject) -> list[JSONObject]:
    return kube.items(deadline, "Node")


def taint_value(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:10]


def schedulable(node: JSONObject) -> bool:
    """Ready, not cordoned, not NoSchedule-tainted by riposte."""
    spec, status = node.get("spec") or {}, node.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )
    ours = any(t.get("key") == names.QUARANTINE_LABEL for t in spec.get("taints") or [])
    return ready and not spec.get("unschedulable") and not ours


def cordoned(node: JSONObject, identity: str, annotations: dict[str, str]) -> JSONObject:
    """The node as riposte cordons it: its own taints kept, riposte's appended."""
    spec, meta = dict(node.get("spec") or {}), node["metadata"]
    taint = {"key": names.QUARANTINE_LABEL, "value": taint_value(identity), "effect": "NoSchedule"}
    spec["taints"] = [*(spec.get("taints") or []), taint]
    already = bool(spec.get("unschedulable"))
    spec["unschedulable"] = True
    labels = {**(meta.get("labels") or {}), names.QUARANTINE_LABEL: "true"}
    notes = {
        **(meta.get("annotations") or {}),
        SET_UNSCHEDULABLE: "false" if already else "true",
        **annotations,
    }
    return {**node, "metadata": {**meta, "labels": labels, "annotations": notes}, "spec": spec}


def verify(facts: Facts) -> Verdict[JSONObject]:
    pod, alert = facts.object, facts.alert
    if reason := provenance.container_seen(alert, pod):
        return Refusal(reason)
    name = (pod.get("spec") or {}).get("nodeName")
    if not name:
        return Refusal("the pod is not scheduled on a node: nothing to cordon")
    if alert.hostname and alert.hostname != name:
        return Refusal(f"the alert came from host {alert.hostname[:64]}, the pod runs on {name}")
    node: JSONObject | None = facts.extra["node"]
    if node is None:
        return Refusal(f"node {name} not found")
    target = Target("Node", None, name)
    labels = node["metadata"].get("labels") or {}
    if any(label in labels for label in CONTROL_PLANE):
        return Refusal(f"node {name} is a control-plane node: never cordoned", target=target)
    if labels.get(OPT_OUT) == "true":
        return Refusal(f"node {name} carries {OPT_OUT}=true", target=target)
    uid = node["metadata"]["uid"]
    if any(t.get("key") == names.QUARANTINE_LABEL for t in (node.get("spec") or {}).get("taints") or []):
        return Settled(
            Outcome.ALREADY_DONE, f"node {name} already cordoned by riposte", target=target, uid=uid
        )
    others = [n for n in facts.extra["nodes"] or [] if n["metadata"]["name"] != name and schedulable(n)]
    minimum = MIN_SCHEDULABLE.of(facts.settings)
    if len(others) < minimum:
        return Refusal(
            f"cordoning {name} would leave {len(others)} other schedulable Ready nodes, fewer than "
            f"{minimum} (RIPOSTE_CORDON_MIN_SCHEDULABLE)",
            target=target,
        )
    return Plan(
        f"cordon node {name} (riposte's NoSchedule taint, unschedulable; nothing drained)",
        node,
        cooldown=f"node/{name}",
        target=target,
    )


def act(context: Context, facts: Facts, plan: Plan[JSONObject]) -> Done:
    expiry = settings.expires_at(context.settings, datetime.datetime.now(datetime.UTC))
    updated = context.kube.update(context.deadline, cordoned(plan.data, context.alert.identity, expiry))
    name = updated["metadata"]["name"]
    reason = f"node {name} cordoned: no new pods (its running pods stay; nothing drained)"
    return Done(Outcome.ACTED, reason, updated["metadata"]["uid"], {"node": name}, target=plan.target)


SPEC = Spec(
    name="cordon-node",
    summary="cordons (taint + unschedulable, never drains) the node of a pod a container escape was "
    "seen in; never a control-plane node or the last schedulable ones",
    rules=RULES,
    min_priority=Priority.WARNING,
    sources=("syscall",),
    fields=("k8s.pod.name", "k8s.ns.name", "k8s.pod.uid", "container.id"),
    target=targets.pod,
    applies=provenance.not_host_event,
    verify=verify,
    act=act,
    follows={"node": node_of, "nodes": all_nodes},
    settings=(MIN_SCHEDULABLE,),
    reversible=True,
    rbac=(
        Grant("", ("pods",), ("get",), "re-read the pod the alert names (uid, container, node)"),
        Grant(
            "",
            ("nodes",),
            ("get", "list", "update"),
            "read the node and the others; cordon (resourceVersion)",
        ),
    ),
)
handle = runner.serve(SPEC)
