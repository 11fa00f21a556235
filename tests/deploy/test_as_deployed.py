"""Each function, configured exactly as deploy/knative configures it, acts as its
ServiceAccount.

Per function: the settings of its rendered ConfigMap (the Service's envFrom), the
sender token through RIPOSTE_TOKEN_FILE (as the Secret is mounted), and a real
TokenRequest token of the ServiceAccount rendered from deploy/knative (applied to the
local apiserver by the `plane` fixture). Each action is driven to success with the
request the broker delivers: Falcosidekick's binary-mode CloudEvent, the token in the
`authtoken` extension. A request without the token is refused.

One row per (function, action) in ACTIONS. notify's sink is a local recording server
(Slack and Teams cannot run here), set through the URL setting its Secret would mount.
interact, which answers people rather than the broker, has a test of its own: as
deployed, it fails closed until its deployer sets up who may decide.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from devcluster.senders import binding_alert
from shared import alert as alert_model
from shared import targets
from shared.approval import links, record, store
from shared.deadline import Deadline
from shared.kube.client import Kube
from tests.deploy.conftest import Doc
from tests.deploy.test_knative import container, services, settings
from tests.helpers import (
    action_result,
    cloudevent_headers,
    configmap_alert,
    encode,
    labels_of,
    meta,
    result_event,
    shell_alert,
)
from tests.integration.fakesinks import FakeSink


@dataclass
class Deployed:
    """A running function as deployed, and what a row needs to drive it."""

    process: FunctionProcess
    token: str
    core: client.CoreV1Api
    namespace: str

    def deliver(self, alert: dict[str, object]) -> requests.Response:
        """POST `alert` as the broker delivers Falcosidekick's CloudEvent."""
        headers = cloudevent_headers(alert, authtoken=self.token)
        return requests.post(self.process.url, data=encode(alert), headers=headers, timeout=30)


