"""revert-object against the real apiserver, as its own ServiceAccount, over real HTTP.

Each default rule, in the k8saudit plugin's own output format with the fields
deploy/falco appends, acts once: a cluster-admin ClusterRoleBinding and Roles/ClusterRoles
granting `*` or pods/exec are deleted (uid + resourceVersion preconditions), a NodePort
Service becomes ClusterIP (its node ports released), each after a copy in
`riposte-copy-<uid>` that restores it with the README's command. The reply names the
bindings still referencing a deleted role, its aggregate-to-* labels and its owner.
Redeliveries are `already-done`, concurrent duplicates act once. Every refusal is checked
on the cluster (object unchanged, no copy, no Event): the target gone, the rule's
condition no longer true, the audited request failed (403, 409) or made another object
(uid), fields missing, protected namespaces, exempt and bootstrap objects, dry-run. An
apiserver outage answers 503 and the redelivery acts.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid as uuidlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from kubernetes import client

from devcluster import manifests
from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from tests.conftest import Serve
from tests.helpers import (
    FALCO,
    cloudevent_headers,
    encode,
    meta,
    present,
    redeliver_until_answered,
    sidekick,
)

FUNCTION = "revert-object"
CLUSTER_ADMIN = "Attach to cluster-admin Role"
WILDCARD = "ClusterRole With Wildcard Created"
POD_EXEC = "ClusterRole With Pod Exec Created"
NODEPORT = "Create NodePort Service"
RBAC_GROUP = "rbac.authorization.k8s.io"
STAR = [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]
EXEC = [{"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["get", "create"]}]
HARMLESS = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]


@pytest.fixture(scope="module")
def rbac(cluster: ControlPlane) -> client.RbacAuthorizationV1Api:
    return client.RbacAuthorizationV1Api(cluster.client())


@pytest.fixture
def fn(serve: Serve) -> FunctionProcess:
    return serve(FUNCTION)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuidlib.uuid4().hex[:8]}"


# -- the objects, made as the audited user would ------------------------------------------


def make_binding(rbac: client.RbacAuthorizationV1Api, name: str, role: str = "cluster-admin") -> Any:
    return rbac.create_cluster_role_binding(
        {
            "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "ci-deployer", "namespace": "ci"}],
        }
    )


def make_role(
    rbac: client.RbacAuthorizationV1Api, name: str, rules: list[dict[str, Any]], namespace: str | None = None,
    **metadata: Any,
) -> Any:  # fmt: skip
    body = {"metadata": {"name": name, **metadata}, "rules": rules}
    if namespace is None:
        return rbac.create_cluster_role(body)
    return rbac.create_namespaced_role(namespace, body)


def make_service(core: client.CoreV1Api, namespace: str, name: str = "web", kind: str = "NodePort") -> Any:
    spec = {"type": kind, "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
    return core.create_namespaced_service(namespace, {"metadata": {"name": name}, "spec": spec})


# -- the alerts, as the k8saudit plugin's rules print them -----------------------------------


def audit_alert(rule: str, output: str, fields: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A k8s_audit alert as Falcosidekick forwards it, with deploy/falco's appended fields
    (a create that succeeded: 201, the created object's uid)."""
    alert: dict[str, Any] = {
        "uuid": str(uuidlib.uuid4()),
        "output": f"10:08:09.055120000: Warning {output}",
        "priority": "Warning",
        "rule": rule,
        "time": "2026-07-14T10:08:09.05512Z",
        "output_fields": {
            "evt.time": 1784023689055120000,
            "ka.user.name": "alice@example.com",
            "ka.verb": "create",
            "ka.response.code": "201",
            **fields,
        },
        "source": "k8s_audit",
        "tags": ["k8s"],
        "hostname": "ip-10-0-3-17.eu-west-1.compute.internal",
    }
    alert["output_fields"].update(changes)
    return alert


