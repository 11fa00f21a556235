"""undo: reverse what riposte did, when a human asks or a quarantine's time is up.

Answers:  `riposte.undo.v1` events from interact (a human's Undo, signed with
          RIPOSTE_APPROVAL_KEY, decided by someone in RIPOSTE_APPROVERS), and the schedule
          (`dev.knative.sources.ping` from a PingSource, or a POST from the OpenFaaS
          CronJob): a sweep carries no authority of its own, so it needs no token; it only
          does what riposte's own `riposte.io/expires-at` annotations already say.
Undoes:   delete-configmap: the ConfigMap re-created from its copy (create-only: refused
          when one of that name exists); isolate-pod: the quarantine NetworkPolicy deleted
          and the label removed (uid preconditions); cordon-node: riposte's taint and label
          removed, `unschedulable` back to false only if riposte set it (update with the
          resourceVersion). Restoring deleted RBAC and reverted Services stays a human's
          command (README "revert-object").
Sweep:    quarantines and cordons past their expires-at released, pending approvals past
          theirs marked expired; each with an Event and a result to RIPOSTE_RESULT_URL.
Verbs:    see SPEC_RBAC below (deploy/knative/rbac/undo.yaml is rendered from it).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
from collections.abc import Mapping
from typing import Any

import flask
import functions_framework

from shared import config, endpoint, errors, names, serving, webhook
from shared.acting import budget, record
from shared.acting.settings import APPROVAL_KEY, APPROVERS
from shared.acting.spec import Grant, Scope
from shared.action import ActionResult, AlertSummary, Outcome
from shared.approval import record as approval_record
from shared.approval import store, undo
from shared.approval.undo import UndoRequest
from shared.deadline import Deadline
from shared.intake import Delivery
from shared.kube import errors as kube_errors
from shared.kube.client import JSONObject, Kube, Patch
from shared.priority import Priority
from shared.targets import Target

NAME = "undo"
PING = "dev.knative.sources.ping"  # Knative PingSource: it cannot send any other type
SWEEP_LIMIT = 100  # objects released per sweep request (the next sweep takes the rest)
RBAC = (
    Grant("", ("secrets",), ("get",), "read a ConfigMap's copy", Scope.OWN),
    Grant("", ("configmaps",), ("get", "create"), "re-create a ConfigMap from its copy (create-only)"),
    Grant("", ("pods",), ("get", "list", "patch"), "find expired quarantines; remove riposte's label (uid)"),
    Grant("networking.k8s.io", ("networkpolicies",), ("get", "delete"), "delete riposte's quarantine policy"),
    Grant(
        "", ("nodes",), ("get", "list", "update"), "find expired cordons; remove riposte's taint and label"
    ),
    Grant("", ("namespaces",), ("get",), "the namespace of what it restores"),
    Grant("", ("events",), ("get", "create"), "the Event of each undo"),
    Grant(
        "coordination.k8s.io",
        ("leases",),
        ("get", "update"),
        "spend from its blast-radius budget",
        Scope.OWN,
        names=(names.budget_lease(NAME),),
    ),
    Grant("", ("configmaps",), ("get", "list", "update"), "expire stale approvals", Scope.APPROVALS),
)


def settings_from(environ: Mapping[str, str]) -> config.Settings:
    settings = config.load(
        NAME,
        rules=(),
        min_priority=Priority.DEBUG,
        declared=(APPROVAL_KEY, APPROVERS),
        open_event_types=(PING,),
        environ=environ,
    )
    if APPROVAL_KEY.of(settings) is None:
        raise errors.ConfigError(
            "undo needs RIPOSTE_APPROVAL_KEY (or _FILE): interact signs undo requests with it"
        )
    return settings


# -- what each undo is: pure ------------------------------------------------------------


def restorable(copy: JSONObject) -> JSONObject:
    """The ConfigMap a delete-configmap copy holds, marked as restored from that copy."""
    data = copy.get("data") or {}
    source = json.loads(base64.b64decode(data["configmap.json"]))
    meta = source["metadata"]
    meta["annotations"] = {**(meta.get("annotations") or {}), names.RESTORED_FROM: copy["metadata"]["name"]}
    return dict(source)


def uncordoned(node: JSONObject) -> JSONObject | None:
    """The node without riposte's taint, label and (if riposte set it) unschedulable; None
    when riposte's cordon is not there (already undone)."""
    spec, meta = node.get("spec") or {}, node["metadata"]
    taints = spec.get("taints") or []
    kept = [t for t in taints if t.get("key") != names.QUARANTINE_LABEL]
    labels = dict(meta.get("labels") or {})
    if len(kept) == len(taints) and names.QUARANTINE_LABEL not in labels:
        return None
    labels.pop(names.QUARANTINE_LABEL, None)
    annotations = dict(meta.get("annotations") or {})
    set_by_riposte = annotations.pop("riposte.io/set-unschedulable", "") == "true"
    annotations.pop(names.EXPIRES_AT, None)
    new_spec = {**spec, "taints": kept}
    if set_by_riposte:
        new_spec["unschedulable"] = False
    return {**node, "metadata": {**meta, "labels": labels, "annotations": annotations}, "spec": new_spec}


