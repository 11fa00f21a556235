"""interact (DESIGN §13), as its own ServiceAccount against the real apiserver.

Slack is the one thing faked: a click is the request Slack sends (a form-encoded
`payload`, signed with the app's signing secret over the raw body, the HMAC computed here
by hand rather than with slack_sdk), on the message notify would post (shared/notify:
its real buttons and their signed values), and Slack's `response_url` is a local stand-in
that records how interact edits the message. Where approvals go is either a local
stand-in that records the CloudEvents, or the real acting function (delete-configmap in
approval mode, as its own ServiceAccount), end to end.

Covered: a forged signature, one changed byte and a stale timestamp are 401 and change
nothing; the same valid click twice acts once; an approve racing a reject: exactly one
wins; an unlisted user gets an ephemeral refusal; an expired approval is not approved; an
Undo token cannot approve; a target replaced between approval and action is refused by
the acting function; GET and HEAD of a review link, ten times each, change nothing; a
cross-origin POST is refused; and, in a real browser (Debian's chromium, headless, driven
by Playwright), a human opens the link, sees what would be done, clicks Approve, and the
ConfigMap is deleted by delete-configmap.

Not covered: Slack's own delivery (its retries on a slow answer), a real SSO proxy (the
browser sends the header oauth2-proxy would), Knative's SinkBinding (K_SINK is a URL like
RIPOSTE_APPROVAL_URL here).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from kubernetes import client

from devcluster.controlplane import ControlPlane
from devcluster.functions import FunctionProcess
from shared import alert as alert_model
from shared.action import Outcome
from shared.approval import links, record, store, undo
from shared.approval.record import Approval, State
from shared.approval.undo import UndoRequest
from shared.deadline import Deadline
from shared.kube.client import Kube
from shared.notify import formats, messages
from shared.targets import Target
from tests.conftest import Serve
from tests.helpers import action_result, cloudevent_headers, configmap_alert, encode
from tests.integration.fakesinks import FakeSink, Received

KEY = "riposte-approval-key-0123456789abcdef"
LINK = ["an-old-link-key-0123456789", "the-new-link-key-0123456789"]
SIGNING = "8f742231b10e8888abcd99f0e1d2c3b4"  # 32 hex characters, as Slack's
TOKEN = "riposte-interact-token-0123456789"
TEAM = "T0RIPOSTE"
APPROVER, SECOND, STRANGER = "U0APPROVER", "U0SECOND", "U0STRANGER"
ALICE = "alice@example.com"
OFFER = messages.Links(secret=LINK, interact_url=None)


# -- the stand-ins and the processes --------------------------------------------------------


@pytest.fixture(scope="module")
def hooks() -> Iterator[FakeSink]:
    """Slack's response_url."""
    sink = FakeSink("slack response_url")
    yield sink
    sink.close()


@pytest.fixture(scope="module")
def sink() -> Iterator[FakeSink]:
    """Where approvals and undos go (K_SINK: the broker, in a cluster)."""
    found = FakeSink("approval sink")
    yield found
    found.close()


@pytest.fixture(autouse=True)
def fresh(hooks: FakeSink, sink: FakeSink) -> None:
    hooks.reset()
    sink.reset()


def interact_env(**more: str) -> dict[str, str]:
    return {
        "RIPOSTE_APPROVAL_KEY": KEY,
        "RIPOSTE_LINK_SECRET": ",".join(LINK),
        "RIPOSTE_SLACK_SIGNING_SECRET": SIGNING,
        "RIPOSTE_SLACK_TEAM_ID": TEAM,
        "RIPOSTE_APPROVERS": f"{APPROVER},{SECOND},email:{ALICE}",
        "RIPOSTE_TOKEN": TOKEN,
        **more,
    }


@pytest.fixture
def interact(serve: Serve, sink: FakeSink) -> FunctionProcess:
    return serve("interact", **interact_env(RIPOSTE_APPROVAL_URL=sink.url, RIPOSTE_UNDO_URL=sink.url))