def binding_alert(binding: Any, **changes: Any) -> dict[str, Any]:
    """The fixture of "Attach to cluster-admin Role": its output names no binding."""
    alert: dict[str, Any] = sidekick("k8saudit_attach_to_cluster_admin_role")
    alert["uuid"] = str(uuidlib.uuid4())
    alert["output_fields"].update(
        {
            "ka.target.name": meta(binding).name,
            "ka.target.namespace": None,  # cluster-scoped
            "ka.target.resource": "clusterrolebindings",
            "ka.verb": "create",
            "ka.response.code": "201",
            "ka.resp.uid": meta(binding).uid,
        }
    )
    alert["output_fields"].update(changes)
    return alert


def serialized(model: Any) -> Any:
    """An official-client model as the API writes it (camelCase keys, no nulls)."""
    return client.ApiClient().sanitize_for_serialization(model)  # type: ignore[no-untyped-call]


def role_alert(rule: str, role: Any, **changes: Any) -> dict[str, Any]:
    namespace = meta(role).namespace
    rules = [json.dumps(r, separators=(",", ":")) for r in serialized(role.rules or [])]
    what = "wildcard" if rule == WILDCARD else "pod exec privileges"
    resource = "roles" if namespace else "clusterroles"
    output = (
        f"Created Role/ClusterRole with {what} (user=alice@example.com role={meta(role).name} "
        f"resource={resource} rules={rules})"
    )
    fields = {
        "ka.target.name": meta(role).name,
        "ka.target.namespace": namespace,
        "ka.target.resource": resource,
        "ka.req.role.rules": rules,
        "ka.resp.uid": meta(role).uid,
    }
    return audit_alert(rule, output, fields, **changes)


def nodeport_alert(service: Any, **changes: Any) -> dict[str, Any]:
    name, namespace = meta(service).name, meta(service).namespace
    ports = '[{"port":80,"targetPort":8080}]'
    output = (
        f"NodePort Service Created (user=alice@example.com service={name} resource=services "
        f"ns={namespace} ports={ports})"
    )
    fields = {
        "ka.target.name": name,
        "ka.target.namespace": namespace,
        "ka.target.resource": "services",
        "ka.req.service.ports": ports,
        "ka.resp.uid": meta(service).uid,
    }
    return audit_alert(NODEPORT, output, fields, **changes)


def post(http: requests.Session, url: str, alert: dict[str, Any]) -> requests.Response:
    return http.post(url, data=encode(alert), headers=cloudevent_headers(alert), timeout=60)


def send(http: requests.Session, fn: FunctionProcess, alert: dict[str, Any]) -> dict[str, Any]:
    response = post(http, fn.url, alert)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


# -- what is on the cluster -------------------------------------------------------------------


def copy_of(core: client.CoreV1Api, uid: str) -> client.V1Secret | None:
    try:
        return core.read_namespaced_secret(f"riposte-copy-{uid}", "riposte")
    except client.ApiException as exc:
        assert exc.status == 404
        return None


def kept(copy: client.V1Secret) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.b64decode(present(copy.data)["object.json"]))
    return value


def events_about(core: client.CoreV1Api, namespace: str, name: str) -> list[client.CoreV1Event]:
    return [
        e
        for e in core.list_namespaced_event(namespace).items
        if e.involved_object.name == name and (meta(e).name or "").startswith("riposte-revert-object-")
    ]


def binding_exists(rbac: client.RbacAuthorizationV1Api, name: str) -> bool:
    return any(meta(b).name == name for b in rbac.list_cluster_role_binding().items)


def cluster_role_exists(rbac: client.RbacAuthorizationV1Api, name: str) -> bool:
    return any(meta(r).name == name for r in rbac.list_cluster_role().items)


def untouched(core: client.CoreV1Api, obj: Any, events_namespace: str = "default") -> None:
    """Nothing was kept or recorded about `obj`."""
    assert copy_of(core, present(meta(obj).uid)) is None
    assert events_about(core, events_namespace, present(meta(obj).name)) == []


def shell(cluster: ControlPlane, command: str) -> str:
    """Run a README command as the admin, with the venv's kubectl; its output."""
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command.replace("kubectl ", f"{manifests.kubectl()} ")],
        env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- each rule acts -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ci-admin", "system:ci-admin"])