def expired(obj: JSONObject, now: datetime.datetime) -> bool:
    stamp = (obj["metadata"].get("annotations") or {}).get(names.EXPIRES_AT)
    try:
        return stamp is not None and approval_record.parse_stamp(stamp) <= now
    except ValueError:
        return False  # not riposte's writing: leave it to a human


# -- doing it ----------------------------------------------------------------------------


Done = tuple[Outcome, str, dict[str, Any]]


def restore_configmap(
    kube: Kube, deadline: Deadline, settings: config.Settings, request: UndoRequest
) -> Done:
    copy_name = f"riposte-cm-{request.uid}"
    copy = kube.find(deadline, "Secret", namespace=settings.namespace, name=copy_name)
    if copy is None:
        return Outcome.REFUSED, f"no copy {settings.namespace}/{copy_name} to restore from", {}
    body = restorable(copy)
    try:
        made = kube.create(deadline, body)
    except kube_errors.AlreadyExists:
        found = kube.get(deadline, "ConfigMap", namespace=request.target.namespace, name=request.target.name)
        if (found["metadata"].get("annotations") or {}).get(names.RESTORED_FROM) == copy_name:
            return Outcome.ALREADY_DONE, f"already restored from {settings.namespace}/{copy_name}", {}
        return Outcome.REFUSED, "a ConfigMap of that name exists: restore by hand (README)", {}
    details = {"copy": f"{settings.namespace}/{copy_name}", "uid": made["metadata"]["uid"]}
    return Outcome.ACTED, f"restored from {settings.namespace}/{copy_name} (the copy is kept)", details


def release_pod(kube: Kube, deadline: Deadline, request: UndoRequest) -> Done:
    namespace, name, uid = request.target.namespace, request.target.name, request.uid
    pod = kube.find(deadline, "Pod", namespace=namespace, name=name)
    if pod is None or pod["metadata"]["uid"] != uid:
        return Outcome.ALREADY_DONE, "the quarantined pod is gone (its policy went with it)", {}
    policy_name = names.quarantine_policy(uid)
    policy = kube.find(deadline, "NetworkPolicy", namespace=namespace, name=policy_name)
    labelled = names.QUARANTINE_LABEL in (pod["metadata"].get("labels") or {})
    if policy is None and not labelled:
        return Outcome.ALREADY_DONE, "pod already released", {}
    if policy is not None:
        with contextlib.suppress(kube_errors.NotFound):  # released concurrently
            kube.delete(
                deadline,
                "NetworkPolicy",
                namespace=namespace,
                name=policy_name,
                uid=policy["metadata"]["uid"],
            )
    if labelled:
        patch = {
            "metadata": {"labels": {names.QUARANTINE_LABEL: None}, "annotations": {names.EXPIRES_AT: None}}
        }
        kube.patch(deadline, "Pod", namespace=namespace, name=name, patch=patch, uid=uid, style=Patch.MERGE)
    return (
        Outcome.ACTED,
        f"released: NetworkPolicy {policy_name} deleted, quarantine label removed",
        {"uid": uid},
    )


def uncordon_node(kube: Kube, deadline: Deadline, request: UndoRequest) -> Done:
    node = kube.find(deadline, "Node", name=request.target.name)
    if node is None or node["metadata"]["uid"] != request.uid:
        return Outcome.REFUSED, "the node riposte cordoned is gone or was replaced", {}
    updated = uncordoned(node)
    if updated is None:
        return Outcome.ALREADY_DONE, "node not cordoned by riposte (already undone)", {}
    kube.update(deadline, updated)  # its resourceVersion: 409 if the node changed meanwhile
    return Outcome.ACTED, "uncordoned: riposte's taint and label removed", {"uid": request.uid}


