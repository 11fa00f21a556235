"""isolate-pod against the real apiserver, as its own ServiceAccount, over real HTTP.

Covers every pod alert shape (syscall, k8s_audit exec, k8s_audit creates with
ka.resp.name), the quarantine (uid label, one NetworkPolicy selecting only that label,
Ingress+Egress with no allow rules, ownerReference to the pod), re-runs as no-ops, the
`partial` verdict when other NetworkPolicies still allow traffic, the DNS option, every
refusal (hostNetwork, protected or own namespace, opt-out label, pod gone), dry-run, and
the documented release script. Exemptions and failed requests: test_exemptions.py.
"""

from __future__ import annotations

import copy
import os
import subprocess
import uuid as uuidlib
from typing import Any

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ROOT, ControlPlane
from devcluster.functions import FunctionProcess
from tests.conftest import Serve
from tests.helpers import cloudevent_headers, encode, labels_of, meta, name_of, present, shell_alert, sidekick

FUNCTION = "isolate-pod"
LABEL = "riposte.io/quarantine"


@pytest.fixture(scope="module")
def net(cluster: ControlPlane) -> client.NetworkingV1Api:
    return client.NetworkingV1Api(cluster.client())


@pytest.fixture
def fn(serve: Serve) -> FunctionProcess:
    return serve(FUNCTION)


def make_pod(
    core: client.CoreV1Api,
    namespace: str,
    name: str = "web-1",
    labels: dict[str, str] | None = None,
    host_network: bool = False,
) -> client.V1Pod:
    spec = {"containers": [{"name": "c", "image": "nginx:1.27"}], "hostNetwork": host_network}
    return core.create_namespaced_pod(
        namespace, {"metadata": {"name": name, "labels": labels or {}}, "spec": spec}
    )


def send(http: requests.Session, fn: FunctionProcess, alert: dict[str, Any]) -> requests.Response:
    return http.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert))


def policies(net: client.NetworkingV1Api, namespace: str) -> dict[str, client.V1NetworkPolicy]:
    return {name_of(p): p for p in net.list_namespaced_network_policy(namespace).items}


def riposte_events(core: client.CoreV1Api, namespace: str) -> list[client.CoreV1Event]:
    return [e for e in core.list_namespaced_event(namespace).items if name_of(e).startswith("riposte-")]


def assert_untouched(
    core: client.CoreV1Api, net: client.NetworkingV1Api, namespace: str, name: str = "web-1"
) -> None:
    pod = core.read_namespaced_pod(name, namespace)
    assert LABEL not in (meta(pod).labels or {})
    assert not [n for n in policies(net, namespace) if n.startswith("riposte-")]
    assert riposte_events(core, namespace) == []


def test_a_shell_in_a_container_isolates_exactly_that_pod(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    pod = make_pod(core, namespace, labels={"app": "web"})
    make_pod(core, namespace, name="web-2", labels={"app": "web"})
    alert = shell_alert(namespace, "web-1")
    response = send(http, fn, alert)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["outcome"] == "acted", reply
    assert response.headers["ce-subject"] == f"{namespace}/pod/web-1"
    uid = meta(pod).uid

    assert meta(core.read_namespaced_pod("web-1", namespace)).labels == {"app": "web", LABEL: uid}
    assert LABEL not in labels_of(core.read_namespaced_pod("web-2", namespace))
    [name] = policies(net, namespace)
    assert name == f"riposte-quarantine-{uid}"
    quarantine = net.read_namespaced_network_policy(name, namespace)
    assert quarantine.metadata is not None and quarantine.metadata.owner_references is not None
    assert quarantine.spec is not None and quarantine.spec.pod_selector is not None
    assert quarantine.spec.policy_types is not None
    assert quarantine.spec.pod_selector.match_labels == {LABEL: uid}
    assert quarantine.spec.pod_selector.match_expressions is None
    assert sorted(quarantine.spec.policy_types) == ["Egress", "Ingress"]
    assert not quarantine.spec.ingress and not quarantine.spec.egress
    [owner] = quarantine.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.api_version) == ("Pod", "web-1", uid, "v1")
    assert owner.block_owner_deletion is None
    [event] = riposte_events(core, namespace)
    assert event.message is not None
    assert event.involved_object.uid == uid
    assert alert["uuid"] in event.message


