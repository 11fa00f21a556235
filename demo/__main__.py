"""`make demo`: riposte's two scenarios, told step by step to a newcomer.

1. The seed (Falco blog "Detect Malicious Behaviour on Kubernetes API Server through Audit
   Logs"): AWS credentials written into a ConfigMap; the k8saudit rule fires;
   delete-configmap verifies it, keeps a copy, deletes it, records an Event.
2. A shell in a container: the syscall rule "Terminal shell in container" fires;
   isolate-pod labels exactly that pod and denies all its traffic with a NetworkPolicy.
3. A ClusterRoleBinding to cluster-admin: "Attach to cluster-admin Role" fires;
   revert-object checks the live binding, keeps a copy and deletes it.

Everything runs against a real kube-apiserver, each function as its own ServiceAccount.
As on a cluster without a broker, the acting functions POST their results to notify
(RIPOSTE_RESULT_URL), and each alert also reaches notify (as a Knative Trigger would
fan it out). notify's webhook sink is a local recorder: the demo ends with every
notification it received.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any, cast

import requests
from kubernetes import client

from devcluster import manifests
from devcluster.controlplane import ROOT, ControlPlane
from devcluster.functions import FunctionProcess
from devcluster.senders import binding_alert, cloudevent_headers, configmap_alert, encode, shell_alert
from devcluster.sink import RecordingSink

BOLD, DIM, GREEN, RESET = ("\033[1m", "\033[2m", "\033[32m", "\033[0m") if sys.stdout.isatty() else ("",) * 4
TOTAL = 10


def step(number: int, text: str) -> None:
    print(f"\n{BOLD}[{number}/{TOTAL}] {text}{RESET}", flush=True)


def detail(text: str) -> None:
    print(f"      {text}", flush=True)


def main() -> None:
    print(
        f"{BOLD}riposte demo: credentials in a ConfigMap, a shell in a container, "
        f"a binding to cluster-admin{RESET}"
    )
    step(1, "Starting the local control plane (etcd + kube-apiserver 1.20.2)")
    started = time.monotonic()
    with ControlPlane.start() as plane, RecordingSink() as sink, RecordingSink() as sidekick:
        detail(
            f"ready at {plane.url} in {time.monotonic() - started:.1f}s (RBAC on, real ServiceAccount tokens)"
        )
        api = plane.client()
        core = client.CoreV1Api(api)

        step(2, "Installing riposte's namespace, RBAC and budget Leases exactly as shipped in deploy/knative")
        for created in manifests.apply(api, manifests.base()):
            detail(created)

        step(
            3,
            "Starting notify, delete-configmap, isolate-pod and revert-object, each as its own SA",
        )
        notify = FunctionProcess(
            "notify",
            {"RIPOSTE_WEBHOOK_URL": sink.url, "RIPOSTE_FALCOSIDEKICK_URL": sidekick.url},
            workdir=plane.workdir,
        )
        acting = {}
        for name in ("delete-configmap", "isolate-pod", "revert-object"):
            kubeconfig = plane.serviceaccount_kubeconfig("riposte", name)
            env = {"KUBECONFIG": str(kubeconfig), "RIPOSTE_RESULT_URL": notify.url}
            acting[name] = FunctionProcess(name, env, workdir=plane.workdir)
        try:
            for fn in (notify, *acting.values()):
                fn.wait_ready()
                detail(f"{fn.name:17} {fn.url}  (functions-framework --target handle, one process each)")
            detail("tokens minted with the TokenRequest API; notify has no Kubernetes access at all")
            namespace = f"demo-shop-{uuid.uuid4().hex[:4]}"
            core.create_namespace(cast(Any, {"metadata": {"name": namespace}}))
            seed(core, acting["delete-configmap"], notify, namespace)
            shell(plane, core, acting["isolate-pod"], notify, namespace)
            binding(plane, acting["revert-object"], notify)
            notifications(sink, sidekick)
        finally:
            for fn in (notify, *acting.values()):
                fn.stop()
    print(f"\n{GREEN}Done: functions and control plane stopped, nothing left running.{RESET}")


def deliver(fn: FunctionProcess, notify: FunctionProcess, alert: dict[str, Any]) -> requests.Response:
    """What Falcosidekick's cloudevents output sends, to the function and to notify."""
    requests.post(notify.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)
    return requests.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30)


