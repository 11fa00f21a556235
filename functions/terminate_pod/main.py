"""terminate-pod: delete a pod after keeping its evidence, so its replacement starts clean.

Answers:  Falco k8s_audit rules "Create HostNetwork Pod", "Create HostPid Pod", "Create
          HostIPC Pod"; syscall rules "Drop and execute new binary in container",
          "Fileless execution via memfd_create" (RIPOSTE_RULES; minimum priority Warning).
          Host events (container.id host): 204.
Reads:    k8s_audit: ka.resp.name, ka.target.namespace, ka.target.resource,
          ka.response.code, ka.resp.uid; syscall: k8s.pod.name, k8s.ns.name, k8s.pod.uid,
          container.id.
Verifies: k8s_audit: the audited create succeeded and made this very pod, the live pod
          still has hostNetwork/hostPID/hostIPC, and it is standalone (an owned pod is
          refused naming its owner: the controller would re-create it); syscall: the live
          pod is the one Falco saw (uid) and runs that container (owned pods are deleted,
          the top owner is the cooldown key). Never a mirror (static) pod.
Acts:     keeps (or reuses) the pod's evidence (shared/acting/evidence.py, as
          capture-evidence), then deletes the pod with a uid precondition and
          gracePeriodSeconds = RIPOSTE_TERMINATE_GRACE_SECONDS (default 1; 0, a force
          delete, is refused as a setting).
Verbs:    those of every acting function and pods get, delete; pods/log get; events list;
          the owners' kinds get; secrets create, get, list (own namespace: the evidence).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared import config, targets
from shared.acting import evidence, owners, provenance, runner
from shared.acting.spec import Context, Done, Facts, Grant, Plan, Refusal, Settled, Spec, Verdict
from shared.action import Outcome
from shared.kube import errors
from shared.priority import Priority

HOST_FLAGS = {
    "Create HostNetwork Pod": "hostNetwork",
    "Create HostPid Pod": "hostPID",
    "Create HostIPC Pod": "hostIPC",
}
SYSCALL_RULES = ("Drop and execute new binary in container", "Fileless execution via memfd_create")
RULES = (*HOST_FLAGS, *SYSCALL_RULES)
MIRROR = "kubernetes.io/config.mirror"


def parse_grace(text: str) -> int:
    value = int(text)
    if value == 0:
        raise ValueError(
            "0 is a force delete: the API object goes while its containers may still run on the node"
        )
    if not 1 <= value <= 3600:
        raise ValueError(f"must be from 1 to 3600 seconds, found {value}")
    return value


GRACE = config.Setting(
    "RIPOSTE_TERMINATE_GRACE_SECONDS",
    parse_grace,
    1,
    "terminate-pod only: gracePeriodSeconds of the delete (0, a force delete, is refused)",
)


def verify(facts: Facts) -> Verdict[list[dict[str, Any]]]:
    pod, alert = facts.object, facts.alert
    meta, spec = pod["metadata"], pod.get("spec") or {}
    uid: str = meta["uid"]
    if MIRROR in (meta.get("annotations") or {}):
        return Refusal("a mirror (static) pod: its kubelet re-creates it from a file on the node")
    links: list[dict[str, Any]] = facts.extra["owners"] or []
    if alert.source == "k8s_audit":
        flag = HOST_FLAGS.get(alert.rule)
        if flag is not None and not spec.get(flag):
            return Refusal(f"the live pod no longer has {flag}: nothing to terminate")
        if links or meta.get("ownerReferences"):
            owner = owners.top(links) or "an owner"
            return Refusal(
                f"owned by {owner}: its controller would re-create the pod and the alert would fire again; "
                "fix the owner's spec"
            )
    elif reason := provenance.container_seen(alert, pod):
        return Refusal(reason)
    if meta.get("deletionTimestamp"):
        return Settled(Outcome.ALREADY_DONE, "the pod is already being deleted")
    kept = evidence.where(facts.settings, uid)
    limit = evidence.MAX_BYTES.of(facts.settings)
    if facts.extra["evidence"] is None and facts.extra["used"] >= limit:
        return Refusal(
            f"evidence store full (RIPOSTE_EVIDENCE_MAX_BYTES {limit}): not deleted without evidence"
        )
    top = owners.top(links)
    cooldown = f"{meta['namespace']}/{top}" if top else f"pod/{uid}"
    grace = GRACE.of(facts.settings)
    return Plan(
        f"keep the evidence in {kept}, then delete the pod (grace {grace}s)",
        links,
        cooldown=cooldown,
        details={"evidence": kept},
    )


def act(context: Context, facts: Facts, plan: Plan[list[dict[str, Any]]]) -> Done:
    pod = facts.object
    meta = pod["metadata"]
    kept = evidence.capture(context, pod, plan.data)
    try:
        context.kube.delete(
            context.deadline,
            "Pod",
            name=meta["name"],
            namespace=meta["namespace"],
            uid=meta["uid"],
            grace_period_seconds=GRACE.of(context.settings),
        )
    except errors.NotFound:
        if not kept.created:
            raise  # gone before this delivery deleted it: `gone` says where the evidence is
        # This delivery kept the evidence, and a concurrent delivery of the same alert,
        # finding it kept, deleted the pod first (a pod with no node goes at once) and
        # reports already-done: the deletion is this delivery's to report and record.
    if kept.same_alert(context.alert, context.settings.function):
        # Another delivery of this alert kept the evidence first: it deletes the pod too (the
        # delete above is the same, uid-bound); one of them reports it acted.
        return Done(
            Outcome.ALREADY_DONE,
            f"deleted (a concurrent delivery of this alert acted first); evidence kept in {kept.secret}",
            meta["uid"],
            kept.details(),
        )
    if plan.data:
        direct = plan.data[0]
        reason = f"deleted; {direct['kind']} {direct['name']} will replace it; evidence kept in {kept.secret}"
    else:
        reason = f"deleted; its manifest is kept in the evidence ({kept.secret})"
    return Done(Outcome.ACTED, reason, meta["uid"], kept.details())


def gone(context: Context) -> tuple[Outcome, str, Mapping[str, Any]] | None:
    """Deleted already (a concurrent delivery won): say where its evidence is."""
    if found := evidence.find(context.kube, context.deadline, context.settings, context.target):
        return Outcome.ALREADY_DONE, f"the pod is gone; its evidence is kept in {found}", {"evidence": found}
    return None


SPEC = Spec(
    name="terminate-pod",
    summary="keeps the pod's evidence, then deletes it (uid precondition, short grace period); "
    "standalone pods only for pod-create rules",
    rules=RULES,
    min_priority=Priority.WARNING,
    sources=("syscall", "k8s_audit"),
    fields=(
        "k8s.pod.name",
        "k8s.ns.name",
        "k8s.pod.uid",
        "container.id",
        "ka.resp.name",
        "ka.target.name",
        "ka.target.namespace",
        "ka.target.resource",
        "ka.verb",
        "ka.response.code",
        "ka.resp.uid",
    ),
    target=targets.pod,
    creates=tuple(HOST_FLAGS),
    applies=provenance.not_host_event,
    verify=verify,
    act=act,
    gone=gone,
    recall=evidence.recall,
    follows={"owners": owners.chain},
    context_follows={"evidence": evidence.existing, "used": evidence.used},
    settings=(GRACE, *evidence.SETTINGS),
    rbac=(
        Grant("", ("pods",), ("get", "delete"), "re-read and verify the pod; delete it (uid precondition)"),
        *evidence.GRANTS,
    ),
)
handle = runner.serve(SPEC)
