"""The HTTP edge's status table (DESIGN.md §4), one row per line, checked in order.

Driven through Flask's test client with a handler that walks the same steps as an acting
function (parse, match, target) but needs no cluster; the same table is replayed over
real sockets against the real function in tests/integration/test_http_edge.py.
"""

from __future__ import annotations

import json

import flask
import functions_framework
import pytest

from shared import config, endpoint, errors, intake, policy, targets
from shared.action import ActionResult, AlertSummary, Outcome
from shared.priority import Priority
from tests.helpers import CONFIGMAP_RULE, cloudevent_headers, configmap_alert, encode

TOKEN = "tok-abcdefghijklmnop"


def make_client(**env: str) -> flask.testing.FlaskClient:
    settings = config.load(
        "delete-configmap",
        rules=(CONFIGMAP_RULE,),
        min_priority=Priority.WARNING,
        sources=("k8s_audit",),
        environ={"RIPOSTE_NAMESPACE": "riposte", **env},
    )

    def handler(delivery: intake.Delivery, call: endpoint.Call) -> ActionResult | None:
        alert = call.alert_from(delivery)
        if not policy.matches(settings, alert):
            return None
        target = call.aimed_at(targets.configmap(alert))
        if target.namespace == "down":
            raise errors.Unavailable("Kubernetes API did not answer within the deadline")
        return ActionResult(
            function="delete-configmap",
            action="delete-configmap",
            target=target,
            outcome=Outcome.DRY_RUN,
            reason="would delete",
            alert=AlertSummary.of(alert),
            dry_run=True,
        )

    app = flask.Flask("edge")
    app.add_url_rule(
        "/",
        "run",
        lambda: endpoint.respond(flask.request, settings, handler),
        methods=["GET", "POST", "PUT", "DELETE", "HEAD"],
    )
    return app.test_client()


SEED = configmap_alert("shop", "aws-creds")
CE = cloudevent_headers(SEED)
JSON = {"Content-Type": "application/json"}


def structured(data: object, **attrs: object) -> str:
    envelope = {
        "specversion": "1.0",
        "id": "1",
        "source": "https://falco.org",
        "type": "falco.rule.output.v1",
        "data": data,
    }
    envelope.update(attrs)
    return json.dumps(envelope)


ROWS = [
    # (case, method, headers, body, status)
    ("GET is the health probe", "GET", {}, b"", 200),
    ("PUT is not allowed", "PUT", JSON, encode(SEED), 405),
    ("DELETE is not allowed", "DELETE", {}, b"", 405),
    ("body over 1 MiB", "POST", JSON, b"{" + b" " * (1024 * 1024) + b"}", 413),
    ("text/plain", "POST", {"Content-Type": "text/plain"}, encode(SEED), 415),
    ("no content type", "POST", {}, encode(SEED), 415),
    ("binary CloudEvent with text data", "POST", {**CE, "Content-Type": "text/plain"}, encode(SEED), 415),
    ("truncated JSON", "POST", JSON, encode(SEED)[:-5], 400),
    ("JSON array", "POST", JSON, b"[1, 2]", 400),
    ("empty body", "POST", JSON, b"", 400),
    ("not UTF-8", "POST", JSON, b'{"rule": "\xff"}', 400),
    ("NaN is not JSON", "POST", JSON, b'{"rule": NaN}', 400),
    (
        "binary CloudEvent without Ce-Id",
        "POST",
        {k: v for k, v in CE.items() if k != "Ce-Id"},
        encode(SEED),
        400,
    ),
    ("binary CloudEvent with specversion 0.3", "POST", {**CE, "Ce-Specversion": "0.3"}, encode(SEED), 400),
    (
        "binary CloudEvent with a lone ce- header",
        "POST",
        {**JSON, "Ce-Type": "falco.rule.output.v1"},
        encode(SEED),
        400,
    ),
    ("binary CloudEvent with a list as data", "POST", CE, b"[]", 400),
    (
        "structured CloudEvent with string data",
        "POST",
        {"Content-Type": "application/cloudevents+json"},
        structured("x").encode(),
        400,
    ),
    (
        "structured CloudEvent without id",
        "POST",
        {"Content-Type": "application/cloudevents+json"},
        json.dumps({"specversion": "1.0", "source": "s", "type": "t", "data": SEED}).encode(),
        400,
    ),
    (
        "structured CloudEvent with numeric type",
        "POST",
        {"Content-Type": "application/cloudevents+json"},
        structured(SEED, type=5).encode(),
        400,
    ),
    ("rule as a number", "POST", JSON, encode({**SEED, "rule": 5}), 400),
    ("output_fields as a list", "POST", JSON, encode({**SEED, "output_fields": []}), 400),
    ("unknown priority", "POST", JSON, encode({**SEED, "priority": "Loud"}), 400),
    ("another rule", "POST", JSON, encode({**SEED, "rule": "Terminal shell in container"}), 204),
    ("below the minimum priority", "POST", JSON, encode({**SEED, "priority": "Notice"}), 204),
    ("missing namespace", "POST", JSON, encode(configmap_alert(None, "aws-creds")), 422),
    ("path traversal name", "POST", JSON, encode(configmap_alert("shop", "../etc")), 422),
    ("plain JSON seed", "POST", JSON, encode(SEED), 200),
    ("binary CloudEvent seed", "POST", CE, encode(SEED), 200),
    (
        "structured CloudEvent seed",
        "POST",
        {"Content-Type": "application/cloudevents+json"},
        structured(SEED).encode(),
        200,
    ),
    ("API down", "POST", JSON, encode(configmap_alert("down", "aws-creds")), 503),
]