def seed_configmap_is_deleted_with_a_copy(fn: Deployed) -> None:
    """The seed: `kubectl create configmap aws-creds --from-literal aws_access_key_id=...`."""
    fn.core.create_namespaced_config_map(
        fn.namespace,
        {"metadata": {"name": "aws-creds"}, "data": {"aws_access_key_id": "AKES20LNOA"}},
    )
    uid = meta(fn.core.read_namespaced_config_map("aws-creds", fn.namespace)).uid
    answer = fn.deliver(configmap_alert(fn.namespace, "aws-creds"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["Ce-Type"] == "riposte.action.v1"
    assert answer.json()["outcome"] == "acted", answer.json()
    with pytest.raises(client.ApiException) as gone:
        fn.core.read_namespaced_config_map("aws-creds", fn.namespace)
    assert gone.value.status == 404
    assert meta(fn.core.read_namespaced_secret(f"riposte-cm-{uid}", "riposte")).name


def shell_in_a_container_isolates_the_pod(fn: Deployed) -> None:
    """Falco's "Terminal shell in container": the pod is labelled and its policy created."""
    pod = fn.core.create_namespaced_pod(
        fn.namespace,
        {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
    )
    answer = fn.deliver(shell_alert(fn.namespace, "web-1"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "acted", answer.json()
    labels = labels_of(fn.core.read_namespaced_pod("web-1", fn.namespace))
    assert labels["riposte.io/quarantine"] == meta(pod).uid
    policy = client.NetworkingV1Api(fn.core.api_client).read_namespaced_network_policy(
        f"riposte-quarantine-{meta(pod).uid}", fn.namespace
    )
    assert policy.spec is not None and policy.spec.policy_types is not None
    assert sorted(policy.spec.policy_types) == ["Egress", "Ingress"]


def binding_to_cluster_admin_is_deleted_with_a_copy(fn: Deployed) -> None:
    """Falco's "Attach to cluster-admin Role": the binding is copied, then deleted."""
    rbac = client.RbacAuthorizationV1Api(fn.core.api_client)
    name = f"{fn.namespace}-admin"
    binding = rbac.create_cluster_role_binding(
        {"metadata": {"name": name},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "ci-deployer", "namespace": fn.namespace}]}
    )  # fmt: skip
    uid = meta(binding).uid
    assert uid is not None
    answer = fn.deliver(binding_alert(name, uid))
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "acted", answer.json()
    assert name not in {meta(b).name for b in rbac.list_cluster_role_binding().items}
    assert meta(fn.core.read_namespaced_secret(f"riposte-copy-{uid}", "riposte")).name


def _running_pod(fn: Deployed, name: str) -> tuple[str, dict[str, object]]:
    """A pod with a running container (status as a kubelet writes it) and an alert about it
    with the fields deploy/falco appends (k8s.pod.uid, container.id)."""
    pod = fn.core.create_namespaced_pod(
        fn.namespace, {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    )
    container = "3ad7b26ded6d" + "5" * 52
    running = {"name": "c", "image": "x", "imageID": "", "ready": True, "restartCount": 0,
               "containerID": f"containerd://{container}", "state": {"running": {}}}  # fmt: skip
    status = {"containerStatuses": [running]}
    fn.core.patch_namespaced_pod_status(name, fn.namespace, {"status": status})
    alert = shell_alert(fn.namespace, name)
    alert["output_fields"].update({"k8s.pod.uid": meta(pod).uid, "container.id": container[:12]})
    return meta(pod).uid or "", alert


def a_sensitive_read_keeps_evidence(fn: Deployed) -> None:
    """Falco's "Read sensitive file untrusted": one evidence Secret for the pod's uid."""
    uid, alert = _running_pod(fn, "web-1")
    alert.update(rule="Read sensitive file untrusted", priority="Warning")
    answer = fn.deliver(alert)
    assert answer.status_code == 200 and answer.json()["outcome"] == "acted", answer.text
    assert meta(fn.core.read_namespaced_secret(f"riposte-evidence-{uid}", "riposte")).name


def a_dropped_binary_terminates_the_pod(fn: Deployed) -> None:
    """Falco's "Drop and execute new binary in container": evidence kept, pod deleted."""
    uid, alert = _running_pod(fn, "web-2")
    alert.update(rule="Drop and execute new binary in container", priority="Critical")
    answer = fn.deliver(alert)
    assert answer.status_code == 200 and answer.json()["outcome"] == "acted", answer.text
    assert fn.core.list_namespaced_pod(fn.namespace).items == []
    assert meta(fn.core.read_namespaced_secret(f"riposte-evidence-{uid}", "riposte")).name


def alert_and_result_reach_the_sink(fn: Deployed) -> None:
    """A Warning alert and a riposte.action.v1 result each make one message."""
    before = len(SINK.accepted())
    assert fn.deliver(configmap_alert(fn.namespace, "aws-creds")).status_code == 204
    result = action_result(
        configmap_alert(fn.namespace, "aws-creds"),
        target=targets.Target("ConfigMap", fn.namespace, "aws-creds"),
        reason="deleted; copy kept in riposte/riposte-cm-x",
        duration_ms=5,
    )
    headers, body = result_event(result, token=fn.token)
    answer = requests.post(fn.process.url, data=body, headers=headers, timeout=30)
    assert answer.status_code == 204, answer.text
    messages = [m.json() for m in SINK.accepted()[before:]]
    assert [m["kind"] for m in messages] == ["alert", "result"]


ACTIONS: list[tuple[str, Callable[[Deployed], None]]] = [
    ("delete-configmap", seed_configmap_is_deleted_with_a_copy),
    ("isolate-pod", shell_in_a_container_isolates_the_pod),
    ("revert-object", binding_to_cluster_admin_is_deleted_with_a_copy),
    ("capture-evidence", a_sensitive_read_keeps_evidence),
    ("terminate-pod", a_dropped_binary_terminates_the_pod),
    ("notify", alert_and_result_reach_the_sink),
]
SINK = FakeSink("webhook")


@dataclass
class Fleet:
    """The functions of ACTIONS, running, and the sender token they were given."""

    token: str
    processes: dict[str, FunctionProcess]


@pytest.fixture(scope="module")
def deployed(
    plane: ControlPlane, knative: list[Doc], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    """Each function of ACTIONS, started once with its deployed configuration."""
    workdir: Path = tmp_path_factory.mktemp("deployed")
    token = secrets.token_urlsafe(24)
    (workdir / "token").write_text(token + "\n")  # as a mounted Secret: a trailing newline
    running: dict[str, FunctionProcess] = {}
    try:
        for function in dict(ACTIONS):
            env = {
                **settings(knative, function),
                "RIPOSTE_TOKEN_FILE": str(workdir / "token"),
                "KUBECONFIG": str(plane.serviceaccount_kubeconfig("riposte", function)),
            }
            if function == "notify":  # the sink its Secret would name, and no API token at all
                env = {k: v for k, v in env.items() if k != "KUBECONFIG"} | {"RIPOSTE_WEBHOOK_URL": SINK.url}
                env = {k: v for k, v in env.items() if not k.endswith("WEBHOOK_URL_FILE")}
            running[function] = FunctionProcess(function, env, workdir=plane.workdir).wait_ready()
        yield Fleet(token, running)
    finally:
        for process in running.values():
            process.stop()


@pytest.mark.parametrize(("function", "action"), ACTIONS, ids=[f"{f}-{a.__name__}" for f, a in ACTIONS])
def test_function_as_deployed_acts_as_its_serviceaccount(
    plane: ControlPlane, deployed: Fleet, namespace: str, function: str, action: Callable[[Deployed], None]
) -> None:
    process = deployed.processes[function]
    action(Deployed(process, deployed.token, client.CoreV1Api(plane.client()), namespace))


@pytest.mark.parametrize("function", dict(ACTIONS))
def test_function_as_deployed_refuses_a_sender_without_the_token(
    deployed: Fleet, namespace: str, function: str
) -> None:
    alert = configmap_alert(namespace, "anything")
    url = deployed.processes[function].url
    answer = requests.post(url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)
    assert answer.status_code == 401, answer.text


def test_interact_as_deployed_fails_closed_until_its_deployer_sets_it_up(
    plane: ControlPlane, knative: list[Doc], namespace: str, tmp_path: Path
) -> None:
    """interact with its rendered settings and its secrets as mounted files, as its own
    ServiceAccount: the review page shows what would be done, and nothing decides until
    the deployer sets up SSO or anyone-with-link, and then only from RIPOSTE_INTERACT_URL's
    origin (the rendered placeholder), never from the address it happens to be reached at."""
    key, link = secrets.token_hex(32), secrets.token_hex(32)
    files = {
        "RIPOSTE_TOKEN_FILE": secrets.token_urlsafe(24),
        "RIPOSTE_APPROVAL_KEY_FILE": key,
        "RIPOSTE_LINK_SECRET_FILE": link,
        "RIPOSTE_SLACK_SIGNING_SECRET_FILE": secrets.token_hex(16),
    }
    rendered = {
        e["name"] for e in container(services(knative)["interact"])["env"] if e["name"].endswith("_FILE")
    }
    assert rendered == set(files)
    env = {
        **settings(knative, "interact"),
        "KUBECONFIG": str(plane.serviceaccount_kubeconfig("riposte", "interact")),
        "K_SINK": SINK.url,  # what its SinkBinding injects
    }
    for variable, value in files.items():
        (tmp_path / variable).write_text(value + "\n")
        env[variable] = str(tmp_path / variable)
    admin = Kube(str(plane.kubeconfig))
    asked = record.request(
        function="delete-configmap", action="copy and delete (credential keys: password)",
        alert=alert_model.parse(configmap_alert(namespace, "aws-creds")),
        target=targets.Target("ConfigMap", namespace, "aws-creds"), target_uid="u-1",
        now=datetime.datetime.now(datetime.UTC), ttl_seconds=900, key=key,
    )  # fmt: skip
    approval = store.create(admin, Deadline(10), asked)
    url_path = f"/review/{links.dumps([link], links.Purpose.DECIDE, {'id': approval.id})}"
    with FunctionProcess("interact", env, workdir=plane.workdir) as process:
        process.wait_ready()
        page = requests.get(process.url + url_path, timeout=30)
        assert page.status_code == 200 and "Approve or reject?" in page.text
        assert "needs a signed-in approver" in page.text and "<form" not in page.text
        form = {"choice": "approve"}
        here = requests.post(process.url + url_path, data=form, headers={"Origin": process.url}, timeout=30)
        assert here.status_code == 403 and "own review page" in here.text
        public = {"Origin": "https://riposte-interact.example.com"}
        there = requests.post(process.url + url_path, data=form, headers=public, timeout=30)
        assert there.status_code == 403 and "needs a signed-in approver" in there.text
    after = store.get(admin, Deadline(10), approval.id)
    assert after is not None and after.state is record.State.PENDING
