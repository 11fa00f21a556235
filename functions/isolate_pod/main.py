"""isolate-pod: cut one compromised pod off the network, and say whether that worked.

Answers:  Falco syscall rules "Terminal shell in container", "Netcat Remote Code Execution
          in Container", "Redirect STDOUT/STDIN to Network Connection in Container", "Packet
          socket created in container"; k8s_audit "Attach/Exec Pod", "EphemeralContainers
          Created", "Create Privileged Pod", "Create Sensitive Mount Pod" (RIPOSTE_RULES;
          minimum priority Notice, RIPOSTE_MIN_PRIORITY).
Reads:    syscall: output_fields k8s.pod.name, k8s.ns.name; k8s_audit: ka.target.name or
          ka.resp.name, ka.target.namespace, ka.target.resource.
Verifies: the pod exists and is not on the host network; for the pod-create rules, the
          audited create succeeded and made this very pod (ka.response.code, ka.resp.uid).
Acts:     creates one NetworkPolicy named from the pod's uid that denies all its traffic,
          then labels exactly that pod (uid precondition); `partial` when other policies
          still allow it traffic (NetworkPolicies add up).
Verbs:    those of every acting function and pods get, patch; networkpolicies get, list,
          create (any namespace). Never deletes: releasing is a human's act (or undo's).
Settings: RIPOSTE_ISOLATE_ALLOW_DNS=true lets the pod still resolve names (the outcome
          says so); RIPOSTE_QUARANTINE_TTL_SECONDS annotates riposte.io/expires-at, and
          undo's sweep lifts the quarantine then.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from shared import config, netpol, targets
from shared.acting import runner, settings
from shared.acting.spec import Context, Done, Facts, Failed, Grant, Plan, Refusal, Settled, Spec, Verdict
from shared.action import Outcome
from shared.deadline import Deadline
from shared.kube import errors
from shared.kube.client import Kube
from shared.priority import Priority
from shared.targets import Target

RULES = (
    "Terminal shell in container",
    "Netcat Remote Code Execution in Container",
    "Redirect STDOUT/STDIN to Network Connection in Container",
    "Packet socket created in container",
    "Attach/Exec Pod",
    "EphemeralContainers Created",
    "Create Privileged Pod",
    "Create Sensitive Mount Pod",
)
EPHEMERAL_RULE = "EphemeralContainers Created"
# What the rule prints of the request: the ephemeral container it adds (k8saudit rules).
EPHEMERAL_NAME = "jevt.value[/requestObject/ephemeralContainers/0/name]"
QUARANTINE_LABEL = "riposte.io/quarantine"  # value: the pod's uid (names outgrow 63 characters)
ALLOW_DNS = config.Flag(
    "RIPOSTE_ISOLATE_ALLOW_DNS",
    doc="isolate-pod only: the quarantine still allows DNS (UDP/TCP 53 to `k8s-app: kube-dns` pods); "
    "the outcome says so",
)


def quarantine_policy(pod: dict[str, Any], *, allow_dns: bool) -> dict[str, Any]:
    """Deny all traffic to and from exactly this pod (selected by its uid label).

    Owned by the pod (no blockOwnerDeletion), so it goes when the pod goes. Traffic
    between the pod and its own node (kubelet probes) stays allowed by every CNI.
    """
    meta = pod["metadata"]
    egress: list[dict[str, Any]] = []
    if allow_dns:
        egress = [{
            "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }]  # fmt: skip
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": f"riposte-quarantine-{meta['uid']}",
            "namespace": meta["namespace"],
            "labels": {"app.kubernetes.io/managed-by": "riposte", QUARANTINE_LABEL: meta["uid"]},
            "annotations": {"riposte.io/pod": meta["name"]},
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]}
            ],
        },
        "spec": {
            "podSelector": {"matchLabels": {QUARANTINE_LABEL: meta["uid"]}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": egress,
        },
    }


def is_ours(found: dict[str, Any], wanted: dict[str, Any], *, allow_dns: bool) -> bool:
    """An existing policy of the quarantine's name is riposte's: our label, our selector, no
    allow rules beyond the DNS option's."""
    spec = found.get("spec") or {}
    ours = (found["metadata"].get("labels") or {}).get(QUARANTINE_LABEL) == wanted["metadata"]["labels"][
        QUARANTINE_LABEL
    ]
    same = spec.get("podSelector") == wanted["spec"]["podSelector"] and not (
        spec.get("ingress") or (spec.get("egress") and not allow_dns)
    )
    return ours and same


def verdict(
    *, labelled: bool, created: bool, others: dict[str, list[str]], allow_dns: bool
) -> tuple[Outcome, str]:
    """`labelled`: the pod carried the quarantine label before; `created`: the quarantine
    policy is new (a labelled pod whose policy was gone gets it back)."""
    dns = "; DNS egress allowed (RIPOSTE_ISOLATE_ALLOW_DNS)" if allow_dns else ""
    done = (
        "quarantine NetworkPolicy re-created (the pod was labelled, its policy was gone)"
        if labelled and created
        else "quarantined"
    )
    if others:
        listed = ", ".join(
            f"{name} ({'/'.join(d.lower() for d in dirs)})" for name, dirs in sorted(others.items())
        )
        return Outcome.PARTIAL, f"{done}, but other NetworkPolicies still allow traffic: {listed}{dns}"
    if labelled and not created:
        return Outcome.ALREADY_DONE, f"pod already isolated{dns}"
    if labelled:
        return Outcome.ACTED, f"pod isolated: {done}; all ingress and egress denied{dns}"
    return Outcome.ACTED, f"pod isolated: all ingress and egress denied{dns}"


