"""Each function, configured exactly as deploy/knative configures it, acts as its
ServiceAccount.

Per function: the settings of its rendered ConfigMap (the Service's envFrom), the
sender token through RIPOSTE_TOKEN_FILE (as the Secret is mounted), and a real
TokenRequest token of the ServiceAccount rendered from deploy/knative (applied to the
local apiserver by the `plane` fixture). Each action is driven to success with the
request the broker delivers: Falcosidekick's binary-mode CloudEvent, the token in the
`authtoken` extension. A request without the token is refused.

One row per (function, action) in ACTIONS. isolate-pod and notify live on other
branches: when they land, add their rows (e.g. isolate-pod: "Terminal shell in
container" labels the pod and creates its NetworkPolicy; notify: a riposte.action.v1
result reaches a local sink) - nothing else here changes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from tests.deploy.conftest import Doc
from tests.deploy.test_knative import settings
from tests.helpers import cloudevent_headers, configmap_alert, encode


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
    uid = fn.core.read_namespaced_config_map("aws-creds", fn.namespace).metadata.uid
    answer = fn.deliver(configmap_alert(fn.namespace, "aws-creds"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["Ce-Type"] == "riposte.action.v1"
    assert answer.json()["outcome"] == "acted", answer.json()
    with pytest.raises(client.ApiException) as gone:
        fn.core.read_namespaced_config_map("aws-creds", fn.namespace)
    assert gone.value.status == 404
    assert fn.core.read_namespaced_secret(f"riposte-cm-{uid}", "riposte").metadata.name


ACTIONS: list[tuple[str, Callable[[Deployed], None]]] = [
    ("delete-configmap", seed_configmap_is_deleted_with_a_copy),
]


@dataclass
class Fleet:
    """The functions of ACTIONS, running, and the sender token they were given."""

    token: str
    processes: dict[str, FunctionProcess]


@pytest.fixture(scope="module")
def deployed(plane: ControlPlane, knative: list[Doc], tmp_path_factory) -> Iterator[Fleet]:
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
            running[function] = FunctionProcess(function, env, workdir=plane.workdir).wait_ready()
        yield Fleet(token, running)
    finally:
        for process in running.values():
            process.stop()


@pytest.mark.parametrize(("function", "action"), ACTIONS, ids=[f"{f}-{a.__name__}" for f, a in ACTIONS])
def test_function_as_deployed_acts_as_its_serviceaccount(plane, deployed, namespace, function, action):
    process = deployed.processes[function]
    action(Deployed(process, deployed.token, client.CoreV1Api(plane.client()), namespace))


@pytest.mark.parametrize("function", dict(ACTIONS))
def test_function_as_deployed_refuses_a_sender_without_the_token(deployed, namespace, function):
    alert = configmap_alert(namespace, "anything")
    url = deployed.processes[function].url
    answer = requests.post(url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)
    assert answer.status_code == 401, answer.text