@pytest.fixture
def acting(serve: Serve) -> FunctionProcess:
    """delete-configmap in approval mode, trusting the same approvers."""
    return serve(
        "delete-configmap",
        RIPOSTE_APPROVAL="required",
        RIPOSTE_APPROVAL_KEY=KEY,
        RIPOSTE_APPROVERS=f"{APPROVER},{SECOND},email:{ALICE}",
        RIPOSTE_TOKEN=TOKEN,
    )


@pytest.fixture
def interact_to_acting(serve: Serve, acting: FunctionProcess) -> FunctionProcess:
    """interact handing approvals straight to delete-configmap (no broker)."""
    return serve("interact", **interact_env(RIPOSTE_APPROVAL_URL=acting.url))


@pytest.fixture(scope="module")
def admin(cluster: ControlPlane) -> Kube:
    return Kube(str(cluster.kubeconfig))


# -- what Slack sends, and what notify offers -----------------------------------------------


def signature(body: bytes, timestamp: str, secret: str = SIGNING) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed(body: bytes, *, at: int | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()) if at is None else at)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(body, timestamp),
    }


def offered(
    namespace: str, approval: str | None = None, undo_of: UndoRequest | None = None
) -> dict[str, Any]:
    """The Slack message notify posts for a pending approval (or an acted, undoable result)."""
    target = Target("ConfigMap", namespace, "aws-creds")
    raw = configmap_alert(namespace, "aws-creds")
    if approval is not None:
        result = action_result(raw, target=target, outcome=Outcome.PENDING_APPROVAL, approval=approval,
                               expires_at="2026-12-03T09:00:00Z")  # fmt: skip
    else:
        assert undo_of is not None
        result = action_result(raw, target=target, uid=undo_of.uid)
    payload: dict[str, Any] = formats.slack(messages.for_result(result, OFFER))
    return payload