@dataclass(frozen=True)
class Quarantine:
    """What isolating this pod takes: the policy, and which of its two halves exist."""

    policy: dict[str, Any]
    existing: dict[str, Any] | None  # a policy of that name, as read
    labelled: bool
    others: dict[str, list[str]]


def ephemeral_missing(facts: Facts) -> Refusal | None:
    """The rule fires on denied patches too: act only when the ephemeral container the
    request added is on the live pod, else anyone could have any pod isolated."""
    name = facts.alert.value(EPHEMERAL_NAME)
    if not isinstance(name, str):
        return Refusal(f"the alert does not name the ephemeral container ({EPHEMERAL_NAME})")
    live = [c.get("name") for c in (facts.object.get("spec") or {}).get("ephemeralContainers") or []]
    if name not in live:
        return Refusal(f"the live pod has no ephemeral container {name[:64]!r}: the request did not add one")
    return None


def policies(kube: Kube, deadline: Deadline, target: Target) -> list[dict[str, Any]]:
    return kube.items(deadline, "NetworkPolicy", namespace=target.namespace)


def verify(facts: Facts) -> Verdict[Quarantine]:
    pod, allow_dns = facts.object, ALLOW_DNS.of(facts.settings)
    labels: dict[str, str] = pod["metadata"].get("labels") or {}
    uid: str = pod["metadata"]["uid"]
    if (pod.get("spec") or {}).get("hostNetwork"):
        return Refusal("hostNetwork pod: a NetworkPolicy cannot isolate it")
    if facts.alert.rule == EPHEMERAL_RULE and (refusal := ephemeral_missing(facts)):
        return refusal
    wanted = quarantine_policy(pod, allow_dns=allow_dns)
    name = wanted["metadata"]["name"]
    listed = facts.extra["policies"] or []
    existing = next((p for p in listed if p["metadata"]["name"] == name), None)
    others = netpol.still_allowing(listed, {**labels, QUARANTINE_LABEL: uid}, own=name)
    labelled = labels.get(QUARANTINE_LABEL) == uid
    details = {"networkpolicy": f"{facts.target.namespace}/{name}", "still_allowing": others}
    if labelled and existing is not None and is_ours(existing, wanted, allow_dns=allow_dns):
        outcome, reason = verdict(labelled=True, created=False, others=others, allow_dns=allow_dns)
        return Settled(outcome, reason, details)  # nothing to write: no budget spent
    return Plan(
        f"label the pod and create NetworkPolicy {name}",
        Quarantine(wanted, existing, labelled, others),
        cooldown=f"pod/{uid}",
        details=details,
    )


def act(context: Context, facts: Facts, plan: Plan[Quarantine]) -> Done:
    quarantine, allow_dns = plan.data, ALLOW_DNS.of(context.settings)
    meta, wanted = facts.object["metadata"], plan.data.policy
    created = quarantine.existing is None
    if created:
        try:
            context.kube.create(context.deadline, wanted)
        except errors.AlreadyExists:  # a concurrent delivery created it: accept it only if ours
            quarantine = Quarantine(
                wanted,
                context.kube.get(
                    context.deadline,
                    "NetworkPolicy",
                    namespace=meta["namespace"],
                    name=wanted["metadata"]["name"],
                ),
                quarantine.labelled,
                quarantine.others,
            )
            created = False
    if quarantine.existing is not None and not is_ours(quarantine.existing, wanted, allow_dns=allow_dns):
        raise Failed(
            f"NetworkPolicy {meta['namespace']}/{wanted['metadata']['name']} exists and is not riposte's"
        )
    if not quarantine.labelled:
        context.kube.patch(
            context.deadline,
            "Pod",
            name=meta["name"],
            namespace=meta["namespace"],
            patch={
                "metadata": {
                    "labels": {QUARANTINE_LABEL: meta["uid"]},
                    "annotations": settings.expires_at(context.settings, datetime.datetime.now(datetime.UTC)),
                }
            },
            uid=meta["uid"],
        )
    outcome, reason = verdict(
        labelled=quarantine.labelled, created=created, others=quarantine.others, allow_dns=allow_dns
    )
    return Done(outcome, reason, meta["uid"], plan.details)


SPEC = Spec(
    name="isolate-pod",
    summary="labels exactly that pod and denies all its traffic with a NetworkPolicy of its own; "
    "says `partial` when other policies still let traffic through",
    rules=RULES,
    min_priority=Priority.NOTICE,
    sources=("syscall", "k8s_audit"),
    fields=(
        "k8s.pod.name",
        "k8s.ns.name",
        "k8s.pod.uid",
        "ka.target.name",
        "ka.resp.name",
        "ka.target.namespace",
        "ka.target.resource",
        "ka.target.subresource",
        "ka.verb",
        "ka.response.code",
        "ka.resp.uid",
    ),
    target=targets.pod,
    creates=("Create Privileged Pod", "Create Sensitive Mount Pod"),
    verify=verify,
    act=act,
    reads={"policies": policies},
    settings=(ALLOW_DNS,),
    reversible=True,
    rbac=(
        Grant(
            "", ("pods",), ("get", "patch"), "re-read and verify; add the quarantine label (uid precondition)"
        ),
        Grant(
            "networking.k8s.io",
            ("networkpolicies",),
            ("get", "list", "create"),
            "create the quarantine; see which other policies still allow traffic",
        ),
    ),
)
handle = runner.serve(SPEC)
