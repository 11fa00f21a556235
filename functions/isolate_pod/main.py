"""isolate-pod: cut one compromised pod off the network, and say whether that worked.

Answers:  Falco rules "Terminal shell in container" (syscall), "Attach/Exec Pod",
          "Create Privileged Pod", "Create Sensitive Mount Pod" (k8s_audit)
          (RIPOSTE_RULES; minimum priority Notice, RIPOSTE_MIN_PRIORITY).
Reads:    syscall: output_fields k8s.pod.name, k8s.ns.name; k8s_audit: ka.target.name or
          ka.resp.name, ka.target.namespace, ka.target.resource.
Verbs:    namespaces get; pods get, patch; networkpolicies get, list, create;
          events get, create (any namespace); leases get, update on
          riposte-budget-isolate-pod (own namespace: the budget). Never deletes: releasing
          is a human's act.
Settings: RIPOSTE_ISOLATE_ALLOW_DNS=true lets the pod still resolve names (the outcome
          says so).
"""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from shared import audit, budget, config, endpoint, kube, netpol, policy, targets
from shared.intake import Delivery
from shared.outcome import Decision, Outcome, Result
from shared.priority import Priority

RULES = (
    "Terminal shell in container",
    "Attach/Exec Pod",
    "Create Privileged Pod",
    "Create Sensitive Mount Pod",
)
QUARANTINE_LABEL = "riposte.io/quarantine"  # value: the pod's uid (names outgrow 63 characters)
OWN_PODS_LABEL = ("app.kubernetes.io/part-of", "riposte")

SETTINGS = config.load(
    "isolate-pod", rules=RULES, min_priority=Priority.NOTICE, sources=("syscall", "k8s_audit")
)
ALLOW_DNS = config.option("RIPOSTE_ISOLATE_ALLOW_DNS")
KUBE = kube.Kube(SETTINGS)


@functions_framework.http
def handle(request: flask.Request) -> flask.Response:
    return endpoint.respond(request, SETTINGS, isolate_pod)


def isolate_pod(delivery: Delivery, call: endpoint.Call) -> Outcome | None:
    alert = call.alert_from(delivery)  # 400: not an alert
    if not policy.matches(SETTINGS, alert, delivery.event_type):
        return None  # 204: not for this function
    target = call.aimed_at(targets.pod(alert))  # 422: no valid namespace or pod name
    decide = Decision(alert, "isolate-pod", target)
    if reason := policy.protected_namespace(SETTINGS, target.namespace):
        return decide(Result.REFUSED, reason)
    try:
        live = KUBE.snapshot(call.deadline, target, identity=alert.identity)
        if live.recorded:
            return decide(Result.ALREADY_DONE, "this alert was acted on before")
        if live.namespace and policy.opted_out(live.namespace["metadata"].get("labels")):
            return decide(Result.REFUSED, f"namespace carries {policy.OPT_OUT_LABEL}=true")
        if (pod := live.object) is None:
            return decide(Result.REFUSED, "pod not found: deleted, or never existed")
        labels: dict[str, str] = pod["metadata"].get("labels") or {}
        uid: str = pod["metadata"]["uid"]
        if policy.opted_out(labels):
            return decide(Result.REFUSED, f"pod carries {policy.OPT_OUT_LABEL}=true")
        if labels.get(OWN_PODS_LABEL[0]) == OWN_PODS_LABEL[1]:
            return decide(Result.REFUSED, "pod is one of riposte's own")
        if (pod.get("spec") or {}).get("hostNetwork"):
            return decide(Result.REFUSED, "hostNetwork pod: a NetworkPolicy cannot isolate it")
        quarantine = quarantine_policy(pod)
        name = quarantine["metadata"]["name"]
        if SETTINGS.dry_run:
            return decide(Result.DRY_RUN, f"would label the pod and create NetworkPolicy {name}")
        labelled = labels.get(QUARANTINE_LABEL) == uid  # isolated before: no budget spent again
        if not labelled and (
            refusal := budget.spend(
                KUBE, call.deadline, SETTINGS, f"pod/{uid}", alert=alert.identity, lease=live.lease
            )
        ):
            return decide(Result.REFUSED, refusal)
        created = ensure_policy(call, quarantine)
        if not labelled:
            KUBE.label_pod(call.deadline, verified=pod, labels={QUARANTINE_LABEL: uid})
        others = netpol.still_allowing(
            KUBE.list_networkpolicies(call.deadline, namespace=target.namespace).get("items") or [],
            {**labels, QUARANTINE_LABEL: uid},
            own=name,
        )
        result, reason = _verdict(labelled=labelled, created=created, others=others)
        done = decide(result, reason, networkpolicy=f"{target.namespace}/{name}", still_allowing=others)
        if done.result is not Result.ALREADY_DONE and (
            warning := audit.record(KUBE, call.deadline, SETTINGS, done, uid=uid)
        ):
            call.warnings.append(warning)
        return done
    except kube.NotFound:
        return decide(Result.REFUSED, "pod not found: deleted while being isolated")
    except kube.Conflict:
        return decide(Result.REFUSED, "pod was replaced while being isolated")
    except (ForeignPolicy, kube.KubeError) as exc:
        return decide(Result.FAILED, f"not isolated: {exc}")


