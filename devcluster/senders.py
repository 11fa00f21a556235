"""The requests real senders make, for tests, the demo and the benchmarks.

`cloudevent_headers` reproduces Falcosidekick's `cloudevents` output (binary mode, sdk-go
defaults, extensions from the alert, a fresh Ce-Id per send); `configmap_alert` is the
seed's alert as Falcosidekick forwards it (tests/fixtures/falcosidekick), with the
namespace Falco's append_output adds.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from pathlib import Path
from typing import Any

SIDEKICK = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "falcosidekick"
CONFIGMAP_RULE = "Create/Modify Configmap With Private Credentials"


def configmap_alert(
    namespace: str | None,
    name: str,
    *,
    identity: str | None = None,
    code: str | None = "201",
    uid: str | None = None,
) -> dict[str, Any]:
    """The seed alert as Falcosidekick forwards it, with the fields deploy/falco's
    append_output adds: the namespace, the response code (a string, as k8s_audit fields
    are) and, when given, the created object's uid."""
    alert: dict[str, Any] = json.loads(
        (SIDEKICK / "k8saudit_configmap_with_private_credentials.json").read_text()
    )
    alert["uuid"] = identity or str(uuidlib.uuid4())
    alert["output_fields"]["ka.req.configmap.name"] = name
    alert["output"] = alert["output"].replace("configmap=payment-config", f"configmap={name}")
    if namespace is not None:
        alert["output_fields"]["ka.target.namespace"] = namespace
    if code is not None:
        alert["output_fields"]["ka.response.code"] = code
    if uid is not None:
        alert["output_fields"]["ka.resp.uid"] = uid
    return alert


def cloudevent_headers(alert: dict[str, Any], **extensions: str) -> dict[str, str]:
    """Headers of Falcosidekick's cloudevents output (binary mode) for `alert`."""
    headers = {
        "Ce-Eventsource": alert.get("source", "syscall"),
        "Ce-Hostname": alert.get("hostname", ""),
        "Ce-Id": str(uuidlib.uuid4()),
        "Ce-Priority": alert["priority"],
        "Ce-Rule": alert["rule"],
        "Ce-Source": "https://falco.org",
        "Ce-Specversion": "1.0",
        "Ce-Time": alert["time"],
        "Ce-Type": "falco.rule.output.v1",
        "Content-Type": "application/json",
        "User-Agent": "Go-http-client/1.1",
    }
    for key, value in extensions.items():
        headers[f"Ce-{key.capitalize()}"] = value
    return headers


def encode(alert: dict[str, Any]) -> bytes:
    """Go json.Marshal's compact form."""
    return json.dumps(alert, separators=(",", ":")).encode()


def shell_alert(namespace: str, pod: str, *, identity: str | None = None) -> dict[str, Any]:
    """Falco's "Terminal shell in container" as Falcosidekick forwards it, for `pod`."""
    alert: dict[str, Any] = json.loads((SIDEKICK / "syscall_terminal_shell_in_container.json").read_text())
    alert["uuid"] = identity or str(uuidlib.uuid4())
    alert["output_fields"]["k8s.ns.name"] = namespace
    alert["output_fields"]["k8s.pod.name"] = pod
    alert["output"] = alert["output"].replace("k8s_pod_name=web-7c5d8f9b6d-x2lqp", f"k8s_pod_name={pod}")
    alert["output"] = alert["output"].replace("k8s_ns_name=shop", f"k8s_ns_name={namespace}")
    return alert


def binding_alert(name: str, uid: str, *, identity: str | None = None) -> dict[str, Any]:
    """Falco's "Attach to cluster-admin Role" as Falcosidekick forwards it (its output names
    no binding), for the ClusterRoleBinding `name` the audited create made (`uid`), with
    the fields deploy/falco's append_output adds."""
    alert: dict[str, Any] = json.loads((SIDEKICK / "k8saudit_attach_to_cluster_admin_role.json").read_text())
    alert["uuid"] = identity or str(uuidlib.uuid4())
    alert["output_fields"].update(
        {
            "ka.target.name": name,
            "ka.target.namespace": None,  # cluster-scoped
            "ka.target.resource": "clusterrolebindings",
            "ka.verb": "create",
            "ka.response.code": "201",
            "ka.resp.uid": uid,
        }
    )
    return alert