def test_rerunning_is_a_no_op(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    make_pod(core, namespace)
    alert = shell_alert(namespace, "web-1")
    assert send(http, fn, alert).json()["outcome"] == "acted"
    assert send(http, fn, alert).json()["outcome"] == "already-done"
    another = send(http, fn, shell_alert(namespace, "web-1")).json()
    assert another["outcome"] == "already-done"
    assert "already isolated" in another["reason"]
    assert len(policies(net, namespace)) == 1
    assert len(riposte_events(core, namespace)) == 1


def test_a_labelled_pod_whose_policy_is_gone_is_isolated_again_and_recorded(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    """A half-done release (or someone deleting the policy) leaves the label without the
    policy: the next alert re-creates the policy and says so, with an Event of its own."""
    pod = make_pod(core, namespace)
    assert send(http, fn, shell_alert(namespace, "web-1")).json()["outcome"] == "acted"
    assert pod.metadata is not None
    net.delete_namespaced_network_policy(f"riposte-quarantine-{pod.metadata.uid}", namespace)
    assert LABEL in labels_of(core.read_namespaced_pod("web-1", namespace))

    second = shell_alert(namespace, "web-1")
    reply = send(http, fn, second).json()
    assert reply["outcome"] == "acted", reply
    assert "re-created" in reply["reason"]
    assert list(policies(net, namespace)) == [f"riposte-quarantine-{pod.metadata.uid}"]
    events = riposte_events(core, namespace)
    assert len(events) == 2
    assert any(
        second["uuid"] in present(event.message) and "re-created" in present(event.message)
        for event in events
    )


@pytest.mark.parametrize(
    ("fixture", "name_field", "code"),
    [
        ("k8saudit_attach_exec_pod", "ka.target.name", "101"),  # the exec stream started
        ("k8saudit_create_privileged_pod", "ka.resp.name", "201"),
        ("k8saudit_create_sensitive_mount_pod", "ka.resp.name", "201"),
    ],
)
def test_k8s_audit_pod_alerts_isolate_their_pod(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
    fixture: str,
    name_field: str,
    code: str,
) -> None:
    """With the fields deploy/falco appends: the response code, and for creates the uid of
    the pod the audited request made."""
    pod = make_pod(core, namespace, name="target-pod")
    alert = copy.deepcopy(sidekick(fixture))
    alert["output_fields"][name_field] = "target-pod"
    alert["output_fields"]["ka.target.namespace"] = namespace
    alert["output_fields"]["ka.response.code"] = code
    if name_field == "ka.resp.name":
        alert["output_fields"]["ka.resp.uid"] = meta(pod).uid
    reply = send(http, fn, alert).json()
    assert reply["outcome"] == "acted", reply
    assert LABEL in labels_of(core.read_namespaced_pod("target-pod", namespace))


def test_other_policies_still_allowing_traffic_make_it_partial(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    make_pod(core, namespace, labels={"app": "web", "tier": "front"})
    net.create_namespaced_network_policy(namespace, {
        "metadata": {"name": "allow-web"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"ports": [{"port": 80}]}]},
    })  # fmt: skip
    net.create_namespaced_network_policy(namespace, {
        "metadata": {"name": "front-egress"},
        "spec": {
            "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
        },
    })  # fmt: skip
    net.create_namespaced_network_policy(namespace, {
        "metadata": {"name": "allow-db"},
        "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{}]},
    })  # fmt: skip
    net.create_namespaced_network_policy(namespace, {
        "metadata": {"name": "deny-all"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    })  # fmt: skip
    reply = send(http, fn, shell_alert(namespace, "web-1")).json()
    assert reply["outcome"] == "partial"
    assert reply["still_allowing"] == {"allow-web": ["Ingress"], "front-egress": ["Egress"]}
    assert "allow-web (ingress)" in reply["reason"] and "front-egress (egress)" in reply["reason"]
    assert "allow-db" not in reply["reason"] and "deny-all" not in reply["reason"]
    assert LABEL in labels_of(core.read_namespaced_pod("web-1", namespace))


def test_dns_egress_option_is_applied_and_said(
    core: client.CoreV1Api, net: client.NetworkingV1Api, http: requests.Session, serve: Serve, namespace: str
) -> None:
    fn = serve(FUNCTION, RIPOSTE_ISOLATE_ALLOW_DNS="true")
    pod = make_pod(core, namespace)
    reply = send(http, fn, shell_alert(namespace, "web-1")).json()
    assert reply["outcome"] == "acted"
    assert "DNS egress allowed" in reply["reason"]
    quarantine = net.read_namespaced_network_policy(f"riposte-quarantine-{meta(pod).uid}", namespace)
    assert quarantine.spec is not None and quarantine.spec.egress is not None
    [rule] = quarantine.spec.egress
    assert rule.ports is not None
    assert sorted((p.protocol, p.port) for p in rule.ports) == [("TCP", 53), ("UDP", 53)]
    assert not quarantine.spec.ingress


def test_host_network_pods_are_refused(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    make_pod(core, namespace, host_network=True)
    reply = send(http, fn, shell_alert(namespace, "web-1")).json()
    assert reply["outcome"] == "refused"
    assert "hostNetwork" in reply["reason"]
    assert_untouched(core, net, namespace)


def test_the_opt_out_label_exempts_a_pod_from_shell_alerts_and_ripostes_label_exempts_nothing(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    """A syscall alert is not about the request that wrote the pod's labels, so its
    riposte.io/ignore still counts. riposte's own pods are those in its namespace (always
    protected): `app.kubernetes.io/part-of: riposte` copied onto a foreign pod is just a
    label (DESIGN §15, changed on purpose)."""
    make_pod(core, namespace, labels={"riposte.io/ignore": "true"})
    make_pod(core, namespace, name="riposte-fn", labels={"app.kubernetes.io/part-of": "riposte"})
    assert send(http, fn, shell_alert(namespace, "web-1")).json()["outcome"] == "refused"
    assert_untouched(core, net, namespace)
    copied = send(http, fn, shell_alert(namespace, "riposte-fn")).json()
    assert copied["outcome"] == "acted", copied
    assert LABEL in labels_of(core.read_namespaced_pod("riposte-fn", namespace))


def test_opt_out_on_the_namespace_is_refused(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    core.patch_namespace(namespace, {"metadata": {"labels": {"riposte.io/ignore": "true"}}})
    make_pod(core, namespace)
    assert send(http, fn, shell_alert(namespace, "web-1")).json()["outcome"] == "refused"
    assert_untouched(core, net, namespace)


@pytest.mark.parametrize("protected", ["kube-system", "riposte"])
def test_protected_namespaces_are_refused(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    protected: str,
) -> None:
    name = f"shell-{os.urandom(3).hex()}"
    make_pod(core, protected, name=name)
    reply = send(http, fn, shell_alert(protected, name)).json()
    assert reply["outcome"] == "refused"
    assert LABEL not in (meta(core.read_namespaced_pod(name, protected)).labels or {})


def test_a_pod_that_does_not_exist_is_refused(
    http: requests.Session, fn: FunctionProcess, namespace: str
) -> None:
    reply = send(http, fn, shell_alert(namespace, "gone")).json()
    assert reply["outcome"] == "refused"
    assert "not found" in reply["reason"]


def test_missing_pod_name_is_422(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    make_pod(core, namespace)
    alert = shell_alert(namespace, "web-1")
    alert["output_fields"]["k8s.pod.name"] = "<NA>"
    response = send(http, fn, alert)
    assert response.status_code == 422
    assert "k8s.pod.name" in response.json()["error"]
    assert_untouched(core, net, namespace)


def test_dry_run_changes_nothing(
    core: client.CoreV1Api, net: client.NetworkingV1Api, http: requests.Session, serve: Serve, namespace: str
) -> None:
    fn = serve(FUNCTION, RIPOSTE_DRY_RUN="true")
    make_pod(core, namespace)
    reply = send(http, fn, shell_alert(namespace, "web-1")).json()
    assert reply["outcome"] == "dry-run"
    assert_untouched(core, net, namespace)


def test_a_foreign_policy_with_the_quarantine_name_is_not_trusted(
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    pod = make_pod(core, namespace)
    net.create_namespaced_network_policy(namespace, {
        "metadata": {"name": f"riposte-quarantine-{meta(pod).uid}"},
        "spec": {"podSelector": {}, "ingress": [{}]},
    })  # fmt: skip
    reply = send(http, fn, shell_alert(namespace, "web-1")).json()
    assert reply["outcome"] == "failed"
    assert "not riposte's" in reply["reason"]


def test_the_release_script_lifts_the_quarantine(
    cluster: ControlPlane,
    core: client.CoreV1Api,
    net: client.NetworkingV1Api,
    http: requests.Session,
    fn: FunctionProcess,
    namespace: str,
) -> None:
    make_pod(core, namespace, labels={"app": "web"})
    assert send(http, fn, shell_alert(namespace, "web-1")).json()["outcome"] == "acted"
    result = subprocess.run(
        ["bash", str(ROOT / "hack" / "release-pod.sh"), namespace, "web-1"],
        env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert meta(core.read_namespaced_pod("web-1", namespace)).labels == {"app": "web"}
    assert policies(net, namespace) == {}


def add_ephemeral(cluster_api: client.ApiClient, namespace: str, pod: str, name: str) -> None:
    """What `kubectl debug` does on 1.20 (alpha there, on in the test control plane)."""
    body = {
        "apiVersion": "v1",
        "kind": "EphemeralContainers",
        "metadata": {"name": pod, "namespace": namespace},
        "ephemeralContainers": [{
            "name": name, "image": "busybox", "targetContainerName": "c",
            "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
        }],
    }  # fmt: skip
    serialized = cluster_api.param_serialize(
        "PUT",
        f"/api/v1/namespaces/{namespace}/pods/{pod}/ephemeralcontainers",
        body=body,
        header_params={"Content-Type": "application/json", "Accept": "application/json"},
        auth_settings=["BearerToken"],
    )
    assert cluster_api.call_api(*serialized).status == 200


def ephemeral_alert(namespace: str, pod: str, container: str, code: str = "200") -> dict[str, Any]:
    """Falco's "EphemeralContainers Created", with the fields deploy/falco appends."""
    return {
        "uuid": str(uuidlib.uuid4()),
        "output": f"Notice Ephemeral container is created in pod (user=mallory pod={pod} ns={namespace} "
        f"ephemeral_container_name={container} ephemeral_container_image=busybox)",
        "priority": "Notice",
        "rule": "EphemeralContainers Created",
        "time": "2026-07-14T10:01:02.5Z",
        "output_fields": {
            "ka.user.name": "mallory",
            "ka.target.name": pod,
            "ka.target.namespace": namespace,
            "ka.target.resource": "pods",
            "ka.target.subresource": "ephemeralcontainers",
            "ka.verb": "update",
            "ka.response.code": code,
            "jevt.value[/requestObject/ephemeralContainers/0/name]": container,
            "jevt.value[/requestObject/ephemeralContainers/0/image]": "busybox",
        },
        "source": "k8s_audit",
        "tags": ["k8s"],
        "hostname": "ip-10-0-3-17",
    }


def test_an_ephemeral_container_added_to_a_pod_isolates_it(
    cluster: ControlPlane, core: client.CoreV1Api, net: client.NetworkingV1Api, http: requests.Session,
    fn: FunctionProcess, namespace: str,
) -> None:  # fmt: skip
    make_pod(core, namespace)
    add_ephemeral(cluster.client(), namespace, "web-1", "debugger")
    reply = send(http, fn, ephemeral_alert(namespace, "web-1", "debugger")).json()
    assert reply["outcome"] == "acted", reply
    assert LABEL in labels_of(core.read_namespaced_pod("web-1", namespace))


@pytest.mark.parametrize(("code", "says"), [("200", "no ephemeral container"), ("403", "failed (403)")])
def test_a_denied_ephemeral_container_patch_isolates_nothing(
    core: client.CoreV1Api, net: client.NetworkingV1Api, http: requests.Session, fn: FunctionProcess,
    namespace: str, code: str, says: str,
) -> None:  # fmt: skip
    """The rule fires on denied patches: without the container on the live pod, any user
    could otherwise have any pod isolated."""
    make_pod(core, namespace)
    reply = send(http, fn, ephemeral_alert(namespace, "web-1", "debugger", code)).json()
    assert reply["outcome"] == "refused" and says in reply["reason"], reply
    assert_untouched(core, net, namespace)


@pytest.mark.parametrize(
    "rule",
    [
        "Netcat Remote Code Execution in Container",
        "Redirect STDOUT/STDIN to Network Connection in Container",
        "Packet socket created in container",
    ],
)
def test_the_container_network_rules_isolate_the_pod(
    core: client.CoreV1Api, net: client.NetworkingV1Api, http: requests.Session, fn: FunctionProcess,
    namespace: str, rule: str,
) -> None:  # fmt: skip
    make_pod(core, namespace)
    alert = shell_alert(namespace, "web-1")
    alert["rule"] = rule
    assert send(http, fn, alert).json()["outcome"] == "acted"
    assert LABEL in labels_of(core.read_namespaced_pod("web-1", namespace))