def test_a_cluster_admin_binding_is_deleted_after_a_copy_that_restores_it(
    cluster: ControlPlane, core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api,
    http: requests.Session, fn: FunctionProcess, name: str,
) -> None:  # fmt: skip
    """A `system:` prefix chosen by the creator exempts nothing (DESIGN §15)."""
    binding = make_binding(rbac, unique(name))
    name, uid = present(meta(binding).name), present(meta(binding).uid)
    response = post(http, fn.url, binding_alert(binding))
    assert response.status_code == 200, response.text
    assert response.headers["ce-subject"] == f"clusterrolebinding/{name}"
    reply = response.json()
    assert reply["outcome"] == "acted", reply
    assert reply["target"] == {"kind": "ClusterRoleBinding", "namespace": None, "name": name}
    assert reply["copy"] == f"riposte/riposte-copy-{uid}" and reply["uid"] == uid
    assert not binding_exists(rbac, name)

    copy = present(copy_of(core, uid))
    assert present(meta(copy).labels)["riposte.io/copy-of"] == "clusterrolebinding"
    notes = present(meta(copy).annotations)
    assert notes["riposte.io/source-kind"] == "ClusterRoleBinding"
    assert notes["riposte.io/source-namespace"] == ""
    assert notes["riposte.io/source-name"] == name
    assert notes["riposte.io/source-uid"] == uid
    assert notes["riposte.io/source-resource-version"] == meta(binding).resource_version
    assert notes["riposte.io/alert-rule"] == CLUSTER_ADMIN
    assert notes["riposte.io/alert-identity"] == reply["uuid"]
    whole = kept(copy)
    assert whole["kind"] == "ClusterRoleBinding" and whole["metadata"]["uid"] == uid
    assert whole["roleRef"] == {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "cluster-admin"}
    assert whole["subjects"] == [{"kind": "ServiceAccount", "name": "ci-deployer", "namespace": "ci"}]

    [event] = events_about(core, "default", name)
    assert event.involved_object.kind == "ClusterRoleBinding" and event.involved_object.uid == uid
    assert not event.involved_object.namespace and event.event_time is None

    # README "revert-object": a human (with bind/escalate) finds and restores it from the copy.
    listing = shell(
        cluster,
        "kubectl -n riposte get secrets -l riposte.io/copy-of=clusterrolebinding "
        "-o custom-columns='COPY:.metadata.name,SOURCE:.metadata.annotations.riposte\\.io/source-name'",
    )
    assert [f"riposte-copy-{uid}", name] in [line.split() for line in listing.splitlines()]
    shell(
        cluster,
        f"kubectl -n riposte get secret riposte-copy-{uid} -o jsonpath='{{.data.object\\.json}}' "
        "| base64 -d | kubectl create -f -",
    )
    restored = rbac.read_cluster_role_binding(name)
    assert present(restored.role_ref).name == "cluster-admin" and meta(restored).uid != uid


def test_falcos_own_http_output_reverts_too(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess
) -> None:
    """Falco >= 0.39 posting directly: sorted keys, no uuid, nine fractional digits."""
    binding = make_binding(rbac, unique("direct"))
    alert = json.loads((FALCO / "k8saudit_attach_to_cluster_admin_role.json").read_text())
    alert["output_fields"].update(
        {
            "ka.target.name": meta(binding).name,
            "ka.target.namespace": None,
            "ka.target.resource": "clusterrolebindings",
            "ka.verb": "create",
            "ka.response.code": "201",
            "ka.resp.uid": meta(binding).uid,
        }
    )
    body = json.dumps(alert, sort_keys=True)
    response = http.post(fn.url, data=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 200 and response.json()["outcome"] == "acted", response.text
    assert not binding_exists(rbac, present(meta(binding).name))
    assert copy_of(core, present(meta(binding).uid)) is not None


@pytest.mark.parametrize("rule", [WILDCARD, POD_EXEC])
def test_a_cluster_role_is_deleted_naming_its_bindings_and_aggregation(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess,
    namespace: str, rule: str,
) -> None:  # fmt: skip
    name = unique("ops")
    aggregate = {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}
    role = make_role(rbac, name, STAR if rule == WILDCARD else EXEC, labels=aggregate)
    crb = make_binding(rbac, unique("uses-ops"), role=name)
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": "uses-ops"},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "User", "name": "bob"}],
        },
    )
    reply = send(http, fn, role_alert(rule, role))
    assert reply["outcome"] == "acted", reply
    assert reply["target"] == {"kind": "ClusterRole", "namespace": None, "name": name}
    assert not cluster_role_exists(rbac, name)
    assert reply["still_bound"] == sorted(
        [f"clusterrolebinding/{meta(crb).name}", f"{namespace}/rolebinding/uses-ops"]
    )
    assert reply["aggregate_labels"] == ["rbac.authorization.k8s.io/aggregate-to-edit"]
    assert "now grant nothing" in reply["reason"] and "aggregate-to-edit" in reply["reason"]
    assert kept(present(copy_of(core, present(meta(role).uid))))["rules"][0]["apiGroups"] == [""]
    assert len(events_about(core, "default", name)) == 1


