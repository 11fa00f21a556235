"""The seed scenario, told step by step to a newcomer.

Falco blog "Detect Malicious Behaviour on Kubernetes API Server through Audit Logs":
someone writes AWS credentials into a ConfigMap; Falco's k8saudit rule fires;
Falcosidekick forwards the alert as a CloudEvent. The blog stops there. Here
delete-configmap, running as its own ServiceAccount against a real kube-apiserver,
verifies the ConfigMap, keeps a copy, deletes it and records an Event.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import uuid

import requests
from kubernetes import client

from devcluster import manifests
from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from devcluster.senders import cloudevent_headers, configmap_alert, encode

BOLD, DIM, GREEN, RESET = ("\033[1m", "\033[2m", "\033[32m", "\033[0m") if sys.stdout.isatty() else ("",) * 4


def step(number: int, total: int, text: str) -> None:
    print(f"\n{BOLD}[{number}/{total}] {text}{RESET}", flush=True)


def detail(text: str) -> None:
    print(f"      {text}", flush=True)


def main() -> None:
    total = 7
    print(f"{BOLD}riposte demo: the seed scenario (credentials in a ConfigMap){RESET}")
    step(1, total, "Starting the local control plane (etcd + kube-apiserver 1.20.2)")
    started = time.monotonic()
    with ControlPlane.start() as plane:
        detail(
            f"ready at {plane.url} in {time.monotonic() - started:.1f}s (RBAC on, real ServiceAccount tokens)"
        )
        api = plane.client()
        core = client.CoreV1Api(api)

        step(2, total, "Installing riposte's namespace and RBAC exactly as shipped in deploy/knative")
        for created in manifests.apply(api, manifests.base()):
            detail(created)

        step(3, total, "Starting delete-configmap as ServiceAccount riposte/delete-configmap")
        kubeconfig = plane.serviceaccount_kubeconfig("riposte", "delete-configmap")
        detail("token minted with the TokenRequest API; the function can do only what its Role allows")
        with FunctionProcess(
            "delete-configmap", {"KUBECONFIG": str(kubeconfig)}, workdir=plane.workdir
        ) as fn:
            fn.wait_ready()
            detail(
                f"functions-framework --target handle --source functions/delete_configmap/main.py  ({fn.url})"
            )
            seed(core, fn, total)
    print(f"\n{GREEN}Done: control plane stopped, nothing left running.{RESET}")


def seed(core: client.CoreV1Api, fn: FunctionProcess, total: int) -> None:
    namespace = f"demo-shop-{uuid.uuid4().hex[:4]}"
    core.create_namespace({"metadata": {"name": namespace}})
    step(4, total, "Someone writes AWS credentials into a ConfigMap")
    detail(f"kubectl create configmap aws-creds --from-literal aws_access_key_id=AKES20LNOA -n {namespace}")
    created = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"aws_access_key_id": "AKES20LNOA"}}
    )
    detail(f"created {namespace}/aws-creds (uid {created.metadata.uid})")

    step(5, total, "Falco fires; Falcosidekick's cloudevents output POSTs this request")
    alert = configmap_alert(namespace, "aws-creds")
    headers = cloudevent_headers(alert)
    for key in ("Ce-Type", "Ce-Rule", "Ce-Priority", "Ce-Source", "Ce-Id"):
        detail(f"{DIM}{key}: {headers[key]}{RESET}")
    detail(f"{DIM}output_fields: {json.dumps(alert['output_fields'])}{RESET}")
    detail("(ka.target.namespace is added by Falco's append_output, see deploy/falco)")

    response = requests.post(fn.url, data=encode(alert), headers=headers, timeout=30)
    reply = response.json()
    step(
        6,
        total,
        f"riposte answered {response.status_code} with a {response.headers.get('ce-type')} CloudEvent",
    )
    detail(
        f"outcome: {GREEN}{reply['outcome']}{RESET}  reason: {reply['reason']}  ({reply['duration_ms']} ms)"
    )
    detail(f"verified live: credential keys {reply.get('credential_keys')} (values never logged)")
    gone = not any(c.metadata.name == "aws-creds" for c in core.list_namespaced_config_map(namespace).items)
    detail(f"ConfigMap {namespace}/aws-creds deleted: {gone}")
    copy_name = reply["copy"].split("/", 1)[1]
    copy = core.read_namespaced_secret(copy_name, "riposte")
    kept = json.loads(base64.b64decode(copy.data["configmap.json"]))
    detail(f"copy kept: Secret riposte/{copy_name} holding keys {sorted(kept['data'])}")
    for event in core.list_namespaced_event(namespace).items:
        detail(f"Event {event.metadata.name}: {event.reason}: {event.message[:100]}...")
    detail("function log line:")
    for line in fn.output().splitlines():
        if line.startswith("{"):
            detail(f"{DIM}{line[:200]}{RESET}")

    step(7, total, "Falcosidekick redelivers the same alert; then the copy is restored")
    again = requests.post(fn.url, data=encode(alert), headers=cloudevent_headers(alert), timeout=30).json()
    detail(f"redelivery outcome: {again['outcome']} ({again['reason']}): acted at most once")
    restored = core.create_namespaced_config_map(namespace, kept)
    detail(f"restored {namespace}/{restored.metadata.name} from the copy (README: 'Restoring a ConfigMap')")
    core.delete_namespaced_config_map("aws-creds", namespace)
    core.delete_namespaced_secret(copy_name, "riposte")
    detail("cleaned up the demo's ConfigMap and copy")


if __name__ == "__main__":
    main()
