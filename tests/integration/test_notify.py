"""notify over real sockets: the real function process (functions-framework + gunicorn, as
its own ServiceAccount) posting to local HTTP servers that stand in for Slack, Teams and a
webhook receiver (tests/integration/fakesinks.py: the only thing faked).

Covers every alert format (captured requests replayed byte for byte, structured mode,
Falco's own output in both layouts), result events in binary and structured mode, the
sender token on results, the minimum priority and the /test event, RIPOSTE_NOTIFY_ALERTS,
no sink configured, and the sinks misbehaving: 500 then 200, 429 with Retry-After, a
sink that stays down or hangs (503 within the deadline, then a redelivery that reaches
only the sinks that lacked the message), a permanent 4xx, concurrent redeliveries. Webhook
URLs (secret paths) and the token never appear in notify's output or answers.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from devcluster.functions import FunctionProcess
from shared.action import Outcome
from shared.targets import Target
from tests.conftest import Serve
from tests.helpers import (
    HTTP,
    action_result,
    captured,
    cloudevent_headers,
    configmap_alert,
    encode,
    raw_exchange,
    result_event,
    shell_alert,
    sidekick,
    with_body,
)
from tests.integration.fakesinks import HANG, FakeSink
from tests.payloads import check_slack, check_teams, check_webhook

DEADLINE = "3"
TOKEN = "riposte-notify-token-0123456789"
JSON = {"Content-Type": "application/json"}
CHECKS = {"slack": check_slack, "teams": check_teams, "webhook": check_webhook}


@pytest.fixture(scope="module")
def sinks() -> Iterator[dict[str, FakeSink]]:
    made = {name: FakeSink(name) for name in CHECKS}
    yield made
    for sink in made.values():
        sink.close()


@pytest.fixture(autouse=True)
def fresh_sinks(sinks: dict[str, FakeSink]) -> Iterator[None]:
    for sink in sinks.values():
        sink.reset()
    yield
    for sink in sinks.values():
        sink.reset()  # releases any hung request


def sink_env(sinks: dict[str, FakeSink]) -> dict[str, str]:
    return {
        "RIPOSTE_SLACK_WEBHOOK_URL": sinks["slack"].url,
        "RIPOSTE_TEAMS_WEBHOOK_URL": sinks["teams"].url,
        "RIPOSTE_WEBHOOK_URL": sinks["webhook"].url,
        "RIPOSTE_DEADLINE_SECONDS": DEADLINE,
    }


@pytest.fixture
def notify(serve: Serve, sinks: dict[str, FakeSink]) -> FunctionProcess:
    return serve("notify", **sink_env(sinks))


def accepted(sinks: dict[str, FakeSink]) -> dict[str, int]:
    return {name: len(sink.accepted()) for name, sink in sinks.items()}


def messages_at(sinks: dict[str, FakeSink]) -> dict[str, list[dict[str, Any]]]:
    """What each sink accepted, each payload checked against its documented format."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, sink in sinks.items():
        found[name] = []
        for entry in sink.accepted():
            assert entry.path == sink.path
            assert entry.headers["Content-Type"].startswith("application/json")
            payload = entry.json()
            CHECKS[name](payload)
            found[name].append(payload)
    return found


def log_lines(fn: FunctionProcess) -> list[dict[str, Any]]:
    return [
        entry
        for line in fn.output().splitlines()
        if line.startswith("{") and (entry := json.loads(line)).get("function") == "notify"
    ]


def assert_no_secret(sinks: dict[str, FakeSink], *texts: str) -> None:
    for text in texts:
        for sink in sinks.values():
            assert sink.secret not in text
            assert sink.url not in text
        assert TOKEN not in text


def answer_text(response: requests.Response) -> str:
    return response.text + json.dumps(dict(response.headers))


def fresh_uuid(body: bytes) -> bytes:
    """The captured body with a new uuid (same length): each replay is a new alert."""
    parsed = json.loads(body)
    if "uuid" not in parsed:
        return body
    return body.replace(parsed["uuid"].encode(), str(uuid.uuid4()).encode())


