"""Hostile input corpus: every way the word of an HTTP request can be malformed.

Each case is sent as raw bytes over a real socket to each acting function, while a
sentinel ConfigMap (with credentials), a sentinel pod and a sentinel NodePort Service sit
in the namespace the otherwise-valid alert names: if any case were wrongly accepted, it would act on them.
Each case must get the exact status of DESIGN.md §4 (never a 5xx), and after each the
cluster must be unchanged. Targets in protected namespaces are not hostile input but
guarded alerts (200 `refused`, in tests/integration). gunicorn's own 400 page is
accepted where the server layer rejects (duplicate Content-Length).
"""

from __future__ import annotations

import json
import uuid as uuidlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from tests.conftest import Serve
from tests.helpers import (
    cloudevent_headers,
    configmap_alert,
    encode,
    meta,
    raw_exchange,
    shell_alert,
    sidekick,
)
from tests.integration.fakesinks import FakeSink

Alert = dict[str, object]


def nodeport_alert(namespace: str, name: str, uid: str | None) -> Alert:
    """Falco's "Create NodePort Service" as Falcosidekick forwards it, with the fields
    deploy/falco appends (a create that succeeded, the created object's uid)."""
    return {
        "uuid": str(uuidlib.uuid4()),
        "output": f"10:08:09.055120000: Warning NodePort Service Created (user=mallory service={name} "
        f'resource=services ns={namespace} ports=[{{"port":80}}])',
        "priority": "Warning",
        "rule": "Create NodePort Service",
        "time": "2026-07-14T10:08:09.05512Z",
        "output_fields": {
            "evt.time": 1784023689055120000,
            "ka.user.name": "mallory",
            "ka.target.name": name,
            "ka.target.namespace": namespace,
            "ka.target.resource": "services",
            "ka.req.service.ports": '[{"port":80}]',
            "ka.verb": "create",
            "ka.response.code": "201",
            "ka.resp.uid": uid,
        },
        "source": "k8s_audit",
        "tags": ["k8s"],
        "hostname": "ip-10-0-3-17",
    }


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    build: Callable[[Alert], bytes]  # the valid alert -> the hostile request bytes


def request(body: bytes, headers: list[tuple[str, str]] | None = None, *, length: int | None = None) -> bytes:
    lines = ["POST / HTTP/1.1", "Host: riposte"]
    lines += [f"{k}: {v}" for k, v in (headers or [])]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def plain(body: bytes, content_type: str = "application/json") -> bytes:
    return request(body, [("Content-Type", content_type)])


def binary(alert: Alert, *, drop: str = "", **changes: str) -> bytes:
    headers = {k: v for k, v in cloudevent_headers(alert).items() if k != drop}
    headers.update(changes)
    return request(encode(alert), list(headers.items()))


def structured(alert: Alert, **changes: object) -> bytes:
    envelope: dict[str, object] = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "https://falco.org",
        "type": "falco.rule.output.v1",
        "data": alert,
    }
    envelope.update(changes)
    envelope = {k: v for k, v in envelope.items() if v is not DROP}
    return plain(json.dumps(envelope).encode(), "application/cloudevents+json")


DROP = object()


def changed(alert: Alert, **changes: object) -> bytes:
    body = {**alert, **changes}
    return plain(json.dumps({k: v for k, v in body.items() if v is not DROP}).encode())


def field(alert: Alert, name: str, value: object) -> bytes:
    fields = dict(alert["output_fields"])  # type: ignore[call-overload]
    if value is DROP:
        fields.pop(name, None)
    else:
        fields[name] = value
    return changed(alert, output_fields=fields)