def undo_one(
    kube: Kube, deadline: Deadline, settings: config.Settings, request: UndoRequest, why: str
) -> ActionResult:
    """Undo one action, with its Event and result."""
    details: dict[str, Any]
    if spent := budget.spend(
        kube, deadline, settings, f"undo/{request.target.subject}", alert=request.identity
    ):
        outcome, reason, details = Outcome.REFUSED, spent, {}
    else:
        operations = {
            "delete-configmap": lambda: restore_configmap(kube, deadline, settings, request),
            "isolate-pod": lambda: release_pod(kube, deadline, request),
            "cordon-node": lambda: uncordon_node(kube, deadline, request),
        }
        try:
            outcome, reason, details = operations[request.function]()
        except kube_errors.Conflict:
            outcome, reason, details = (
                Outcome.REFUSED,
                f"{request.target.kind} changed while being undone",
                {},
            )
        except kube_errors.KubeError as exc:
            outcome, reason, details = Outcome.FAILED, f"not undone: {exc}", {}
    reason = f"{reason} ({why})"
    summary = AlertSummary(
        identity=request.identity,
        uuid=request.identity,
        rule=f"undo {request.function}",
        priority=Priority.NOTICE,
        source="riposte",
        hostname=None,
        time=None,
        output="",
    )
    if outcome is Outcome.ACTED:
        warning = record.event(
            kube, deadline, settings, alert=summary, target=request.target,
            uid=str(details.get("uid", request.uid)), outcome=outcome, reason=reason,
        )  # fmt: skip
        if warning:
            details = {**details, "warning": warning}
    return ActionResult(
        function=NAME,
        action=f"undo {request.function}",
        target=request.target,
        outcome=outcome,
        reason=reason,
        alert=summary,
        dry_run=settings.dry_run,
        details=details,
    )


def sweep(kube: Kube, deadline: Deadline, settings: config.Settings) -> list[ActionResult]:
    """Release what expired and expire stale approvals: only what riposte's annotations say."""
    now, results = datetime.datetime.now(datetime.UTC), []
    pods = kube.items(deadline, "Pod", label_selector=names.QUARANTINE_LABEL)
    nodes = kube.items(deadline, "Node", label_selector=f"{names.QUARANTINE_LABEL}=true")
    for kind, function, found in (("Pod", "isolate-pod", pods), ("Node", "cordon-node", nodes)):
        for obj in [o for o in found if expired(o, now)][:SWEEP_LIMIT]:
            meta = obj["metadata"]
            target = Target(kind, meta.get("namespace"), meta["name"])
            request = UndoRequest(function, target, meta["uid"], f"expiry:{meta['uid']}")
            results.append(undo_one(kube, deadline, settings, request, "its quarantine expired"))
    key = APPROVAL_KEY.of(settings)
    assert key is not None
    for approval in store.pending(kube, deadline):
        if approval.expired(now):
            with contextlib.suppress(store.AlreadyDecided):  # decided meanwhile
                store.decide(kube, deadline, key, approval, state=approval_record.State.EXPIRED,
                             decided_by="riposte", channel="expiry", now=now)  # fmt: skip
    return results


# -- the entry point ---------------------------------------------------------------------

_SETTINGS: config.Settings | None = None
_KUBE: Kube | None = None


def _started() -> tuple[config.Settings, Kube]:
    global _SETTINGS, _KUBE
    if _SETTINGS is None or _KUBE is None:
        _SETTINGS = settings_from(os.environ)
        _KUBE = Kube(_SETTINGS.kubeconfig)
    return _SETTINGS, _KUBE


if flask.has_app_context():  # under functions-framework: a bad setting refuses to start
    _started()
    serving.settle()


def handler(delivery: Delivery, call: endpoint.Call) -> ActionResult | endpoint.Handled | None:
    settings, kube = _started()
    if delivery.event_type == undo.EVENT_TYPE:
        key = APPROVAL_KEY.of(settings)
        assert key is not None
        try:
            request, decided_by, channel = undo.read_event(key, delivery.body)
        except undo.BadUndo as exc:
            raise errors.NotAnApproval(str(exc)) from None
        call.aimed_at(request.target)
        if decided_by not in APPROVERS.of(settings):
            raise errors.Unauthorized(f"{decided_by[:64]} is not one of undo's RIPOSTE_APPROVERS")
        return undo_one(kube, call.deadline, settings, request, f"asked by {decided_by} via {channel}")
    if delivery.event_type in (PING, None):  # the schedule (PingSource, the CronJob), or a human
        results = sweep(kube, call.deadline, settings)
        for result in results:
            publish(settings, result, call.deadline)
        return endpoint.Handled("swept", {"undone": [r.target.subject for r in results]})
    return None


def publish(settings: config.Settings, result: ActionResult, deadline: Deadline) -> None:
    if settings.result_url is None:
        return
    headers, body = endpoint.reply(result.finished(int(deadline.elapsed_ms())), settings)
    with contextlib.suppress(webhook.SinkRejected):  # the sweep's log line names what it undid
        webhook.post("RIPOSTE_RESULT_URL", settings.result_url, deadline, body=body, headers=headers)


@functions_framework.http
def handle(request: flask.Request) -> flask.Response:
    settings, _ = _started()
    return endpoint.respond(request, settings, handler)