@pytest.mark.parametrize(
    ("rule", "rules"),
    [
        (WILDCARD, [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}]),
        (POD_EXEC, [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]}]),  # WebSocket exec
    ],
)
def test_a_namespaced_role_is_deleted(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess,
    namespace: str, rule: str, rules: list[dict[str, Any]],
) -> None:  # fmt: skip
    role = make_role(rbac, "debugger", rules, namespace=namespace)
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": "debuggers"},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "debugger"},
            "subjects": [{"kind": "User", "name": "bob"}],
        },
    )
    response = post(http, fn.url, role_alert(rule, role))
    assert response.headers["ce-subject"] == f"{namespace}/role/debugger"
    reply = response.json()
    assert reply["outcome"] == "acted", reply
    assert rbac.list_namespaced_role(namespace).items == []
    assert reply["still_bound"] == [f"{namespace}/rolebinding/debuggers"]
    assert reply["aggregate_labels"] == []
    [event] = events_about(core, namespace, "debugger")
    assert event.involved_object.kind == "Role" and event.involved_object.namespace == namespace


def test_a_nodeport_service_becomes_cluster_ip_after_a_copy(
    cluster: ControlPlane, core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    service = make_service(core, namespace)
    assert present(present(service.spec).ports)[0].node_port
    response = post(http, fn.url, nodeport_alert(service))
    assert response.headers["ce-subject"] == f"{namespace}/service/web"
    reply = response.json()
    assert reply["outcome"] == "acted", reply
    assert "ClusterIP" in reply["reason"]
    live = core.read_namespaced_service("web", namespace)
    spec = present(live.spec)
    assert spec.type == "ClusterIP" and spec.cluster_ip == present(service.spec).cluster_ip
    assert [(p.port, p.node_port) for p in present(spec.ports)] == [(80, None)]
    assert spec.selector == {"app": "web"}
    assert present(meta(live).annotations)["riposte.io/reverted-from"] == "NodePort"
    copy = present(copy_of(core, present(meta(service).uid)))
    assert present(meta(copy).labels)["riposte.io/copy-of"] == "service"
    assert kept(copy)["spec"]["type"] == "NodePort"
    assert kept(copy)["spec"]["ports"][0]["nodePort"] == present(present(service.spec).ports)[0].node_port
    assert len(events_about(core, namespace, "web")) == 1
    # README "revert-object": a human makes it a NodePort Service again.
    shell(
        cluster,
        f"kubectl -n {namespace} patch service web --type merge "
        """-p '{"metadata":{"annotations":{"riposte.io/reverted-from":null}},"spec":{"type":"NodePort"}}'""",
    )
    again = core.read_namespaced_service("web", namespace)
    assert present(again.spec).type == "NodePort" and present(present(again.spec).ports)[0].node_port
    assert not meta(again).annotations


def test_an_owned_object_is_still_reverted_and_the_owner_named(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "chart"}})
    service = core.create_namespaced_service(
        namespace,
        {
            "metadata": {
                "name": "web",
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": "chart", "uid": meta(owner).uid}
                ],
            },
            "spec": {"type": "NodePort", "ports": [{"port": 80}]},
        },
    )
    reply = send(http, fn, nodeport_alert(service))
    assert reply["outcome"] == "acted", reply
    assert reply["owners"] == ["ConfigMap/chart"]
    assert "owned by ConfigMap/chart, which may re-create it" in reply["reason"]