ENVELOPE_CASES = [
    Case("truncated JSON", 400, lambda a: plain(encode(a)[:-7])),
    Case("invalid JSON", 400, lambda a: plain(b'{"rule": }')),
    Case("JSON array", 400, lambda a: plain(b"[" + encode(a) + b"]")),
    Case("JSON string", 400, lambda a: plain(b'"alert"')),
    Case("JSON null", 400, lambda a: plain(b"null")),
    Case("empty body", 400, lambda a: plain(b"")),
    Case(
        "not UTF-8",
        400,
        lambda a: plain(encode(a).replace(b"Warning", b"W\xffrning").replace(b"Notice", b"N\xfftice")),
    ),
    Case("NaN literal", 400, lambda a: plain(encode(a)[:-1] + b',"x":NaN}')),
    Case("deeply nested JSON", 400, lambda a: plain(b'{"rule":' + b"[" * 200_000 + b"]" * 200_000 + b"}")),
    Case("body over 1 MiB", 413, lambda a: plain(b'{"pad":"' + b"x" * (1024 * 1024) + b'"}')),
    Case(
        "declared 2 GB body",
        413,
        lambda a: request(b"{}", [("Content-Type", "application/json")], length=2 * 1024**3),
    ),
    Case("no content type", 415, lambda a: request(encode(a))),
    Case("text/plain", 415, lambda a: plain(encode(a), "text/plain")),
    Case("application/xml", 415, lambda a: plain(b"<alert/>", "application/xml")),
    Case("form post", 415, lambda a: plain(b"rule=x", "application/x-www-form-urlencoded")),
    Case("CloudEvents batch", 415, lambda a: plain(b"[]", "application/cloudevents-batch+json")),
    Case("binary CE with text data", 415, lambda a: binary(a, **{"Content-Type": "text/plain"})),
    Case("binary CE without Ce-Id", 400, lambda a: binary(a, drop="Ce-Id")),
    Case("binary CE without Ce-Source", 400, lambda a: binary(a, drop="Ce-Source")),
    Case("binary CE without Ce-Type", 400, lambda a: binary(a, drop="Ce-Type")),
    Case("binary CE without Ce-Specversion", 400, lambda a: binary(a, drop="Ce-Specversion")),
    Case("binary CE with empty Ce-Id", 400, lambda a: binary(a, **{"Ce-Id": ""})),
    Case("binary CE specversion 0.3", 400, lambda a: binary(a, **{"Ce-Specversion": "0.3"})),
    Case("binary CE specversion 2.0", 400, lambda a: binary(a, **{"Ce-Specversion": "2.0"})),
    Case("binary CE with list data", 400, lambda a: request(b"[]", list(cloudevent_headers(a).items()))),
    Case("structured CE without id", 400, lambda a: structured(a, id=DROP)),
    Case("structured CE without source", 400, lambda a: structured(a, source=DROP)),
    Case("structured CE with numeric type", 400, lambda a: structured(a, type=7)),
    Case("structured CE specversion 0.3", 400, lambda a: structured(a, specversion="0.3")),
    Case("structured CE specversion as number", 400, lambda a: structured(a, specversion=1.0)),
    Case("structured CE with string data", 400, lambda a: structured(a, data=json.dumps(a))),
    Case("structured CE with data_base64", 400, lambda a: structured(a, data=DROP, data_base64="e30=")),
    Case("structured CE that is a list", 400, lambda a: plain(b"[]", "application/cloudevents+json")),
    # gunicorn joins a repeated header into one comma-separated value (RFC 9110 5.3):
    # a joined type is no Falco alert's type (204), a joined specversion no version (400).
    Case(
        "repeated Ce-Type header",
        204,
        lambda a: request(encode(a), [*cloudevent_headers(a).items(), ("Ce-Type", "x")]),
    ),
    Case(
        "repeated Ce-Specversion header",
        400,
        lambda a: request(encode(a), [*cloudevent_headers(a).items(), ("Ce-Specversion", "1.0")]),
    ),
    Case("CloudEvent of another type", 204, lambda a: binary(a, **{"Ce-Type": "riposte.action.v1"})),
    Case(
        "two Content-Length headers",
        400,
        lambda a: request(encode(a), [("Content-Type", "application/json"), ("Content-Length", "2")]),
    ),
]

