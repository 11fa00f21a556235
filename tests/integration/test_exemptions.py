"""Exemptions an attacker cannot grant, and alerts about failed requests, against the real
apiserver, as each function's own ServiceAccount (DESIGN §12, §15).

Each bypass is tried as an attacker would: the opt-out label on a privileged pod they
create, riposte's own label copied onto a foreign pod, a failed create naming an existing
object, an alert without the response fields, a create alert whose object was replaced
since. None of them exempts anything or makes riposte act on the wrong object. The
legitimate exemptions (the namespace label, RIPOSTE_EXEMPT by name and by selector) still
hold.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests
from kubernetes import client

from tests.conftest import Serve
from tests.helpers import cloudevent_headers, configmap_alert, encode, meta, shell_alert, sidekick

QUARANTINE = "riposte.io/quarantine"
IGNORE = {"riposte.io/ignore": "true"}


def make_pod(core: client.CoreV1Api, namespace: str, name: str, labels: dict[str, str] | None = None) -> Any:
    spec = {"containers": [{"name": "c", "image": "nginx:1.27"}]}
    return core.create_namespaced_pod(
        namespace, {"metadata": {"name": name, "labels": labels or {}}, "spec": spec}
    )


def privileged_create(namespace: str, name: str, **fields: object) -> dict[str, Any]:
    """Falco's "Create Privileged Pod" for `name`, with the fields deploy/falco appends."""
    alert = copy.deepcopy(sidekick("k8saudit_create_privileged_pod"))
    alert["output_fields"].update(
        {"ka.resp.name": name, "ka.target.namespace": namespace, "ka.verb": "create"}
    )
    alert["output_fields"].update(fields)
    return alert


def send(http: requests.Session, url: str, alert: dict[str, Any]) -> dict[str, Any]:
    response = http.post(url, data=encode(alert), headers=cloudevent_headers(alert))
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def isolated(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    return QUARANTINE in (meta(core.read_namespaced_pod(name, namespace)).labels or {})


def test_a_privileged_pod_created_with_the_opt_out_label_is_isolated(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    pod = make_pod(core, namespace, "miner", labels=IGNORE)
    alert = privileged_create(namespace, "miner", **{"ka.response.code": "201", "ka.resp.uid": meta(pod).uid})
    reply = send(http, serve("isolate-pod").url, alert)
    assert reply["outcome"] == "acted", reply
    assert isolated(core, namespace, "miner")


def test_ripostes_label_on_a_foreign_pod_exempts_nothing(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    pod = make_pod(core, namespace, "fake-riposte", labels={"app.kubernetes.io/part-of": "riposte"})
    alert = privileged_create(
        namespace, "fake-riposte", **{"ka.response.code": "201", "ka.resp.uid": meta(pod).uid}
    )
    assert send(http, serve("isolate-pod").url, alert)["outcome"] == "acted"
    assert isolated(core, namespace, "fake-riposte")


@pytest.mark.parametrize("code", ["409", "403", "422"])
def test_a_failed_create_naming_an_existing_pod_changes_nothing(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str, code: str
) -> None:
    """Someone tries to create a privileged pod under a legitimate pod's name: the create
    fails (409 AlreadyExists, 403, 422), the rule fires anyway, the legitimate pod stays."""
    pod = make_pod(core, namespace, "legit")
    alert = privileged_create(namespace, "legit", **{"ka.response.code": code, "ka.resp.uid": meta(pod).uid})
    reply = send(http, serve("isolate-pod").url, alert)
    assert reply["outcome"] == "refused"
    assert f"failed ({code})" in reply["reason"]
    assert not isolated(core, namespace, "legit")


def test_a_failed_configmap_write_naming_an_existing_configmap_changes_nothing(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    reply = send(http, serve("delete-configmap").url, configmap_alert(namespace, "aws-creds", code="409"))
    assert reply["outcome"] == "refused" and "failed (409)" in reply["reason"]
    assert core.read_namespaced_config_map("aws-creds", namespace)


@pytest.mark.parametrize(
    ("fields", "missing"),
    [({}, "ka.response.code"), ({"ka.response.code": "201"}, "ka.resp.uid")],
)
def test_an_alert_without_the_response_fields_is_refused_naming_them(
    serve: Serve,
    core: client.CoreV1Api,
    http: requests.Session,
    namespace: str,
    fields: dict[str, str],
    missing: str,
) -> None:
    make_pod(core, namespace, "web")
    reply = send(http, serve("isolate-pod").url, privileged_create(namespace, "web", **fields))
    assert reply["outcome"] == "refused"
    assert missing in reply["reason"] and "append_output" in reply["reason"]
    assert not isolated(core, namespace, "web")


def test_a_create_alert_about_a_pod_since_replaced_is_refused(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    first = make_pod(core, namespace, "web")
    core.delete_namespaced_pod("web", namespace, grace_period_seconds=0)
    make_pod(core, namespace, "web")  # same name, another pod
    alert = privileged_create(namespace, "web", **{"ka.response.code": "201", "ka.resp.uid": meta(first).uid})
    reply = send(http, serve("isolate-pod").url, alert)
    assert reply["outcome"] == "refused" and "another object" in reply["reason"]
    assert not isolated(core, namespace, "web")


def test_a_shell_in_a_pod_falco_saw_that_is_gone_is_refused(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    make_pod(core, namespace, "web")
    alert = shell_alert(namespace, "web")
    alert["output_fields"]["k8s.pod.uid"] = "00000000-0000-0000-0000-000000000000"
    reply = send(http, serve("isolate-pod").url, alert)
    assert reply["outcome"] == "refused" and "another pod" in reply["reason"]
    assert not isolated(core, namespace, "web")


def test_the_namespace_label_still_exempts(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    core.patch_namespace(namespace, {"metadata": {"labels": IGNORE}})
    pod = make_pod(core, namespace, "web")
    alert = privileged_create(namespace, "web", **{"ka.response.code": "201", "ka.resp.uid": meta(pod).uid})
    reply = send(http, serve("isolate-pod").url, alert)
    assert reply["outcome"] == "refused" and "namespace" in reply["reason"]
    assert not isolated(core, namespace, "web")


def test_riposte_exempt_by_name_and_by_selector_still_exempts(
    serve: Serve, core: client.CoreV1Api, http: requests.Session, namespace: str
) -> None:
    exempt = json.dumps([
        {"kind": "Pod", "namespace": namespace, "name": "payments-0"},
        {"kind": "Pod", "selector": {"matchLabels": {"app": "vault"}}},
    ])  # fmt: skip
    url = serve("isolate-pod", RIPOSTE_EXEMPT=exempt).url
    payments = make_pod(core, namespace, "payments-0")
    alert = privileged_create(
        namespace, "payments-0", **{"ka.response.code": "201", "ka.resp.uid": meta(payments).uid}
    )
    assert "RIPOSTE_EXEMPT" in send(http, url, alert)["reason"]
    make_pod(core, namespace, "vault-0", labels={"app": "vault"})
    assert "RIPOSTE_EXEMPT" in send(http, url, shell_alert(namespace, "vault-0"))["reason"]
    assert not isolated(core, namespace, "payments-0") and not isolated(core, namespace, "vault-0")
    # The selector matches labels, which the requester of a create chose: no exemption there.
    vault = make_pod(core, namespace, "vault-1", labels={"app": "vault"})
    created = privileged_create(
        namespace, "vault-1", **{"ka.response.code": "201", "ka.resp.uid": meta(vault).uid}
    )
    assert send(http, url, created)["outcome"] == "acted"