# -- at most once ---------------------------------------------------------------------------


def test_redeliveries_are_already_done(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess,
    namespace: str,
) -> None:  # fmt: skip
    binding = make_binding(rbac, unique("again"))
    service = make_service(core, namespace)
    for alert in (binding_alert(binding), nodeport_alert(service)):
        assert send(http, fn, alert)["outcome"] == "acted"
        again = send(http, fn, alert)
        assert again["outcome"] == "already-done", again
        assert again["copy"].startswith("riposte/riposte-copy-")
    another = send(http, fn, nodeport_alert(service))  # a new alert about the reverted Service
    assert another["outcome"] == "already-done", another
    assert len(events_about(core, "default", present(meta(binding).name))) == 1
    assert len(events_about(core, namespace, "web")) == 1


@pytest.mark.parametrize("what", ["binding", "service"])
def test_concurrent_duplicates_act_once(
    core: client.CoreV1Api,
    rbac: client.RbacAuthorizationV1Api,
    fn: FunctionProcess,
    namespace: str,
    what: str,
) -> None:
    if what == "binding":
        obj = make_binding(rbac, unique("storm"))
        alert, where, kind = binding_alert(obj), "default", "clusterrolebinding"
    else:
        obj = make_service(core, namespace)
        alert, where, kind = nodeport_alert(obj), namespace, "service"

    def deliver(_: int) -> str:
        with requests.Session() as session:
            outcome: str = send(session, fn, alert)["outcome"]
            return outcome

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(deliver, range(16)))
    assert outcomes.count("acted") == 1 and set(outcomes) == {"acted", "already-done"}, outcomes
    assert len(events_about(core, where, present(meta(obj).name))) == 1
    copies = core.list_namespaced_secret("riposte", label_selector=f"riposte.io/copy-of={kind}").items
    assert (
        len([c for c in copies if present(meta(c).annotations)["riposte.io/source-uid"] == meta(obj).uid])
        == 1
    )


# -- refusals: nothing changed ---------------------------------------------------------------


def test_a_target_that_is_gone_is_refused(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess
) -> None:
    binding = make_binding(rbac, unique("gone"))
    rbac.delete_cluster_role_binding(present(meta(binding).name))
    reply = send(http, fn, binding_alert(binding))
    assert reply["outcome"] == "refused" and "not found" in reply["reason"], reply
    untouched(core, binding)


def test_a_binding_no_longer_to_cluster_admin_is_refused(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess
) -> None:
    """roleRef is immutable: the audited binding was replaced by one to `view` (its uid is
    the alert's, as a forger would send it)."""
    binding = make_binding(rbac, unique("viewer"), role="view")
    reply = send(http, fn, binding_alert(binding))
    assert reply["outcome"] == "refused" and "no longer binds ClusterRole cluster-admin" in reply["reason"]
    assert binding_exists(rbac, present(meta(binding).name))
    untouched(core, binding)


def test_a_role_no_longer_granting_what_the_rule_saw_is_refused(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess
) -> None:
    role = make_role(rbac, unique("was-wild"), STAR)
    name = present(meta(role).name)
    alert = role_alert(WILDCARD, role)
    exec_alert = role_alert(POD_EXEC, role)
    rbac.patch_cluster_role(name, {"rules": HARMLESS})  # tightened since the alert
    for sent, says in ((alert, "has `*`"), (exec_alert, "grants pods/exec")):
        reply = send(http, fn, sent)
        assert reply["outcome"] == "refused" and says in reply["reason"], reply
    assert cluster_role_exists(rbac, name)
    untouched(core, role)