ALERT_CASES = [
    Case("rule as a number", 400, lambda a: changed(a, rule=42)),
    Case("rule missing", 400, lambda a: changed(a, rule=DROP)),
    Case("rule empty", 400, lambda a: changed(a, rule="")),
    Case("output_fields as a list", 400, lambda a: changed(a, output_fields=[])),
    Case("output_fields as a string", 400, lambda a: changed(a, output_fields="k8s.pod.name=web-1")),
    Case("output_fields missing", 400, lambda a: changed(a, output_fields=DROP)),
    Case("priority unknown", 400, lambda a: changed(a, priority="Severe")),
    Case("priority as a number", 400, lambda a: changed(a, priority=4)),
    Case("time not RFC 3339", 400, lambda a: changed(a, time="14/07/2026 09:52")),
    Case("time missing", 400, lambda a: changed(a, time=DROP)),
    Case("output missing", 400, lambda a: changed(a, output=DROP)),
    Case("tags as a string", 400, lambda a: changed(a, tags="k8s")),
    Case("uuid as an object", 400, lambda a: changed(a, uuid={"id": 1})),
    Case("source as a list", 400, lambda a: changed(a, source=["k8s_audit"])),
    # A rule no acting function answers by default (incubating, opt-in).
    Case("another rule", 204, lambda a: changed(a, rule="Launch Package Management Process in Container")),
    Case("Falcosidekick test event", 204, lambda a: plain(encode(sidekick("test_event")))),
    Case("priority below the minimum", 204, lambda a: changed(a, priority="Debug")),
]

NAMES = [
    ("path traversal", "../kube-system"),
    ("slash", "a/b"),
    ("upper case", "AWS-Creds"),
    ("300 characters", "a" * 300),
    ("unicode look-alike", "\u0430ws-creds"),
    ("percent-encoded slash", "aws%2Fcreds"),
    ("trailing newline", "aws-creds\n"),
    ("empty", ""),
    ("null", None),
    ("<NA>", "<NA>"),
    ("a number", 7),
]

TARGET_FIELDS = {
    "delete-configmap": ("ka.req.configmap.name", "ka.target.namespace"),
    "isolate-pod": ("k8s.pod.name", "k8s.ns.name"),
    "cordon-node": ("k8s.pod.name", "k8s.ns.name"),
    "revert-object": ("ka.target.name", "ka.target.namespace"),
    "capture-evidence": ("k8s.pod.name", "k8s.ns.name"),
    "terminate-pod": ("k8s.pod.name", "k8s.ns.name"),
}


def setting(name: str, value: object) -> Callable[[Alert], bytes]:
    """The build of a case setting output field `name` to `value` (a typed `lambda a, v=v:`)."""
    return lambda a: field(a, name, value)


def target_cases(function: str) -> list[Case]:
    name_field, namespace_field = TARGET_FIELDS[function]
    cases = [Case(f"{name_field} {label}", 422, setting(name_field, v)) for label, v in NAMES]
    cases += [
        Case(f"{namespace_field} {label}", 422, setting(namespace_field, v))
        for label, v in NAMES
        if label not in ("300 characters",)
    ]
    cases.append(Case(f"{namespace_field} missing", 422, lambda a: field(a, namespace_field, DROP)))
    cases.append(
        Case(f"{namespace_field} of 64 characters", 422, lambda a: field(a, namespace_field, "n" * 64))
    )
    return cases


FUNCTIONS = [
    "delete-configmap",
    "isolate-pod",
    "cordon-node",
    "revert-object",
    "capture-evidence",
    "terminate-pod",
]
# The control below acts as it needs nothing beyond the sentinel's objects (cordon-node's
# needs Nodes and pod status, capture-evidence's and terminate-pod's pod status:
# tests/integration/test_cordon_node.py, test_capture_evidence.py and test_terminate_pod.py
# are their controls). terminate-pod's sentinel pod must still exist after each case.
CONTROLLED = ["delete-configmap", "isolate-pod", "revert-object"]
CORPUS = [(f, c) for f in FUNCTIONS for c in ENVELOPE_CASES + ALERT_CASES + target_cases(f)]


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 60
    assert all(c.status < 500 for _, c in CORPUS)


@pytest.fixture(scope="module")
def sentinel(core: client.CoreV1Api, cluster: ControlPlane) -> str:
    """A namespace holding what a wrongly accepted request would destroy."""
    namespace = "hostile-sentinel"
    core.create_namespace({"metadata": {"name": namespace}})
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"aws_access_key_id": "AKES20LNOA"}}
    )
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    )
    make_nodeport(core, namespace)
    return namespace