def seed(core: client.CoreV1Api, fn: FunctionProcess, notify: FunctionProcess, namespace: str) -> None:
    step(4, "Scenario 1: someone writes AWS credentials into a ConfigMap")
    detail(f"kubectl create configmap aws-creds --from-literal aws_access_key_id=AKES20LNOA -n {namespace}")
    created = core.create_namespaced_config_map(
        namespace, cast(Any, {"metadata": {"name": "aws-creds"}, "data": {"aws_access_key_id": "AKES20LNOA"}})
    )
    assert created.metadata is not None
    detail(f"created {namespace}/aws-creds (uid {created.metadata.uid})")
    alert = configmap_alert(namespace, "aws-creds")
    headers = cloudevent_headers(alert)
    detail("Falco fires; Falcosidekick's cloudevents output POSTs:")
    for key in ("Ce-Type", "Ce-Rule", "Ce-Priority", "Ce-Source", "Ce-Id"):
        detail(f"  {DIM}{key}: {headers[key]}{RESET}")
    detail(f"  {DIM}output_fields: {json.dumps(alert['output_fields'])}{RESET}")
    detail("  (ka.target.namespace is added by Falco's append_output, see deploy/falco)")

    response = deliver(fn, notify, alert)
    reply = response.json()
    step(
        5,
        f"delete-configmap answered {response.status_code} with a {response.headers.get('ce-type')} event",
    )
    detail(
        f"outcome: {GREEN}{reply['outcome']}{RESET}  reason: {reply['reason']}  ({reply['duration_ms']} ms)"
    )
    detail(f"verified live: credential keys {reply.get('credential_keys')} (values are never logged)")
    gone = not any(
        c.metadata is not None and c.metadata.name == "aws-creds"
        for c in core.list_namespaced_config_map(namespace).items
    )
    detail(f"ConfigMap {namespace}/aws-creds deleted: {gone}")
    copy_name = reply["copy"].split("/", 1)[1]
    copy = core.read_namespaced_secret(copy_name, "riposte").data
    assert copy is not None
    kept = json.loads(base64.b64decode(copy["configmap.json"]))
    detail(f"copy kept: Secret riposte/{copy_name} holding keys {sorted(kept['data'])}")
    for event in core.list_namespaced_event(namespace).items:
        assert event.metadata is not None
        detail(f"Event {event.metadata.name}: {event.reason}")
    detail("its log line:")
    for line in fn.output().splitlines():
        if line.startswith("{"):
            detail(f"  {DIM}{line[:160]}…{RESET}")

    step(6, "Falcosidekick redelivers the same alert; then a human restores the copy")
    again = requests.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30).json()
    detail(f"redelivery outcome: {again['outcome']} ({again['reason']}): acted at most once")
    restored = core.create_namespaced_config_map(namespace, cast(Any, kept))
    assert restored.metadata is not None
    detail(f"restored {namespace}/{restored.metadata.name} from the copy (README: 'Restoring a ConfigMap')")
    core.delete_namespaced_config_map("aws-creds", namespace)
    core.delete_namespaced_secret(copy_name, "riposte")


