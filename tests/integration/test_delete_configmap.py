"""delete-configmap against the real apiserver, as its own ServiceAccount, over real HTTP.

Covers the seed end to end (copy kept, preconditions, Event, reply), each sender format,
redelivery and concurrency (one delete, one Event), and every refusal: no credential any
more, not found, protected namespace, opt-out label on the namespace, dry-run. The
object's own label, written by the alerted create, no longer exempts it (DESIGN §15).
Every refusal is checked on the cluster: nothing deleted, no copy, no Event. A copy of an
older version of the ConfigMap is never reused for a newer one.
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from shared import alert as alert_model
from shared import config
from shared.acting import copies
from shared.deadline import Deadline
from shared.kube.client import Kube
from shared.priority import Priority
from tests.conftest import Serve
from tests.helpers import annotations_of, cloudevent_headers, configmap_alert, encode, name_of

FUNCTION = "delete-configmap"
CREDS = {"aws_access_key_id": "AKES20LNOA"}


@pytest.fixture
def fn(serve: Serve) -> FunctionProcess:
    return serve(FUNCTION)


def make_configmap(
    core: client.CoreV1Api,
    namespace: str,
    name: str = "aws-creds",
    data: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> client.V1ConfigMap:
    body = {"metadata": {"name": name, "labels": labels or {}}, "data": CREDS if data is None else data}
    return core.create_namespaced_config_map(namespace, body)


def exists(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    try:
        core.read_namespaced_config_map(name, namespace)
    except client.ApiException as exc:
        assert exc.status == 404
        return False
    return True


def copies_of(core: client.CoreV1Api, namespace: str, name: str) -> list[client.V1Secret]:
    return [
        s
        for s in core.list_namespaced_secret("riposte", label_selector="riposte.io/copy-of=configmap").items
        if annotations_of(s)["riposte.io/source-namespace"] == namespace
        and annotations_of(s)["riposte.io/source-name"] == name
    ]


def events_in(core: client.CoreV1Api, namespace: str) -> list[client.CoreV1Event]:
    return [e for e in core.list_namespaced_event(namespace).items if name_of(e).startswith("riposte-")]


def send(
    http: requests.Session, fn: FunctionProcess, alert: dict[str, Any], **extensions: str
) -> requests.Response:
    return http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert, **extensions))


def assert_untouched(core: client.CoreV1Api, namespace: str, name: str = "aws-creds") -> None:
    assert exists(core, namespace, name)
    assert copies_of(core, namespace, name) == []
    assert events_in(core, namespace) == []


def test_seed_deletes_the_configmap_keeps_a_copy_and_records_an_event(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    source = make_configmap(core, namespace, labels={"team": "payments"})
    alert = configmap_alert(namespace, "aws-creds")
    response = send(http, fn, alert)

    assert response.status_code == 200, response.text
    assert response.headers["ce-type"] == "riposte.action.v1"
    assert response.headers["ce-subject"] == f"{namespace}/configmap/aws-creds"
    reply = response.json()
    assert reply["outcome"] == "acted"
    assert reply["uuid"] == alert["uuid"]
    assert reply["rule"] == alert["rule"]
    assert reply["priority"] == "Warning"
    assert reply["target"] == {"kind": "ConfigMap", "namespace": namespace, "name": "aws-creds"}
    assert reply["credential_keys"] == ["aws_access_key_id"]
    assert isinstance(reply["duration_ms"], int)
    assert "AKES20LNOA" not in response.text

    assert not exists(core, namespace, "aws-creds")
    [copy] = copies_of(core, namespace, "aws-creds")
    assert source.metadata is not None and copy.metadata is not None and copy.data is not None
    assert copy.metadata.name == f"riposte-cm-{source.metadata.uid}"
    assert reply["copy"] == f"riposte/{copy.metadata.name}"
    annotations = copy.metadata.annotations
    assert annotations is not None
    assert annotations["riposte.io/source-uid"] == source.metadata.uid
    assert annotations["riposte.io/source-resource-version"] == source.metadata.resource_version
    assert annotations["riposte.io/alert-identity"] == alert["uuid"]
    kept = json.loads(base64.b64decode(copy.data["configmap.json"]))
    assert kept["data"] == CREDS
    assert kept["metadata"]["labels"] == {"team": "payments"}

    [event] = events_in(core, namespace)
    assert event.source is not None and event.message is not None
    assert event.involved_object.uid == source.metadata.uid
    assert event.involved_object.kind == "ConfigMap"
    assert event.source.component == "riposte/delete-configmap"
    assert alert["uuid"] in event.message
    assert "AKES20LNOA" not in event.message


def test_the_copy_restores_the_configmap(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    make_configmap(core, namespace, data={"password": "hunter2", "plain": "x"})
    assert send(http, fn, configmap_alert(namespace, "aws-creds")).json()["outcome"] == "acted"
    [copy] = copies_of(core, namespace, "aws-creds")
    assert copy.data is not None
    # README "Restoring a deleted ConfigMap": decode configmap.json and create it.
    restored = core.create_namespaced_config_map(
        namespace, json.loads(base64.b64decode(copy.data["configmap.json"]))
    )
    assert restored.data == {"password": "hunter2", "plain": "x"}


@pytest.mark.parametrize("mode", ["webhook-json", "structured", "falco-http-output"])
def test_every_sender_format_acts(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str, mode: str
) -> None:
    make_configmap(core, namespace)
    alert = configmap_alert(namespace, "aws-creds")
    if mode == "webhook-json":
        response = http.post(
            fn.url, data=encode(alert), headers={"Content-Type": "application/json; charset=utf-8"}
        )
    elif mode == "structured":
        envelope = {
            "specversion": "1.0",
            "id": "x1",
            "source": "https://falco.org",
            "type": "falco.rule.output.v1",
            "data": alert,
        }
        response = http.post(
            fn.url, data=json.dumps(envelope), headers={"Content-Type": "application/cloudevents+json"}
        )
    else:
        alert.pop("uuid")
        alert["time"] = "2026-07-14T09:52:30.418215000Z"
        response = http.post(
            fn.url, data=json.dumps(alert, sort_keys=True), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "acted"
    assert not exists(core, namespace, "aws-creds")


def test_the_same_alert_twice_deletes_once(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    make_configmap(core, namespace)
    alert = configmap_alert(namespace, "aws-creds")
    assert send(http, fn, alert).json()["outcome"] == "acted"
    make_configmap(core, namespace)  # recreated under the same name: a new object
    again = send(http, fn, alert).json()
    assert again["outcome"] == "already-done"
    assert exists(core, namespace, "aws-creds"), "a redelivered alert must not act a second time"
    assert len(events_in(core, namespace)) == 1


def test_concurrent_redeliveries_delete_once_and_record_one_event(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    make_configmap(core, namespace)
    alert = configmap_alert(namespace, "aws-creds")
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: send(http, fn, alert).json()["outcome"], range(24)))
    assert outcomes.count("acted") == 1, outcomes
    assert set(outcomes) == {"acted", "already-done"}
    assert len(copies_of(core, namespace, "aws-creds")) == 1
    assert len(events_in(core, namespace)) == 1


def test_a_new_alert_for_an_already_deleted_configmap_is_already_done(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    make_configmap(core, namespace)
    assert send(http, fn, configmap_alert(namespace, "aws-creds")).json()["outcome"] == "acted"
    reply = send(http, fn, configmap_alert(namespace, "aws-creds")).json()
    assert reply["outcome"] == "already-done"
    assert reply["copy"].startswith("riposte/riposte-cm-")


def test_a_configmap_riposte_never_saw_is_refused_as_not_found(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    reply = send(http, fn, configmap_alert(namespace, "never-existed")).json()
    assert reply["outcome"] == "refused"
    assert "not found" in reply["reason"]
    assert events_in(core, namespace) == []


def test_a_configmap_without_credentials_is_not_deleted(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    make_configmap(core, namespace, data={"greeting": "hello"})  # forged or stale alert
    reply = send(http, fn, configmap_alert(namespace, "aws-creds")).json()
    assert reply["outcome"] == "refused"
    assert "no longer holds a credential" in reply["reason"]
    assert_untouched(core, namespace)


@pytest.mark.parametrize(
    "data",
    [
        {"db_password": "x"},
        {"config": "passphrase=abc"},
        {"aws-s3-access-key-id": "a"},
        {"k": "aws_access_key_id=1"},
    ],
)
def test_the_rule_markers_in_keys_or_values_count_as_credentials(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str, data: dict[str, str]
) -> None:
    make_configmap(core, namespace, data=data)
    assert send(http, fn, configmap_alert(namespace, "aws-creds")).json()["outcome"] == "acted"


def test_markers_are_case_sensitive_like_falcos_rule(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    make_configmap(core, namespace, data={"PASSWORD": "x"})
    assert send(http, fn, configmap_alert(namespace, "aws-creds")).json()["outcome"] == "refused"


def test_protected_namespace_is_refused(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess
) -> None:
    name = "aws-creds-protected"
    core.create_namespaced_config_map("kube-system", {"metadata": {"name": name}, "data": CREDS})
    reply = send(http, fn, configmap_alert("kube-system", name)).json()
    assert reply["outcome"] == "refused"
    assert "protected" in reply["reason"]
    assert exists(core, "kube-system", name)


def test_own_namespace_is_refused(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess
) -> None:
    core.create_namespaced_config_map("riposte", {"metadata": {"name": "own-creds"}, "data": CREDS})
    reply = send(http, fn, configmap_alert("riposte", "own-creds")).json()
    assert reply["outcome"] == "refused"
    assert exists(core, "riposte", "own-creds")


def test_an_opt_out_label_the_alerted_create_wrote_does_not_exempt(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    """DESIGN §15 (changed on purpose): the requester chose that label, so it cannot switch
    riposte off for the object the alert is about; the namespace label and RIPOSTE_EXEMPT
    can (tests/integration/test_exemptions.py)."""
    make_configmap(core, namespace, labels={"riposte.io/ignore": "true"})
    reply = send(http, fn, configmap_alert(namespace, "aws-creds")).json()
    assert reply["outcome"] == "acted", reply
    assert not exists(core, namespace, "aws-creds")
    assert len(copies_of(core, namespace, "aws-creds")) == 1


def test_opt_out_label_on_the_namespace_is_refused(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    core.patch_namespace(namespace, {"metadata": {"labels": {"riposte.io/ignore": "true"}}})
    make_configmap(core, namespace)
    reply = send(http, fn, configmap_alert(namespace, "aws-creds")).json()
    assert reply["outcome"] == "refused"
    assert "namespace" in reply["reason"]
    assert_untouched(core, namespace)


def test_missing_namespace_is_422_and_nothing_changes(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    make_configmap(core, namespace)
    response = send(http, fn, configmap_alert(None, "aws-creds"))
    assert response.status_code == 422
    assert "ka.target.namespace" in response.json()["error"]
    assert_untouched(core, namespace)


def test_dry_run_replies_and_changes_nothing(
    core: client.CoreV1Api, http: requests.Session, serve: Serve, namespace: str
) -> None:
    fn = serve(FUNCTION, RIPOSTE_DRY_RUN="true")
    make_configmap(core, namespace)
    response = send(http, fn, configmap_alert(namespace, "aws-creds"))
    assert response.status_code == 200
    reply = response.json()
    assert reply["outcome"] == "dry-run"
    assert reply["dry_run"] is True
    assert "would copy and delete" in reply["reason"]
    assert_untouched(core, namespace)


def test_a_configmap_modified_after_the_alert_is_verified_against_live_state(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    make_configmap(core, namespace)
    core.patch_namespaced_config_map(
        "aws-creds", namespace, [{"op": "remove", "path": "/data/aws_access_key_id"}]
    )
    reply = send(http, fn, configmap_alert(namespace, "aws-creds")).json()
    assert reply["outcome"] == "refused"
    assert exists(core, namespace, "aws-creds")


def test_a_copy_of_an_older_version_is_not_reused_and_nothing_is_deleted(
    cluster: ControlPlane, core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    """A copy kept for an action a racing replica's spend then refused, and the ConfigMap
    changed since: deleting it on the strength of that copy would lose the change."""
    make_configmap(core, namespace)
    alert = configmap_alert(namespace, "aws-creds")
    admin, deadline = Kube(str(cluster.kubeconfig)), Deadline(10)
    settings = config.load(
        FUNCTION, rules=(), min_priority=Priority.WARNING, environ={"RIPOSTE_TOKEN": "t" * 20}
    )
    older = admin.get(deadline, "ConfigMap", name="aws-creds", namespace=namespace)
    kept = copies.keep(admin, deadline, settings, older, alert_model.parse(alert)).split("/")[1]
    core.patch_namespaced_config_map("aws-creds", namespace, {"data": {"password": "since"}})
    reply = send(http, fn, alert).json()
    assert reply["outcome"] == "failed"
    assert f"riposte/{kept} holds resourceVersion {meta_of(older)['resourceVersion']}" in reply["reason"]
    assert core.read_namespaced_config_map("aws-creds", namespace).data == {**CREDS, "password": "since"}
    copy = core.read_namespaced_secret(kept, "riposte").data
    assert copy is not None
    assert json.loads(base64.b64decode(copy["configmap.json"]))["data"] == CREDS
    assert events_in(core, namespace) == []


def meta_of(obj: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = obj["metadata"]
    return metadata