def make_nodeport(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_service(
        namespace, {"metadata": {"name": "web"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    )


def valid_alert(function: str, namespace: str, core: client.CoreV1Api) -> Alert:
    if function == "delete-configmap":
        return configmap_alert(namespace, "aws-creds")
    if function == "revert-object":  # "Create NodePort Service" for the sentinel Service
        return nodeport_alert(namespace, "web", meta(core.read_namespaced_service("web", namespace)).uid)
    alert = shell_alert(namespace, "web-1")
    if function == "cordon-node":
        alert.update(rule="Detect release_agent File Container Escapes", priority="Critical")
    if function == "terminate-pod":
        alert.update(rule="Drop and execute new binary in container", priority="Critical")
    return alert


def assert_unchanged(core: client.CoreV1Api, namespace: str) -> None:
    assert core.read_namespaced_config_map("aws-creds", namespace).data == {"aws_access_key_id": "AKES20LNOA"}
    assert "riposte.io/quarantine" not in (meta(core.read_namespaced_pod("web-1", namespace)).labels or {})
    service = core.read_namespaced_service("web", namespace)
    assert service.spec is not None and service.spec.type == "NodePort" and meta(service).annotations is None
    assert [meta(e).name for e in core.list_namespaced_event(namespace).items] == []
    # copies and evidence alike carry the source namespace label
    copies = core.list_namespaced_secret("riposte", label_selector=f"riposte.io/source-namespace={namespace}")
    assert copies.items == []


@pytest.mark.parametrize(("function", "case"), CORPUS, ids=[f"{f}: {c.name}" for f, c in CORPUS])
def test_hostile_input_gets_its_exact_status_and_changes_nothing(
    serve: Serve, core: client.CoreV1Api, sentinel: str, function: str, case: Case
) -> None:
    fn = serve(function)
    answer = raw_exchange(fn.port, case.build(valid_alert(function, sentinel, core)))
    assert answer.status == case.status, answer.body[:300]
    if case.status == 204:
        assert answer.body == b""
    elif b"gunicorn" not in answer.body and answer.headers.get("Server", "") != "":
        assert json.loads(answer.body)["status"] == case.status
    assert_unchanged(core, sentinel)


@pytest.mark.parametrize("function", CONTROLLED)
def test_the_valid_alert_would_have_acted(
    serve: Serve, core: client.CoreV1Api, function: str, namespace: str
) -> None:
    """The control: the same alert, unchanged, does act (so the corpus proves something)."""
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    )
    make_nodeport(core, namespace)
    answer = raw_exchange(serve(function).port, binary(valid_alert(function, namespace, core)))
    assert answer.status == 200
    assert answer.json()["outcome"] == "acted"


# notify acts on every rule and priority it is configured for (here all), so only the
# cases that are not alerts at all, or not Falco's, must send nothing.
NOTIFY_CORPUS = [
    *(c for c in ENVELOPE_CASES + ALERT_CASES if c.status != 204 or c.name == "repeated Ce-Type header"),
    # For notify a riposte.action.v1 event is a result: an alert inside is no result (400).
    Case("result event carrying an alert", 400, lambda a: binary(a, **{"Ce-Type": "riposte.action.v1"})),
    Case("CloudEvent of an unknown type", 204, lambda a: binary(a, **{"Ce-Type": "com.example.other"})),
]


@pytest.fixture(scope="module")
def notify_with_sink(serve: Serve) -> Iterator[tuple[FunctionProcess, FakeSink]]:
    sink = FakeSink("webhook")
    try:
        yield serve("notify", RIPOSTE_WEBHOOK_URL=sink.url, RIPOSTE_MIN_PRIORITY="Debug"), sink
    finally:
        sink.close()


@pytest.mark.parametrize("case", NOTIFY_CORPUS, ids=[c.name for c in NOTIFY_CORPUS])
def test_hostile_input_to_notify_gets_its_exact_status_and_sends_nothing(
    notify_with_sink: tuple[FunctionProcess, FakeSink], case: Case
) -> None:
    fn, sink = notify_with_sink
    before = len(sink.received)
    answer = raw_exchange(fn.port, case.build(shell_alert("shop", "web-1")))
    assert answer.status == case.status, answer.body[:300]
    assert len(sink.received) == before


def test_the_valid_alert_would_have_been_notified(notify_with_sink: tuple[FunctionProcess, FakeSink]) -> None:
    fn, sink = notify_with_sink
    before = len(sink.received)
    assert raw_exchange(fn.port, binary(shell_alert("shop", "web-1"))).status == 204
    assert len(sink.received) == before + 1
