"""Approval mode of an acting function (DESIGN §13), against the real apiserver.

delete-configmap runs with RIPOSTE_APPROVAL=required as its own ServiceAccount. The seed
alert is verified and stored as a pending approval; nothing is deleted. The decision is
written as interact writes it (shared/approval/store, signed with the shared key); the
`riposte.approval.v1` event then makes the function re-read the record, re-verify live
state and act, naming the approver. Every record it must not trust — unsigned, rejected,
expired, decided by someone not in its RIPOSTE_APPROVERS, about an object since
replaced — changes nothing. (interact itself is tested in test_interact.py.)
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from shared.approval import record, store
from shared.approval.record import Approval, State
from shared.deadline import Deadline
from shared.kube.client import Kube
from tests.conftest import Serve
from tests.helpers import cloudevent_headers, configmap_alert, encode

KEY = "riposte-approval-key-0123456789abcdef"
TOKEN = "riposte-approval-token-0123456789"
APPROVER = "U0APPROVER"


@pytest.fixture
def fn(serve: Serve) -> FunctionProcess:
    return serve(
        "delete-configmap",
        RIPOSTE_APPROVAL="required",
        RIPOSTE_APPROVAL_KEY=KEY,
        RIPOSTE_APPROVERS=f"{APPROVER},email:alice@example.com",
        RIPOSTE_TOKEN=TOKEN,
    )


@pytest.fixture(scope="module")
def admin(cluster: ControlPlane) -> Kube:
    return Kube(str(cluster.kubeconfig))


def post(http: requests.Session, fn: FunctionProcess, alert: dict[str, Any]) -> dict[str, Any]:
    response = http.post(
        fn.url, data=encode(alert), headers={**cloudevent_headers(alert), "Ce-Authtoken": TOKEN}
    )
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def approval_event(
    http: requests.Session, fn: FunctionProcess, approval_id: str, function: str
) -> requests.Response:
    headers = {
        "Ce-Specversion": "1.0",
        "Ce-Id": str(uuid.uuid4()),
        "Ce-Source": "riposte/interact",
        "Ce-Type": "riposte.approval.v1",
        "Ce-Authtoken": TOKEN,
        "Content-Type": "application/json",
    }
    return http.post(fn.url, json={"id": approval_id, "function": function}, headers=headers)


def seeded(core: client.CoreV1Api, namespace: str) -> dict[str, Any]:
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    return configmap_alert(namespace, "aws-creds")


def exists(core: client.CoreV1Api, namespace: str) -> bool:
    return any(
        c.metadata is not None and c.metadata.name == "aws-creds"
        for c in core.list_namespaced_config_map(namespace).items
    )


def pending(admin: Kube, approval_id: str) -> Approval:
    found = store.get(admin, Deadline(10), approval_id)
    assert found is not None
    return found


def decide(admin: Kube, approval: Approval, state: State = State.APPROVED, by: str = APPROVER) -> Approval:
    return store.decide(
        admin, Deadline(10), KEY, approval, state=state, decided_by=by, channel="slack",
        now=datetime.datetime.now(datetime.UTC),
    )  # fmt: skip


def test_the_seed_waits_for_a_human_and_acts_on_the_approval_naming_them(
    fn: FunctionProcess, core: client.CoreV1Api, http: requests.Session, namespace: str, admin: Kube
) -> None:
    alert = seeded(core, namespace)
    reply = post(http, fn, alert)
    assert reply["outcome"] == "pending-approval", reply
    assert reply["reason"].startswith("waiting for a human to approve: would copy and delete")
    assert exists(core, namespace), "nothing is deleted before the approval"
    approval = pending(admin, reply["approval"])
    assert approval.state is State.PENDING and approval.valid(KEY) and approval.function == "delete-configmap"
    assert approval.id == record.approval_id("delete-configmap", alert["uuid"])
    assert "AKES" not in str(approval.alert)  # no credential value is kept
    again = post(http, fn, alert)
    assert (again["outcome"], again["approval"]) == ("pending-approval", reply["approval"]), "same record"

    decide(admin, approval)
    acted = approval_event(http, fn, approval.id, "delete-configmap")
    assert acted.status_code == 200, acted.text
    result = acted.json()
    assert result["outcome"] == "acted", result
    assert (
        f"approved by {APPROVER} via slack" in result["reason"]
        and result["approved_by"] == f"{APPROVER} via slack"
    )
    assert not exists(core, namespace)
    [event] = [
        e
        for e in core.list_namespaced_event(namespace).items
        if e.message and "riposte" in (e.reason or "").lower()
    ]
    assert APPROVER in (event.message or "")
    replay = approval_event(http, fn, approval.id, "delete-configmap").json()
    assert replay["outcome"] == "already-done", "the same approval acts once"


@pytest.mark.parametrize("case", ["unsigned", "rejected", "unlisted", "expired", "replaced"])
def test_an_approval_it_must_not_trust_changes_nothing(
    fn: FunctionProcess,
    core: client.CoreV1Api,
    http: requests.Session,
    namespace: str,
    admin: Kube,
    case: str,
) -> None:
    reply = post(http, fn, seeded(core, namespace))
    approval = pending(admin, reply["approval"])
    if case == "unsigned":  # edited by someone without the key
        forged = dataclasses.replace(
            approval, state=State.APPROVED, decided_by=APPROVER, decided_at="2026-01-01T00:00:00Z"
        )
        admin.update(Deadline(10), store._body(forged))
        says = "not signed"
    elif case == "rejected":
        decide(admin, approval, State.REJECTED)
        says = "rejected"
    elif case == "unlisted":
        decide(admin, approval, by="U0SOMEONE")
        says = "not one of this function's RIPOSTE_APPROVERS"
    elif case == "expired":
        past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
        stale = dataclasses.replace(
            approval, state=State.APPROVED, decided_by=APPROVER, decided_at=record.stamp(past),
            expires_at=record.stamp(past + datetime.timedelta(minutes=15)),
        ).signed(KEY)  # fmt: skip
        admin.update(Deadline(10), store._body(stale))
        says = "expired"
    else:  # the ConfigMap was replaced under the same name after it was verified
        decide(admin, approval)
        core.delete_namespaced_config_map("aws-creds", namespace)
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "q"}}
        )
        says = "changed since it was approved"
    result = approval_event(http, fn, approval.id, "delete-configmap").json()
    assert result["outcome"] == "refused" and says in result["reason"], result
    assert exists(core, namespace)


def test_another_functions_approval_is_not_for_it_and_a_missing_one_is_a_400(
    fn: FunctionProcess, http: requests.Session
) -> None:
    assert approval_event(http, fn, "0" * 32, "isolate-pod").status_code == 204
    missing = approval_event(http, fn, "0" * 32, "delete-configmap")
    assert missing.status_code == 400 and "no approval record" in missing.json()["error"]


def test_approval_mode_without_a_key_refuses_to_start(cluster: ControlPlane) -> None:
    from devcluster.functions import FunctionError

    kubeconfig = cluster.serviceaccount_kubeconfig("riposte", "delete-configmap")
    env = {"KUBECONFIG": str(kubeconfig), "RIPOSTE_APPROVAL": "required"}
    process = FunctionProcess("delete-configmap", env, workdir=cluster.workdir)
    try:
        with pytest.raises(FunctionError, match="RIPOSTE_APPROVAL_KEY"):
            process.wait_ready(timeout=30)
    finally:
        process.stop()