def result_request(
    namespace: str = "shop",
    decision: Outcome = Outcome.ACTED,
    reason: str = "deleted; copy kept in riposte/riposte-cm-0f1e",
    token: str | None = None,
    **details: object,
) -> tuple[dict[str, str], bytes, dict[str, Any]]:
    """A `riposte.action.v1` result as delete-configmap sends it (shared/action.py)."""
    raw = configmap_alert(namespace, "aws-creds")
    made = action_result(
        raw,
        target=Target("ConfigMap", namespace, "aws-creds"),
        outcome=decision,
        reason=reason,
        duration_ms=11,
        **details,
    )
    headers, body = result_event(made, token=token)
    return headers, body, raw


# --- every input format --------------------------------------------------------------

# What the default notify (minimum priority Warning) makes of each capture as sent.
REPLAYS = {
    "cloudevents_k8saudit_configmap_with_private_credentials.http": True,
    "cloudevents_k8saudit_create_privileged_pod.http": True,
    "cloudevents_syscall_terminal_shell_in_container.http": False,  # Notice
    "falco_http_output_syscall_terminal_shell_in_container.http": False,  # Notice
    "openfaas_syscall_terminal_shell_in_container.http": False,  # Notice
    "webhook_k8saudit_attach_exec_pod.http": False,  # Notice
}


def test_every_capture_is_covered() -> None:
    assert sorted(REPLAYS) == sorted(path.name for path in HTTP.glob("*.http"))


@pytest.mark.parametrize(("name", "notified"), sorted(REPLAYS.items()))
def test_captured_requests_replayed_byte_for_byte(
    notify: FunctionProcess, sinks: dict[str, FakeSink], name: str, notified: bool
) -> None:
    capture = captured(name)
    answer = raw_exchange(notify.port, with_body(capture, fresh_uuid(capture.body)))
    assert answer.status == 204, answer.body
    assert answer.body == b""
    expected = 1 if notified else 0
    assert accepted(sinks) == {"slack": expected, "teams": expected, "webhook": expected}
    if notified:
        [webhook] = messages_at(sinks)["webhook"]
        assert webhook["kind"] == "alert"
        assert webhook["alert"]["rule"] == json.loads(capture.body)["rule"]


@pytest.mark.parametrize("name", sorted(REPLAYS))
def test_every_capture_is_notified_from_minimum_priority_debug(
    serve: Serve, sinks: dict[str, FakeSink], name: str
) -> None:
    fn = serve("notify", **sink_env(sinks), RIPOSTE_MIN_PRIORITY="Debug")
    capture = captured(name)
    answer = raw_exchange(fn.port, with_body(capture, fresh_uuid(capture.body)))
    assert answer.status == 204, answer.body
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}
    found = messages_at(sinks)
    rule = json.loads(capture.body)["rule"]
    assert rule in found["slack"][0]["blocks"][0]["text"]["text"]
    assert found["teams"][0]["attachments"][0]["content"]["body"][0]["text"].endswith(rule)


def structured(data: dict[str, Any], **attributes: str) -> bytes:
    envelope: dict[str, Any] = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "https://falco.org"}
    envelope.update({"type": "falco.rule.output.v1", **attributes, "data": data})
    return json.dumps(envelope).encode()


def falco_0_38(raw: dict[str, Any]) -> bytes:
    """Falco <= 0.38's http_output: no uuid, output_fields spliced in after `time`."""
    fields = raw.pop("output_fields")
    raw.pop("uuid")
    return json.dumps(raw, sort_keys=True)[:-1].encode() + b', "output_fields": ' + encode(fields) + b"}"


@pytest.mark.parametrize("mode", ["binary", "structured", "plain-json", "falco-0.39", "falco-0.38"])
def test_every_alert_format_makes_one_message_per_sink(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink], mode: str
) -> None:
    raw = configmap_alert("shop", "aws-creds")
    if mode == "binary":
        response = http.post(notify.url, data=encode(raw), headers=cloudevent_headers(raw))
    elif mode == "structured":
        response = http.post(
            notify.url, data=structured(raw), headers={"Content-Type": "application/cloudevents+json"}
        )
    elif mode == "plain-json":
        response = http.post(notify.url, data=encode(raw), headers=JSON)
    elif mode == "falco-0.39":
        raw.pop("uuid")
        raw["time"] = f"2026-07-14T09:52:{uuid.uuid4().int % 60:02d}.{uuid.uuid4().int % 10**9:09d}Z"
        response = http.post(notify.url, data=json.dumps(raw, sort_keys=True), headers=JSON)
    else:
        raw["time"] = f"2026-07-14T09:53:{uuid.uuid4().int % 60:02d}.{uuid.uuid4().int % 10**9:09d}Z"
        response = http.post(notify.url, data=falco_0_38(raw), headers=JSON)
    assert response.status_code == 204, response.text
    assert response.content == b""
    found = messages_at(sinks)
    assert {name: len(payloads) for name, payloads in found.items()} == {"slack": 1, "teams": 1, "webhook": 1}
    assert found["webhook"][0]["alert"]["output_fields"]["ka.target.namespace"] == "shop"