def test_a_service_already_cluster_ip_is_refused(
    core: client.CoreV1Api, http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    service = make_service(core, namespace)
    core.patch_namespaced_service("web", namespace, {"spec": {"type": "ClusterIP"}})  # by its owner
    reply = send(http, fn, nodeport_alert(service))
    assert reply["outcome"] == "refused" and "no longer of type NodePort (now ClusterIP)" in reply["reason"]
    assert meta(core.read_namespaced_service("web", namespace)).annotations is None
    untouched(core, service, namespace)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"ka.response.code": "403"}, "the audited request failed (403)"),
        ({"ka.response.code": "409"}, "the audited request failed (409)"),
        ({"ka.resp.uid": "00000000-0000-0000-0000-000000000000"}, "is another object of that name"),
        ({"ka.resp.uid": None}, "no ka.resp.uid"),
        ({"ka.response.code": None}, "no ka.response.code"),
    ],
)
def test_an_alert_about_a_request_that_did_not_make_this_object_is_refused(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess,
    namespace: str, changes: dict[str, Any], says: str,
) -> None:  # fmt: skip
    """A failed create (403, 409: the name existed) names a legitimate object."""
    binding = make_binding(rbac, unique("legit"))
    service = make_service(core, namespace)
    for alert, obj, where in (
        (binding_alert(binding, **changes), binding, "default"),
        (nodeport_alert(service, **changes), service, namespace),
    ):
        reply = send(http, fn, alert)
        assert reply["outcome"] == "refused" and says in reply["reason"], reply
        untouched(core, obj, where)
    assert binding_exists(rbac, present(meta(binding).name))
    assert present(core.read_namespaced_service("web", namespace).spec).type == "NodePort"


def test_protected_namespaces_are_refused(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess
) -> None:
    role = make_role(rbac, unique("wild"), STAR, namespace="kube-system")
    service = make_service(core, "riposte", unique("own"))
    for alert, says in (
        (role_alert(WILDCARD, role), "protected"),
        (nodeport_alert(service), "riposte's own"),
    ):
        reply = send(http, fn, alert)
        assert reply["outcome"] == "refused" and says in reply["reason"], reply
    assert rbac.read_namespaced_role(present(meta(role).name), "kube-system")
    assert (
        present(core.read_namespaced_service(present(meta(service).name), "riposte").spec).type == "NodePort"
    )


@pytest.mark.parametrize(
    ("kind", "name", "rule"),
    [
        ("ClusterRoleBinding", "cluster-admin", CLUSTER_ADMIN),
        ("ClusterRole", "cluster-admin", WILDCARD),
        ("ClusterRole", "system:aggregate-to-edit", POD_EXEC),
        ("ClusterRole", "admin", POD_EXEC),
    ],
)
def test_bootstrap_objects_are_never_reverted(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess,
    kind: str, name: str, rule: str,
) -> None:  # fmt: skip
    """The apiserver's own bootstrap policy: an alert naming it, with its uid, changes nothing."""
    obj = (
        rbac.read_cluster_role_binding(name) if kind == "ClusterRoleBinding" else rbac.read_cluster_role(name)
    )
    alert = binding_alert(obj) if kind == "ClusterRoleBinding" else role_alert(rule, obj)
    reply = send(http, fn, alert)
    assert reply["outcome"] == "refused" and "bootstrap object" in reply["reason"], reply
    still = (
        rbac.read_cluster_role_binding(name) if kind == "ClusterRoleBinding" else rbac.read_cluster_role(name)
    )
    assert meta(still).uid == meta(obj).uid
    untouched(core, obj)