@pytest.mark.parametrize(("case", "method", "headers", "body", "status"), ROWS, ids=[r[0] for r in ROWS])
def test_status_table(case: str, method: str, headers: dict[str, str], body: bytes, status: int) -> None:
    response = make_client().open("/", method=method, headers=headers, data=body)
    assert response.status_code == status, response.data
    if status == 204:
        assert response.data == b""
    elif status == 200 and method == "POST":
        assert response.headers["ce-type"] == "riposte.action.v1"
        assert response.headers["ce-source"] == "riposte/delete-configmap"
        assert response.headers["ce-subject"] == "shop/configmap/aws-creds"
        assert response.json is not None
        assert response.json["outcome"] == "dry-run"
    elif status != 200:
        assert response.json is not None
        assert response.json["status"] == status
        assert response.json["error"]


def test_503_says_when_to_retry() -> None:
    response = make_client().post("/", headers=JSON, data=encode(configmap_alert("down", "x")))
    assert int(response.headers["Retry-After"]) > 0


def test_422_names_the_missing_field() -> None:
    response = make_client().post("/", headers=JSON, data=encode(configmap_alert(None, "aws-creds")))
    assert response.json is not None
    assert "ka.target.namespace" in response.json["error"]


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        (JSON, encode(SEED), 401),
        ({**JSON, "Authorization": "Bearer wrong-token-abcdefgh"}, encode(SEED), 401),
        ({**JSON, "Authorization": f"Basic {TOKEN}"}, encode(SEED), 401),
        ({**JSON, "Authorization": f"Bearer {TOKEN}"}, encode(SEED), 200),
        ({**CE, "Ce-Authtoken": TOKEN}, encode(SEED), 200),
        ({**CE, "Ce-Authtoken": "nope"}, encode(SEED), 401),
        ({"Content-Type": "application/cloudevents+json"}, structured(SEED, authtoken=TOKEN).encode(), 200),
        ({"Content-Type": "application/cloudevents+json"}, structured(SEED).encode(), 401),
        # order of §4: a broken envelope is 400 before the token is looked at,
        (JSON, b"{", 400),
        # and the token is checked before the alert itself (401 before 400 and 204).
        (JSON, encode({**SEED, "rule": 5}), 401),
        (JSON, encode({**SEED, "rule": "Other"}), 401),
        ({**JSON, "Authorization": f"Bearer {TOKEN}"}, encode({**SEED, "rule": "Other"}), 204),
    ],
)
def test_sender_token(headers: dict[str, str], body: bytes, status: int) -> None:
    response = make_client(RIPOSTE_TOKEN=TOKEN).post("/", headers=headers, data=body)
    assert response.status_code == status, response.data
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_replies_carry_the_token_as_authtoken_for_notify() -> None:
    response = make_client(RIPOSTE_TOKEN=TOKEN).post(
        "/", headers={**JSON, "Authorization": f"Bearer {TOKEN}"}, data=encode(SEED)
    )
    assert response.headers["ce-authtoken"] == TOKEN


def test_reply_event_id_is_stable_for_the_same_decision() -> None:
    client = make_client()
    first = client.post("/", headers=JSON, data=encode(SEED)).headers["ce-id"]
    again = client.post("/", headers=CE, data=encode(SEED)).headers["ce-id"]
    assert first == again


def test_the_body_is_read_through_werkzeugs_guarded_stream_under_functions_framework(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """functions-framework's after-request hook reads the body again (`get_data`). Under a
    WSGI server that does not end the input stream itself (werkzeug's, unlike gunicorn),
    a body read past `request.stream` made that second read fail: a 500 for every alert."""
    monkeypatch.setenv("RIPOSTE_TOKEN", TOKEN)
    monkeypatch.setenv("RIPOSTE_WEBHOOK_URL", "http://127.0.0.1:9/never-called")
    # create_app is unannotated in functions-framework 3.10.
    app = functions_framework.create_app("handle", "functions/notify/main.py")  # type: ignore[no-untyped-call]
    ignored = {**configmap_alert("shop", "aws-creds"), "priority": "Notice"}  # below notify's Warning
    answer = app.test_client().post(
        "/", data=encode(ignored), headers=cloudevent_headers(ignored, authtoken=TOKEN)
    )
    assert answer.status_code == 204, answer.get_data(as_text=True)