def test_the_answer_is_logged_as_one_json_line_naming_the_sinks(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    raw = configmap_alert("shop", "aws-creds")
    assert http.post(notify.url, data=encode(raw), headers=JSON).status_code == 204
    [line] = [entry for entry in log_lines(notify) if entry.get("message") == f"alert:{raw['uuid']}"]
    assert line["outcome"] == "notified"
    assert line["status"] == 204
    assert line["sinks"] == ["slack", "teams", "webhook"]
    assert line["alert"]["uuid"] == raw["uuid"]


def test_below_the_minimum_priority_nothing_is_sent(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    raw = configmap_alert("shop", "aws-creds")
    raw["priority"] = "Notice"
    response = http.post(notify.url, data=encode(raw), headers=JSON)
    assert response.status_code == 204
    assert accepted(sinks) == {"slack": 0, "teams": 0, "webhook": 0}


def test_falcosidekicks_test_event_is_never_notified(
    serve: Serve, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    fn = serve("notify", **sink_env(sinks), RIPOSTE_MIN_PRIORITY="Debug")
    response = http.post(fn.url, data=encode(sidekick("test_event")), headers=JSON)
    assert response.status_code == 204
    assert accepted(sinks) == {"slack": 0, "teams": 0, "webhook": 0}


def test_a_broken_alert_is_400_and_nothing_is_sent(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    raw = configmap_alert("shop", "aws-creds")
    raw["output_fields"] = []
    response = http.post(notify.url, data=encode(raw), headers=JSON)
    assert response.status_code == 400
    assert "output_fields" in response.json()["error"]
    assert accepted(sinks) == {"slack": 0, "teams": 0, "webhook": 0}


# --- dead letters ----------------------------------------------------------------------


def dead_letter_headers(alert: dict[str, Any], code: str = "503") -> dict[str, str]:
    """The original CloudEvent as Knative's broker dead-letters it (deploy/knative)."""
    return cloudevent_headers(
        alert,
        knativeerrordest="http://delete-configmap.riposte.svc.cluster.local",
        knativeerrorcode=code,
    )


def test_a_dead_lettered_alert_says_riposte_could_not_act(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    alert = configmap_alert("shop", "aws-creds")
    assert http.post(notify.url, data=encode(alert), headers=cloudevent_headers(alert)).status_code == 204
    response = http.post(notify.url, data=encode(alert), headers=dead_letter_headers(alert))
    assert response.status_code == 204, response.text
    webhook = messages_at(sinks)["webhook"]
    assert [m["kind"] for m in webhook] == ["alert", "dead-letter"], "the alert's message must not hide it"
    dead = webhook[1]
    assert "could not act" in dead["title"]
    assert "delete-configmap" in dead["text"] and "HTTP 503" in dead["text"]
    assert alert["uuid"] in json.dumps(dead)
    assert accepted(sinks) == {"slack": 2, "teams": 2, "webhook": 2}


def test_a_dead_letter_is_told_whatever_its_priority_and_once(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    alert = shell_alert("shop", "web-1")  # Notice: below notify's minimum for alerts
    for _ in range(2):
        response = http.post(notify.url, data=encode(alert), headers=dead_letter_headers(alert, "500"))
        assert response.status_code == 204
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}


# --- results -------------------------------------------------------------------------


def test_a_result_in_binary_mode_says_what_riposte_did(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    headers, body, raw = result_request(copy="riposte/riposte-cm-0f1e")
    response = http.post(notify.url, data=body, headers=headers)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "ce-type" not in {key.lower() for key in response.headers}, "never a reply event"
    found = messages_at(sinks)
    [slack], [teams], [webhook] = found["slack"], found["teams"], found["webhook"]
    assert "delete-configmap acted on ConfigMap shop/aws-creds" in slack["blocks"][0]["text"]["text"]
    assert raw["uuid"] in slack["text"]
    facts = {
        fact["title"]: fact["value"]
        for element in teams["attachments"][0]["content"]["body"]
        if element["type"] == "FactSet"
        for fact in element["facts"]
    }
    assert facts["Outcome"] == "acted"
    assert facts["Alert"] == raw["uuid"]
    assert webhook["kind"] == "result"
    assert webhook["result"]["id"] == headers["ce-id"]
    assert webhook["result"]["copy"] == "riposte/riposte-cm-0f1e"
    assert webhook["alert"]["uuid"] == raw["uuid"]


def test_a_result_in_structured_mode_is_notified_too(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    headers, body, _ = result_request()
    envelope = {key.removeprefix("ce-"): value for key, value in headers.items() if key.startswith("ce-")}
    envelope["data"] = json.loads(body)
    response = http.post(
        notify.url, data=json.dumps(envelope), headers={"Content-Type": "application/cloudevents+json"}
    )
    assert response.status_code == 204, response.text
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}


def test_a_malformed_result_is_400_and_nothing_is_sent(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    headers, body, _ = result_request()
    data = json.loads(body)
    data["dry_run"] = "no"
    response = http.post(notify.url, data=json.dumps(data), headers=headers)
    assert response.status_code == 400
    assert "'dry_run'" in response.json()["error"]
    assert accepted(sinks) == {"slack": 0, "teams": 0, "webhook": 0}


def test_an_alert_and_its_result_are_two_messages_naming_the_same_alert(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    headers, body, raw = result_request()
    assert http.post(notify.url, data=encode(raw), headers=cloudevent_headers(raw)).status_code == 204
    assert http.post(notify.url, data=body, headers=headers).status_code == 204
    kinds = [(payload["kind"], payload["alert"]["uuid"]) for payload in messages_at(sinks)["webhook"]]
    assert kinds == [("alert", raw["uuid"]), ("result", raw["uuid"])]


def test_with_alert_messages_off_only_results_are_sent(
    serve: Serve, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    fn = serve("notify", **sink_env(sinks), RIPOSTE_NOTIFY_ALERTS="false")
    raw = configmap_alert("shop", "aws-creds")
    assert http.post(fn.url, data=encode(raw), headers=cloudevent_headers(raw)).status_code == 204
    assert accepted(sinks) == {"slack": 0, "teams": 0, "webhook": 0}
    headers, body, _ = result_request()
    assert http.post(fn.url, data=body, headers=headers).status_code == 204
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}


# --- the sender token ----------------------------------------------------------------


@pytest.fixture
def guarded(serve: Serve, sinks: dict[str, FakeSink]) -> FunctionProcess:
    return serve("notify", **sink_env(sinks), RIPOSTE_TOKEN=TOKEN)


def test_a_result_carrying_the_token_as_authtoken_is_accepted(
    guarded: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    headers, body, _ = result_request(token=TOKEN)
    assert headers["ce-authtoken"] == TOKEN
    response = http.post(guarded.url, data=body, headers=headers)
    assert response.status_code == 204, response.text
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}
    for entry in sinks["webhook"].accepted():
        assert TOKEN not in entry.body.decode()
    assert_no_secret(sinks, guarded.output())


@pytest.mark.parametrize("presented", [None, "wrong-token-0123456789abc"])
def test_a_result_without_the_right_token_is_401_and_nothing_is_sent(
    guarded: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink], presented: str | None
) -> None:
    headers, body, _ = result_request(token=presented)
    response = http.post(guarded.url, data=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert accepted(sinks) == {"slack": 0, "teams": 0, "webhook": 0}
    assert_no_secret(sinks, answer_text(response), guarded.output())


def test_an_alert_with_the_bearer_token_is_accepted(
    guarded: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    raw = configmap_alert("shop", "aws-creds")
    response = http.post(guarded.url, data=encode(raw), headers={**JSON, "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 204
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}


# --- sinks misbehaving ---------------------------------------------------------------


def test_a_500_then_200_is_retried_into_one_message(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    sinks["slack"].answer(500)
    raw = configmap_alert("shop", "aws-creds")
    response = http.post(notify.url, data=encode(raw), headers=JSON)
    assert response.status_code == 204, response.text
    assert [entry.status for entry in sinks["slack"].received] == [500, 200]
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}


def test_a_429_with_retry_after_is_honoured(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    sinks["teams"].answer((429, {"Retry-After": "1"}))
    raw = configmap_alert("shop", "aws-creds")
    response = http.post(notify.url, data=encode(raw), headers=JSON)
    assert response.status_code == 204, response.text
    first, second = sinks["teams"].received
    assert (first.status, second.status) == (429, 200)
    # Without Retry-After the backoff would be at most 0.2 s (webhook.BACKOFF_BASE * 2).
    assert second.at - first.at >= 0.95
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}


@pytest.mark.parametrize("failure", ["stays-500", "hangs"])
def test_a_sink_that_stays_down_is_503_and_the_redelivery_reaches_only_it(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink], failure: str
) -> None:
    sinks["teams"].answer(*([HANG] if failure == "hangs" else [500] * 200))
    raw = configmap_alert("shop", "aws-creds")
    started = time.monotonic()
    response = http.post(notify.url, data=encode(raw), headers=cloudevent_headers(raw), timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["error"].startswith("teams ")
    assert response.json()["error"].endswith("(accepted by: slack, webhook)")
    assert elapsed < float(DEADLINE) + 5, f"the deadline bounds the answer ({elapsed:.1f}s)"
    assert accepted(sinks) == {"slack": 1, "teams": 0, "webhook": 1}, "the others had their try"
    assert_no_secret(sinks, answer_text(response))

    sinks["teams"].recover()
    again = http.post(notify.url, data=encode(raw), headers=cloudevent_headers(raw), timeout=30)
    assert again.status_code == 204, again.text
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}, "no duplicate where it was accepted"
    [line] = [
        entry
        for entry in log_lines(notify)
        if entry.get("message") == f"alert:{raw['uuid']}" and entry["status"] == 204
    ]
    assert line["sinks"] == ["teams"]
    assert line["already_sent"] == ["slack", "webhook"]
    assert_no_secret(sinks, notify.output())


def test_a_permanent_4xx_is_a_warning_not_a_503(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    sinks["webhook"].answer(400)
    raw = configmap_alert("shop", "aws-creds")
    response = http.post(notify.url, data=encode(raw), headers=JSON)
    assert response.status_code == 204, response.text
    assert [entry.status for entry in sinks["webhook"].received] == [400], "a 4xx is not retried"
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 0}
    [line] = [entry for entry in log_lines(notify) if entry.get("message") == f"alert:{raw['uuid']}"]
    assert line["rejected"] == ["webhook"]
    assert line["warnings"] == ["webhook rejected the message (400)"]
    assert_no_secret(sinks, notify.output())


def test_concurrent_redeliveries_make_one_message_per_sink(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    raw = configmap_alert("shop", "aws-creds")
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    http.post(notify.url, data=encode(raw), headers=cloudevent_headers(raw)).status_code
                ),
                range(16),
            )
        )
    assert statuses == [204] * 16
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}


def test_a_result_delivered_by_the_broker_and_the_result_url_is_one_message(
    notify: FunctionProcess, http: requests.Session, sinks: dict[str, FakeSink]
) -> None:
    headers, body, _ = result_request()
    for _ in range(2):  # the same event id: outcome.py derives it from the decision
        assert http.post(notify.url, data=body, headers=headers).status_code == 204
    assert accepted(sinks) == {"slack": 1, "teams": 1, "webhook": 1}


# --- no sink -------------------------------------------------------------------------


def test_without_a_sink_notify_warns_at_start_and_answers_204(serve: Serve, http: requests.Session) -> None:
    fn = serve("notify", RIPOSTE_DEADLINE_SECONDS=DEADLINE)
    assert "no sink configured" in fn.output()
    raw = configmap_alert("shop", "aws-creds")
    response = http.post(fn.url, data=encode(raw), headers=JSON)
    assert response.status_code == 204
    [line] = [entry for entry in log_lines(fn) if entry.get("message") == f"alert:{raw['uuid']}"]
    assert line["outcome"] == "no sink configured"


def test_get_is_the_health_probe(notify: FunctionProcess, http: requests.Session) -> None:
    response = http.get(notify.url + "/_/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