def shell(
    plane: ControlPlane, core: client.CoreV1Api, fn: FunctionProcess, notify: FunctionProcess, namespace: str
) -> None:
    step(7, "Scenario 2: someone opens a shell in a container")
    pod = core.create_namespaced_pod(
        namespace,
        cast(Any, {"metadata": {"name": "web-1", "labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}),
    )  # fmt: skip
    assert pod.metadata is not None
    core.create_namespaced_pod(
        namespace,
        cast(Any, {"metadata": {"name": "web-2", "labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}),
    )  # fmt: skip
    detail(f"pods web-1 and web-2 in {namespace}; kubectl exec -it web-1 -- bash")
    alert = shell_alert(namespace, "web-1")
    detail(
        f"Falco fires {alert['rule']!r} ({alert['priority']}): k8s.pod.name=web-1, k8s.ns.name={namespace}"
    )
    reply = deliver(fn, notify, alert).json()
    detail(f"isolate-pod outcome: {GREEN}{reply['outcome']}{RESET}  reason: {reply['reason']}")
    web_1 = core.read_namespaced_pod("web-1", namespace).metadata
    web_2 = core.read_namespaced_pod("web-2", namespace).metadata
    assert web_1 is not None and web_2 is not None
    detail(f"web-1 labels: {web_1.labels}  (web-2: {web_2.labels})")
    policy = client.NetworkingV1Api(core.api_client).read_namespaced_network_policy(
        f"riposte-quarantine-{pod.metadata.uid}", namespace
    )
    meta, spec = policy.metadata, policy.spec
    assert meta is not None and meta.owner_references and spec is not None and spec.pod_selector is not None
    detail(
        f"NetworkPolicy {meta.name}: selects {spec.pod_selector.match_labels}, "
        f"policyTypes {spec.policy_types}, no allow rules, "
        f"owned by pod {meta.owner_references[0].name}"
    )
    step(8, "A human lifts the quarantine: hack/release-pod.sh")
    released = subprocess.run(
        ["bash", str(ROOT / "hack" / "release-pod.sh"), namespace, "web-1"],
        env={**os.environ, "KUBECONFIG": str(plane.kubeconfig), "KUBECTL": manifests.kubectl()},
        capture_output=True,
        text=True,
        check=False,
    )
    for line in (released.stdout + released.stderr).strip().splitlines():
        detail(f"{DIM}{line}{RESET}")


def binding(plane: ControlPlane, fn: FunctionProcess, notify: FunctionProcess) -> None:
    step(9, "Scenario 3: someone binds a ServiceAccount to cluster-admin")
    rbac = client.RbacAuthorizationV1Api(plane.client())
    name = f"ci-deployer-admin-{uuid.uuid4().hex[:4]}"
    detail(
        f"kubectl create clusterrolebinding {name} --clusterrole cluster-admin "
        "--serviceaccount ci:ci-deployer"
    )
    created = rbac.create_cluster_role_binding(
        cast(Any, {"metadata": {"name": name},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                               "name": "cluster-admin"},
                   "subjects": [{"kind": "ServiceAccount", "name": "ci-deployer", "namespace": "ci"}]}),
    )  # fmt: skip
    assert created.metadata is not None and created.metadata.uid is not None
    alert = binding_alert(name, created.metadata.uid)
    detail(
        f"Falco fires {alert['rule']!r}: ka.target.name={name}, ka.response.code=201, "
        "ka.resp.uid = the binding's uid (append_output)"
    )
    reply = deliver(fn, notify, alert).json()
    detail(f"revert-object outcome: {GREEN}{reply['outcome']}{RESET}  reason: {reply['reason']}")
    gone = name not in {b.metadata.name for b in rbac.list_cluster_role_binding().items if b.metadata}
    detail(f"ClusterRoleBinding {name} deleted: {gone}")
    copy = client.CoreV1Api(plane.client()).read_namespaced_secret(
        f"riposte-copy-{created.metadata.uid}", "riposte"
    )
    assert copy.metadata is not None and copy.data is not None
    kept = json.loads(base64.b64decode(copy.data["object.json"]))
    detail(
        f"copy kept: Secret riposte/{copy.metadata.name} holding the binding as read "
        f"(roleRef {kept['roleRef']['name']})"
    )
    detail("restoring it is a human's act (riposte holds no bind/escalate), README 'revert-object':")
    detail(
        f"  {DIM}kubectl -n riposte get secret {copy.metadata.name} -o jsonpath='{{.data.object\\.json}}' "
        f"| base64 -d | kubectl create -f -{RESET}"
    )


def notifications(sink: RecordingSink, sidekick: RecordingSink) -> None:
    step(10, f"Every notification the webhook sink received ({len(sink.received)})")
    for message in sink.received:
        detail(f"{BOLD}{message['title']}{RESET}")
        detail(f"  {message['text']}")
    detail("(the redelivery's `already-done` sent nothing: one message per alert, one per action)")
    detail(f"{BOLD}What notify handed Falcosidekick for the seed's result{RESET} (its UI and every output")
    detail("it feeds show it beside the alert; `source: riposte` is never acted on or announced again):")
    for line in json.dumps(sidekick.received[0], indent=2).splitlines():
        detail(f"  {DIM}{line}{RESET}")


if __name__ == "__main__":
    main()