def test_exempt_objects_are_refused(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, serve: Serve, http: requests.Session,
    namespace: str,
) -> None:  # fmt: skip
    """RIPOSTE_EXEMPT by name, the namespace label, and what the apiserver itself wrote;
    the object's own opt-out label, written by the alerted create, exempts nothing."""
    exempt_name = unique("break-glass")
    fn = serve(FUNCTION, RIPOSTE_EXEMPT=json.dumps([{"kind": "ClusterRoleBinding", "name": exempt_name}]))
    by_name = make_binding(rbac, exempt_name)
    reconciled = make_binding(rbac, unique("reconciled"))
    labelled = make_role(rbac, unique("self-exempt"), STAR, labels={"riposte.io/ignore": "true"})
    core.patch_namespace(namespace, {"metadata": {"labels": {"riposte.io/ignore": "true"}}})
    service = make_service(core, namespace)
    for alert, says in (
        (binding_alert(by_name), "exempt by name"),
        (binding_alert(reconciled, **{"ka.user.name": "system:apiserver"}), "apiserver itself"),
        (nodeport_alert(service), "namespace"),
    ):
        reply = send(http, fn, alert)
        assert reply["outcome"] == "refused" and says in reply["reason"], reply
    assert binding_exists(rbac, exempt_name) and binding_exists(rbac, present(meta(reconciled).name))
    assert present(core.read_namespaced_service("web", namespace).spec).type == "NodePort"
    untouched(core, service, namespace)
    assert send(http, fn, role_alert(WILDCARD, labelled))["outcome"] == "acted"


def test_dry_run_changes_nothing(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, serve: Serve, http: requests.Session,
    namespace: str,
) -> None:  # fmt: skip
    fn = serve(FUNCTION, RIPOSTE_DRY_RUN="true")
    binding = make_binding(rbac, unique("dry"))
    role = make_role(rbac, unique("dry"), EXEC)
    service = make_service(core, namespace)
    for alert, obj, where in (
        (binding_alert(binding), binding, "default"),
        (role_alert(POD_EXEC, role), role, "default"),
        (nodeport_alert(service), service, namespace),
    ):
        reply = send(http, fn, alert)
        assert reply["outcome"] == "dry-run" and reply["reason"].startswith("would copy it and "), reply
        untouched(core, obj, where)
    assert binding_exists(rbac, present(meta(binding).name)) and cluster_role_exists(
        rbac, present(meta(role).name)
    )
    assert present(core.read_namespaced_service("web", namespace).spec).type == "NodePort"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ka.target.name": "a/b"}, "ka.target.name"),
        ({"ka.target.name": ".."}, "ka.target.name"),
        ({"ka.target.name": "x%2F..%2Fy"}, "ka.target.name"),
        ({"ka.target.name": None}, "ka.target.name"),
        ({"ka.target.resource": None}, "ka.target.resource"),
        ({"ka.target.resource": "pods"}, "ka.target.resource"),
        ({"ka.target.resource": "roles", "ka.target.namespace": None}, "ka.target.namespace"),
    ],
)
def test_a_role_alert_without_a_valid_target_is_422_naming_the_field(
    core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, http: requests.Session, fn: FunctionProcess,
    changes: dict[str, Any], field: str,
) -> None:  # fmt: skip
    role = make_role(rbac, unique("target"), STAR)
    response = post(http, fn.url, role_alert(WILDCARD, role, **changes))
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]
    assert cluster_role_exists(rbac, present(meta(role).name))
    untouched(core, role)


def test_an_apiserver_outage_is_a_503_and_the_redelivery_reverts(
    cluster: ControlPlane, core: client.CoreV1Api, rbac: client.RbacAuthorizationV1Api, serve: Serve,
    http: requests.Session,
) -> None:  # fmt: skip
    fn = serve(FUNCTION, RIPOSTE_DEADLINE_SECONDS="2")
    binding = make_binding(rbac, unique("outage"))
    alert = binding_alert(binding)
    cluster.stop_apiserver()
    try:
        down = post(http, fn.url, alert)
        assert down.status_code == 503, down.text
        assert int(down.headers["Retry-After"]) > 0
    finally:
        cluster.start_apiserver()
    assert binding_exists(rbac, present(meta(binding).name))
    again = redeliver_until_answered(lambda: post(http, fn.url, alert))
    assert again.status_code == 200 and again.json()["outcome"] == "acted", again.text
    assert not binding_exists(rbac, present(meta(binding).name))
    assert copy_of(core, present(meta(binding).uid)) is not None