def quarantine_policy(pod: dict[str, Any]) -> dict[str, Any]:
    """Deny all traffic to and from exactly this pod (selected by its uid label).

    Owned by the pod (no blockOwnerDeletion), so it goes when the pod goes. Traffic
    between the pod and its own node (kubelet probes) stays allowed by every CNI.
    """
    meta = pod["metadata"]
    egress: list[dict[str, Any]] = []
    if ALLOW_DNS:
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


class ForeignPolicy(Exception):
    """A NetworkPolicy with the quarantine's name exists but is not riposte's."""


def ensure_policy(call: endpoint.Call, wanted: dict[str, Any]) -> bool:
    """Create the quarantine policy (True); on 409 accept it only if it is ours and
    equal (False: it was there already)."""
    meta = wanted["metadata"]
    try:
        KUBE.create_networkpolicy(call.deadline, namespace=meta["namespace"], body=wanted)
        return True
    except kube.AlreadyExists:
        found = KUBE.read_networkpolicy(call.deadline, namespace=meta["namespace"], name=meta["name"])
        ours = (found["metadata"].get("labels") or {}).get(QUARANTINE_LABEL) == meta["labels"][
            QUARANTINE_LABEL
        ]
        same = found.get("spec", {}).get("podSelector") == wanted["spec"]["podSelector"] and not (
            found["spec"].get("ingress") or (found["spec"].get("egress") and not ALLOW_DNS)
        )
        if not (ours and same):
            raise ForeignPolicy(
                f"NetworkPolicy {meta['namespace']}/{meta['name']} exists and is not riposte's"
            ) from None
        return False


def _verdict(*, labelled: bool, created: bool, others: dict[str, list[str]]) -> tuple[Result, str]:
    """`labelled`: the pod carried the quarantine label before; `created`: this request
    created the quarantine policy (a labelled pod whose policy was gone gets it back)."""
    dns = "; DNS egress allowed (RIPOSTE_ISOLATE_ALLOW_DNS)" if ALLOW_DNS else ""
    done = (
        "quarantine NetworkPolicy re-created (the pod was labelled, its policy was gone)"
        if (labelled and created)
        else "quarantined"
    )
    if others:
        listed = ", ".join(
            f"{name} ({'/'.join(d.lower() for d in dirs)})" for name, dirs in sorted(others.items())
        )
        return Result.PARTIAL, f"{done}, but other NetworkPolicies still allow traffic: {listed}{dns}"
    if labelled and not created:
        return Result.ALREADY_DONE, f"pod already isolated{dns}"
    if labelled:
        return Result.ACTED, f"pod isolated: {done}; all ingress and egress denied{dns}"
    return Result.ACTED, f"pod isolated: all ingress and egress denied{dns}"