def button(message: dict[str, Any], action_id: str) -> str:
    values = [
        element["value"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]
    (value,) = values
    return str(value)


def click(
    message: dict[str, Any],
    action_id: str,
    hooks: FakeSink,
    *,
    user: str = APPROVER,
    team: str = TEAM,
    value: str | None = None,
) -> bytes:
    """The body Slack POSTs when `user` clicks the button `action_id` of `message`."""
    payload = {
        "type": "block_actions",
        "team": {"id": team, "domain": "riposte"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A0RIPOSTE",
        "container": {"type": "message", "message_ts": "1764752400.000100"},
        "response_url": hooks.url,
        "message": {"type": "message", "text": message["text"], "blocks": message["blocks"]},
        "actions": [
            {
                "type": "button",
                "block_id": "riposte",
                "action_id": action_id,
                "value": button(message, action_id) if value is None else value,
                "action_ts": "1764752401.000200",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def post_click(http: requests.Session, fn: FunctionProcess, body: bytes, **sign: Any) -> requests.Response:
    return http.post(f"{fn.url}/slack/actions", data=body, headers=signed(body, **sign))


def updates(hooks: FakeSink, count: int) -> list[dict[str, Any]]:
    """The first `count` message updates interact sent (they arrive after its 200)."""
    deadline = time.monotonic() + 30
    while len(hooks.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(hooks.received) >= count, f"{len(hooks.received)} of {count} updates arrived"
    return [entry.json() for entry in hooks.received[:count]]


def events(sink: FakeSink) -> list[Received]:
    return list(sink.received)


def header(entry: Received, name: str) -> str | None:
    return {key.lower(): value for key, value in entry.headers.items()}.get(name)


# -- approval records ------------------------------------------------------------------------


def pending(
    admin: Kube, namespace: str, *, ago: datetime.timedelta = datetime.timedelta(0), ttl: int = 900
) -> Approval:
    """A pending approval as an acting function stores it."""
    alert = alert_model.parse(configmap_alert(namespace, "aws-creds"))
    asked = record.request(
        function="delete-configmap", action="copy and delete (credential keys: password)", alert=alert,
        target=Target("ConfigMap", namespace, "aws-creds"), target_uid="u-aws-creds",
        now=datetime.datetime.now(datetime.UTC) - ago, ttl_seconds=ttl, key=KEY,
    )  # fmt: skip
    return store.create(admin, Deadline(10), asked)


def current(admin: Kube, approval: Approval) -> Approval:
    found = store.get(admin, Deadline(10), approval.id)
    assert found is not None
    return found


def seeded_for_approval(
    http: requests.Session, acting: FunctionProcess, core: client.CoreV1Api, namespace: str
) -> str:
    """The seed: a credential ConfigMap, its alert to delete-configmap, which asks first."""
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    alert = configmap_alert(namespace, "aws-creds")
    headers = {**cloudevent_headers(alert), "Ce-Authtoken": TOKEN}
    reply = http.post(acting.url, data=encode(alert), headers=headers).json()
    assert reply["outcome"] == "pending-approval", reply
    return str(reply["approval"])


def configmap_uids(core: client.CoreV1Api, namespace: str) -> list[str]:
    return [str(c.metadata.uid) for c in core.list_namespaced_config_map(namespace).items if c.metadata]


# -- Slack -----------------------------------------------------------------------------------


def test_a_forged_changed_or_stale_request_is_401_and_changes_nothing(
    interact: FunctionProcess, hooks: FakeSink, sink: FakeSink, http: requests.Session, admin: Kube,
    namespace: str,
) -> None:  # fmt: skip
    approval = pending(admin, namespace)
    body = click(offered(namespace, approval.id), "riposte.approve", hooks)
    now = str(int(time.time()))
    forged = {**signed(body), "X-Slack-Signature": signature(body, now, secret="someone-elses-secret-0000")}
    changed = body.replace(b"riposte.approve", b"riposte.approvf", 1)  # one byte, after signing
    actions = f"{interact.url}/slack/actions"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    hostile = [
        http.post(actions, data=body, headers=forged),
        http.post(actions, data=changed, headers=signed(body)),
        post_click(http, interact, body, at=int(time.time()) - 600),  # 10 minutes old
        http.post(actions, data=body, headers={**signed(body), "X-Slack-Signature": "v0=é"}),  # TypeError
        http.post(actions, data=body, headers={**signed(body), "X-Slack-Request-Timestamp": "soon"}),
        http.post(actions, data=b"\xff" + body, headers=signed(b"\xff" + body)),  # not UTF-8
        http.post(actions, data=body, headers=form),  # unsigned
    ]
    assert [r.status_code for r in hostile] == [401] * len(hostile), [r.text for r in hostile]
    # One valid click by someone who may not decide: its (ephemeral) answer is the only one.
    refused = click(offered(namespace, approval.id), "riposte.approve", hooks, user=STRANGER)
    assert post_click(http, interact, refused).status_code == 200
    [only] = updates(hooks, 1)
    assert only["response_type"] == "ephemeral" and "not one of riposte's approvers" in only["text"]
    after = current(admin, approval)
    assert after.state is State.PENDING and after.resource_version == approval.resource_version
    assert events(sink) == [] and len(hooks.received) == 1


def test_a_click_is_answered_at_once_and_the_message_then_says_who_approved(
    interact: FunctionProcess, hooks: FakeSink, sink: FakeSink, http: requests.Session, admin: Kube,
    namespace: str,
) -> None:  # fmt: skip
    approval = pending(admin, namespace)
    message = offered(namespace, approval.id)
    answer = post_click(http, interact, click(message, "riposte.approve", hooks))
    assert answer.status_code == 200 and answer.content == b""
    [update] = updates(hooks, 1)
    assert update["replace_original"] is True and f"Approved by {APPROVER}" in update["text"]
    assert not any(b["type"] == "actions" for b in update["blocks"]), "no second click offered"
    assert update["blocks"][0] == message["blocks"][0], "the message itself is kept"
    decided = current(admin, approval)
    assert (decided.state, decided.decided_by, decided.channel) == (State.APPROVED, APPROVER, "slack")
    assert decided.valid(KEY)
    [event] = events(sink)
    assert (
        header(event, "ce-type") == "riposte.approval.v1" and header(event, "ce-source") == "riposte/interact"
    )
    assert header(event, "ce-authtoken") == TOKEN and header(event, "ce-function") == "delete-configmap"
    assert event.json() == {"id": approval.id, "function": "delete-configmap"}


def test_an_unlisted_user_or_another_workspace_changes_nothing(
    interact: FunctionProcess, hooks: FakeSink, sink: FakeSink, http: requests.Session, admin: Kube,
    namespace: str,
) -> None:  # fmt: skip
    approval = pending(admin, namespace)
    message = offered(namespace, approval.id)
    other_team = post_click(http, interact, click(message, "riposte.approve", hooks, team="T0ELSEWHERE"))
    assert other_team.status_code == 403
    assert (
        post_click(http, interact, click(message, "riposte.reject", hooks, user=STRANGER)).status_code == 200
    )
    [update] = updates(hooks, 1)
    assert update == {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": "You are not one of riposte's approvers (RIPOSTE_APPROVERS): nothing was changed.",
    }
    assert current(admin, approval).resource_version == approval.resource_version
    assert events(sink) == []


def test_approve_racing_reject_exactly_one_wins(
    interact: FunctionProcess, hooks: FakeSink, sink: FakeSink, http: requests.Session, admin: Kube,
    namespace: str,
) -> None:  # fmt: skip
    rounds = 5
    approvals = [pending(admin, namespace, ago=datetime.timedelta(seconds=n)) for n in range(rounds)]
    assert len({a.id for a in approvals}) == rounds
    bodies = []
    for approval in approvals:
        message = offered(namespace, approval.id)
        bodies += [
            click(message, "riposte.approve", hooks),
            click(message, "riposte.reject", hooks, user=SECOND),
        ]
    start = threading.Barrier(len(bodies))

    def send(body: bytes) -> int:
        start.wait()
        with requests.Session() as own:
            return post_click(own, interact, body).status_code

    threads = [threading.Thread(target=lambda b=b: statuses.append(send(b))) for b in bodies]
    statuses: list[int] = []
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(bodies)
    said = [u["text"] for u in updates(hooks, len(bodies))]
    for approval in approvals:
        decided = current(admin, approval)
        assert decided.state in (State.APPROVED, State.REJECTED) and decided.valid(KEY)
        winner = APPROVER if decided.state is State.APPROVED else SECOND
        assert decided.decided_by == winner
    approved = [a for a in approvals if current(admin, a).state is State.APPROVED]
    assert sorted(e.json()["id"] for e in events(sink)) == sorted(a.id for a in approved)
    assert sum(t.startswith(("Approved by", "Rejected by")) for t in said) == rounds, said
    assert sum("already" in t.lower() for t in said) == rounds, said


def test_an_expired_approval_is_not_approved(
    interact: FunctionProcess, hooks: FakeSink, sink: FakeSink, http: requests.Session, admin: Kube,
    namespace: str,
) -> None:  # fmt: skip
    approval = pending(admin, namespace, ago=datetime.timedelta(hours=1), ttl=60)
    assert post_click(http, interact, click(offered(namespace, approval.id), "riposte.approve", hooks)).ok
    [update] = updates(hooks, 1)
    assert "already expired" in update["text"], update
    assert current(admin, approval).state is State.EXPIRED
    assert events(sink) == []


def test_a_record_edited_without_the_key_is_not_decided(
    interact: FunctionProcess, hooks: FakeSink, sink: FakeSink, http: requests.Session, admin: Kube,
    namespace: str,
) -> None:  # fmt: skip
    """Whoever can edit approval records without the key (another tenant of riposte-approvals,
    a hand edit) cannot point an approval at another object: interact refuses to decide it."""
    approval = pending(admin, namespace)
    edited = admin.update(Deadline(10), store._body(dataclasses.replace(approval, target_uid="u-other")))
    broken = pending(admin, namespace, ago=datetime.timedelta(seconds=1))
    body = store._body(broken)
    body["data"]["target"] = "{not json"
    admin.update(Deadline(10), body)
    assert post_click(http, interact, click(offered(namespace, approval.id), "riposte.approve", hooks)).ok
    assert post_click(http, interact, click(offered(namespace, broken.id), "riposte.approve", hooks)).ok
    said = " | ".join(u["text"] for u in updates(hooks, 2))
    assert f"{broken.id} is not an approval riposte wrote" in said, said
    assert f"Approval {approval.id} is not signed with riposte's key" in said, said
    assert current(admin, approval).resource_version == edited["metadata"]["resourceVersion"]
    assert http.get(review_url(interact, broken.id)).status_code == 400
    assert events(sink) == []


def test_an_undo_token_cannot_approve_and_an_undo_reaches_undo_signed(
    interact: FunctionProcess, hooks: FakeSink, sink: FakeSink, http: requests.Session, admin: Kube,
    namespace: str,
) -> None:  # fmt: skip
    approval = pending(admin, namespace)
    request = UndoRequest("delete-configmap", Target("ConfigMap", namespace, "aws-creds"), "u-1", "alert-1")
    acted = offered(namespace, undo_of=request)
    undo_token = button(acted, "riposte.undo")
    pending_message = offered(namespace, approval.id)
    misused = click(pending_message, "riposte.approve", hooks, value=undo_token)
    assert post_click(http, interact, misused).status_code == 200
    [refused] = updates(hooks, 1)
    assert refused["response_type"] == "ephemeral" and "cannot approve" in refused["text"]
    assert current(admin, approval).resource_version == approval.resource_version and events(sink) == []

    assert post_click(http, interact, click(acted, "riposte.undo", hooks)).status_code == 200
    _, asked = updates(hooks, 2)
    assert asked["replace_original"] is True and f"Undo asked by {APPROVER}" in asked["text"]
    [event] = events(sink)
    assert header(event, "ce-type") == undo.EVENT_TYPE
    asked_for, by, channel = undo.read_event(KEY, event.json())  # what undo checks: signed, and by whom
    assert (asked_for.function, asked_for.target, asked_for.uid, by, channel) == (
        "delete-configmap",
        request.target,
        "u-1",
        APPROVER,
        "slack",
    )


def test_the_same_click_twice_acts_once_end_to_end(
    interact_to_acting: FunctionProcess, acting: FunctionProcess, hooks: FakeSink, http: requests.Session,
    admin: Kube, core: client.CoreV1Api, namespace: str,
) -> None:  # fmt: skip
    approval_id = seeded_for_approval(http, acting, core, namespace)
    body = click(offered(namespace, approval_id), "riposte.approve", hooks)
    assert post_click(http, interact_to_acting, body).status_code == 200
    assert post_click(http, interact_to_acting, body).status_code == 200  # Slack does not de-duplicate
    said = sorted(u["text"] for u in updates(hooks, 2))
    assert said[0].startswith("Already approved by U0APPROVER") and said[1].startswith(
        "Approved by U0APPROVER"
    )
    assert sorted(t.split(" answered: ")[1].split(" ")[0] for t in said) == ["acted", "already-done"], said
    assert configmap_uids(core, namespace) == []
    riposte_events = [e for e in core.list_namespaced_event(namespace).items if APPROVER in (e.message or "")]
    assert len(riposte_events) == 1
    decided = store.get(admin, Deadline(10), approval_id)
    assert decided is not None and decided.state is State.APPROVED


def test_a_target_replaced_after_approval_is_refused_by_the_acting_function(
    interact_to_acting: FunctionProcess, acting: FunctionProcess, hooks: FakeSink, http: requests.Session,
    core: client.CoreV1Api, namespace: str,
) -> None:  # fmt: skip
    approval_id = seeded_for_approval(http, acting, core, namespace)
    core.delete_namespaced_config_map("aws-creds", namespace)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "q"}}
    )
    replaced = configmap_uids(core, namespace)
    assert post_click(
        http, interact_to_acting, click(offered(namespace, approval_id), "riposte.approve", hooks)
    ).ok
    [update] = updates(hooks, 1)
    assert update["text"].startswith(f"Approved by {APPROVER}")
    assert (
        "delete-configmap answered: refused" in update["text"]
        and "changed since it was approved" in update["text"]
    )
    assert configmap_uids(core, namespace) == replaced, "the new ConfigMap is left alone"


# -- the review page -------------------------------------------------------------------------


def review_url(fn: FunctionProcess, approval_id: str) -> str:
    return f"{fn.url}/review/{links.dumps(LINK, links.Purpose.DECIDE, {'id': approval_id})}"


def test_get_and_head_of_a_link_change_nothing(
    interact: FunctionProcess, sink: FakeSink, http: requests.Session, admin: Kube, namespace: str
) -> None:
    fresh_one = pending(admin, namespace)
    stale_one = pending(admin, namespace, ago=datetime.timedelta(hours=1), ttl=60)
    for approval in (fresh_one, stale_one):
        url = review_url(interact, approval.id)
        for _ in range(10):
            page = http.get(url)
            assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
            assert page.headers["Cache-Control"] == "no-store"
            assert page.headers["Referrer-Policy"] == "same-origin"
            assert page.headers["X-Robots-Tag"] == "noindex"
            head = http.head(url)
            assert head.status_code == 200 and head.content == b""
            assert head.headers["Cache-Control"] == "no-store"
        after = current(admin, approval)
        assert after.state is State.PENDING and after.resource_version == approval.resource_version
    shown = f"would copy and delete (credential keys: password): ConfigMap {namespace}/aws-creds."
    assert shown in http.get(review_url(interact, fresh_one.id)).text
    assert "expired" in http.get(review_url(interact, stale_one.id)).text
    assert events(sink) == []
    assert http.get(f"{interact.url}/review/not-a-token").status_code == 400


@pytest.fixture
def open_links(serve: Serve, sink: FakeSink) -> FunctionProcess:
    """interact where anyone with a link may decide (and the records say so)."""
    return serve(
        "interact",
        **interact_env(RIPOSTE_APPROVAL_URL=sink.url, RIPOSTE_LINK_APPROVAL="anyone-with-link"),
    )


def test_a_cross_origin_post_is_refused_and_changes_nothing(
    open_links: FunctionProcess, sink: FakeSink, http: requests.Session, admin: Kube, namespace: str
) -> None:
    approval = pending(admin, namespace)
    url = review_url(open_links, approval.id)
    form = {"choice": "approve"}
    refused = [
        http.post(url, data=form, headers={"Origin": "https://attacker.example"}),
        http.post(url, data=form),  # no Origin: not from a browser's form on our page
        http.post(url, data=form, headers={"Origin": "null"}),
        http.post(url, data=form, headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"}),
        http.post(url, data=form, headers={"Origin": open_links.url.replace("127.0.0.1", "localhost")}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert current(admin, approval).resource_version == approval.resource_version and events(sink) == []

    # What a browser sends under `Referrer-Policy: no-referrer`: accepted, and recorded as a link decision.
    done = http.post(url, data=form, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert done.status_code == 200, done.text
    decided = current(admin, approval)
    assert (decided.state, decided.channel, decided.link_mode) == (State.APPROVED, "link", "anyone-with-link")
    assert [e.json()["id"] for e in events(sink)] == [approval.id]


def test_an_undo_link_cannot_approve_and_needs_a_signed_in_approver(
    open_links: FunctionProcess, sink: FakeSink, http: requests.Session, namespace: str
) -> None:
    request = UndoRequest("isolate-pod", Target("Pod", namespace, "web-1"), "u-web", "alert-2")
    url = f"{open_links.url}/review/{links.dumps(LINK, links.Purpose.UNDO, request.payload())}"
    same = {"Origin": open_links.url}
    page = http.get(url)
    assert page.status_code == 200 and "signed-in approver" in page.text and "<form" not in page.text
    assert http.post(url, data={"choice": "approve"}, headers=same).status_code == 403
    assert http.post(url, data={"choice": "undo"}, headers=same).status_code == 403
    assert events(sink) == []


# -- a real browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        yield launched
        launched.close()


@pytest.fixture
def sso_to_acting(serve: Serve, acting: FunctionProcess) -> FunctionProcess:
    """interact behind an SSO proxy (the browser sends the header oauth2-proxy would)."""
    return serve(
        "interact",
        **interact_env(RIPOSTE_APPROVAL_URL=acting.url, RIPOSTE_SSO_PROXY="true"),
    )


def test_in_a_browser_a_human_sees_what_would_be_done_clicks_approve_and_it_is_done(
    browser: Any, sso_to_acting: FunctionProcess, acting: FunctionProcess, http: requests.Session,
    admin: Kube, core: client.CoreV1Api, namespace: str,
) -> None:  # fmt: skip
    approval_id = seeded_for_approval(http, acting, core, namespace)
    context = browser.new_context(extra_http_headers={"X-Auth-Request-Email": ALICE})
    try:
        page = context.new_page()
        shown = page.goto(review_url(sso_to_acting, approval_id))
        assert shown is not None and shown.status == 200
        assert "would copy and delete" in page.inner_text("p.lead")
        assert f"{namespace}/aws-creds" in page.inner_text("dl")
        assert f"You decide as email:{ALICE}" in page.inner_text("p.note")
        page.reload()  # a reload, like the GET, decides nothing
        assert store.get(admin, Deadline(10), approval_id).state is State.PENDING  # type: ignore[union-attr]
        assert configmap_uids(core, namespace) != []

        with page.expect_navigation():
            page.click("button[value=approve]")
        assert page.inner_text("h1") == "Done"
        assert "delete-configmap answered: acted" in page.inner_text("p.lead")
    finally:
        context.close()
    decided = store.get(admin, Deadline(10), approval_id)
    assert decided is not None
    assert (decided.state, decided.decided_by, decided.channel) == (State.APPROVED, f"email:{ALICE}", "link")
    assert configmap_uids(core, namespace) == [], "delete-configmap deleted it, named the approver"
    [event] = [e for e in core.list_namespaced_event(namespace).items if ALICE in (e.message or "")]
    assert "approved by" in (event.message or "")


# -- the whole loop ----------------------------------------------------------------------------


def test_approved_in_slack_deleted_then_restored_by_undo_end_to_end(
    serve: Serve, acting: FunctionProcess, hooks: FakeSink, http: requests.Session,
    core: client.CoreV1Api, namespace: str,
) -> None:  # fmt: skip
    """Issue "A human in the loop", done when: with approval required, the seed's
    ConfigMap is deleted only after an approver's click, and Undo restores it. Every hop
    is the real process: delete-configmap asks, interact decides and hands the approval
    over, delete-configmap acts, notify's Undo button goes through interact to undo."""
    undo_fn = serve("undo", RIPOSTE_APPROVAL_KEY=KEY, RIPOSTE_APPROVERS=APPROVER, RIPOSTE_TOKEN=TOKEN)
    loop = serve("interact", **interact_env(RIPOSTE_APPROVAL_URL=acting.url, RIPOSTE_UNDO_URL=undo_fn.url))
    approval_id = seeded_for_approval(http, acting, core, namespace)
    [uid] = configmap_uids(core, namespace)
    assert post_click(http, loop, click(offered(namespace, approval_id), "riposte.approve", hooks)).ok
    [approved] = updates(hooks, 1)
    assert "delete-configmap answered: acted" in approved["text"], approved
    assert configmap_uids(core, namespace) == []

    request = UndoRequest("delete-configmap", Target("ConfigMap", namespace, "aws-creds"), uid, "alert-1")
    assert post_click(http, loop, click(offered(namespace, undo_of=request), "riposte.undo", hooks)).ok
    _, asked = updates(hooks, 2)
    assert f"Undo asked by {APPROVER}" in asked["text"], asked
    deadline = time.monotonic() + 30
    while not configmap_uids(core, namespace) and time.monotonic() < deadline:
        time.sleep(0.05)
    restored = core.read_namespaced_config_map("aws-creds", namespace)
    assert restored.data == {"password": "p"} and restored.metadata is not None
    assert restored.metadata.uid != uid  # re-created from the copy, create-only
