"""Approval records as ConfigMaps `riposte-approval-<id>` in `riposte-approvals`.

Their own namespace, because RBAC cannot restrict by name prefix: interact may get and
update ConfigMaps there and nowhere else, so it can never edit riposte's other objects.
Every state change is an update with the record's resourceVersion: of two decisions on
one record, exactly one wins; the other gets AlreadyDecided.
"""

from __future__ import annotations

import datetime
from dataclasses import replace

from shared.approval import record
from shared.approval.record import Approval, State
from shared.deadline import Deadline
from shared.kube import errors
from shared.kube.client import JSONObject, Kube

LABEL = "riposte.io/approval"


class AlreadyDecided(Exception):
    """Someone decided first (or the record expired); `approval` is the record as it is."""

    def __init__(self, approval: Approval) -> None:
        super().__init__(f"approval {approval.id} is already {approval.state}")
        self.approval = approval


def _body(approval: Approval) -> JSONObject:
    meta: JSONObject = {
        "name": record.config_map_name(approval.id),
        "namespace": record.NAMESPACE,
        "labels": {
            "app.kubernetes.io/managed-by": "riposte",
            LABEL: "true",
            "riposte.io/function": approval.function,
        },
    }
    if approval.resource_version:
        meta["resourceVersion"] = approval.resource_version
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": record.to_data(approval)}


def _read(found: JSONObject) -> Approval:
    return record.from_data(found.get("data") or {}, found["metadata"].get("resourceVersion", ""))


def create(kube: Kube, deadline: Deadline, approval: Approval) -> Approval:
    """Store a new pending approval; a redelivery finds (and gets back) the one stored."""
    try:
        return _read(kube.create(deadline, _body(approval)))
    except errors.AlreadyExists:
        existing = get(kube, deadline, approval.id)
        if existing is None:  # deleted in between: try once more
            return _read(kube.create(deadline, _body(approval)))
        return existing


def get(kube: Kube, deadline: Deadline, approval_id: str) -> Approval | None:
    found = kube.find(
        deadline, "ConfigMap", namespace=record.NAMESPACE, name=record.config_map_name(approval_id)
    )
    return None if found is None else _read(found)


def decide(
    kube: Kube,
    deadline: Deadline,
    key: str,
    approval: Approval,
    *,
    state: State,
    decided_by: str,
    channel: str,
    now: datetime.datetime,
    link_mode: str = "",
) -> Approval:
    """Move a pending approval to `state`, signed; AlreadyDecided if it is not pending (or
    expired, which is then recorded), or if another decision wrote it first (409)."""
    if approval.state is not State.PENDING:
        raise AlreadyDecided(approval)
    if approval.expired(now) and state is not State.EXPIRED:
        expired = _write(kube, deadline, key, approval, State.EXPIRED, "riposte", "expiry", now, "")
        raise AlreadyDecided(expired)
    return _write(kube, deadline, key, approval, state, decided_by, channel, now, link_mode)


def _write(
    kube: Kube,
    deadline: Deadline,
    key: str,
    approval: Approval,
    state: State,
    decided_by: str,
    channel: str,
    now: datetime.datetime,
    link_mode: str,
) -> Approval:
    decided = replace(
        approval,
        state=state,
        decided_by=decided_by,
        decided_at=record.stamp(now),
        channel=channel,
        link_mode=link_mode,
    ).signed(key)
    try:
        return _read(kube.update(deadline, _body(decided)))
    except errors.Conflict:
        current = get(kube, deadline, approval.id)
        raise AlreadyDecided(current or approval) from None


def pending(kube: Kube, deadline: Deadline) -> list[Approval]:
    """Every approval still pending (the sweep expires the stale ones)."""
    found = kube.items(deadline, "ConfigMap", namespace=record.NAMESPACE, label_selector=f"{LABEL}=true")
    approvals = []
    for item in found:
        try:
            approval = _read(item)
        except record.BadRecord:
            continue
        if approval.state is State.PENDING:
            approvals.append(approval)
    return approvals
