"""interact's pure rules (shared/interact): which POSTs count as same-origin, whose identity
is trusted, what a Slack payload must be, and that the page escapes what it shows. The
HTTP behaviour is tested against the real apiserver in tests/integration/test_interact.py;
these tables pin each rule one row per case."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.datastructures import Headers

from shared.approval import record
from shared.interact import decisions, page, settings, slack
from shared.interact.decisions import Decider

ENV = {
    "RIPOSTE_APPROVAL_KEY": "riposte-approval-key-0123456789abcdef",
    "RIPOSTE_LINK_SECRET": "the-new-link-key-0123456789",
    "RIPOSTE_APPROVAL_URL": "http://127.0.0.1:1/approvals",
    "RIPOSTE_APPROVERS": "U0APPROVER,email:alice@example.com",
}
CONF = settings.load(ENV)
SSO = replace(CONF, sso_header="X-Auth-Request-Email")
OWN = "https://riposte.example.com"


@pytest.mark.parametrize(
    ("headers", "accepted"),
    [
        ({"Origin": OWN}, True),
        ({"Origin": "HTTPS://RIPOSTE.EXAMPLE.COM"}, True),
        ({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, True),
        ({}, False),
        ({"Origin": "https://riposte.example.com.attacker.example"}, False),
        ({"Origin": "http://riposte.example.com"}, False),
        ({"Origin": "null"}, False),
        ({"Origin": "null", "Sec-Fetch-Site": "same-site"}, False),
        ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "same-origin"}, False),
    ],
)
def test_only_a_same_origin_post_may_decide(headers: dict[str, str], accepted: bool) -> None:
    assert page.same_origin(Headers(headers), OWN) is accepted


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://riposte.example.com/", OWN),
        ("https://Riposte.Example.com:443/review", OWN),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://[::1]:80/", "http://[::1]"),
    ],
)
def test_origins_are_what_browsers_send(url: str, origin: str) -> None:
    assert settings.origin_of(url) == origin


@pytest.mark.parametrize(
    ("conf", "headers", "undoing", "expected"),
    [
        # The header is ignored unless interact sits behind the proxy (RIPOSTE_SSO_PROXY).
        (CONF, {"X-Auth-Request-Email": "alice@example.com"}, False, None),
        (SSO, {"X-Auth-Request-Email": "alice@example.com"}, False, Decider("email:alice@example.com")),
        (SSO, {"x-auth-request-email": "alice@example.com"}, True, Decider("email:alice@example.com")),
        (SSO, {"X-Auth-Request-Email": "mallory@example.com"}, False, None),
        (SSO, {"X-Auth-Request-Email": "alice@example.com,bob@example.com"}, False, None),
        (SSO, {}, False, None),
        (replace(CONF, link_open=True), {}, False, Decider("anyone-with-link", record.LINK_OPEN)),
        (replace(CONF, link_open=True), {}, True, None),  # an Undo needs a listed identity
        (
            replace(SSO, link_open=True),
            {"X-Auth-Request-Email": "mallory@example.com"},
            False,
            None,  # identified, and not an approver: no
        ),
    ],
)
def test_who_decides_by_link(
    conf: settings.Interact, headers: dict[str, str], undoing: bool, expected: Decider | None
) -> None:
    found = decisions.by_link(conf, Headers(headers), undoing=undoing)
    if expected is None:
        assert isinstance(found, str), found  # why nobody may decide here
    else:
        assert found == expected


def test_a_slack_user_decides_as_themselves_only_when_listed() -> None:
    assert decisions.by_slack(CONF, "U0APPROVER") == Decider("U0APPROVER")
    assert isinstance(decisions.by_slack(CONF, "U0STRANGER"), str)
    assert isinstance(decisions.by_slack(CONF, "email:alice@example.com"), Decider)  # not a Slack id, listed


def form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


GOOD: dict[str, Any] = {
    "type": "block_actions",
    "team": {"id": "T0RIPOSTE"},
    "user": {"id": "U0APPROVER"},
    "response_url": "https://hooks.slack.com/actions/T0/1/abc",
    "actions": [{"action_id": "riposte.approve", "value": "token"}],
}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe",
        b"payload=",
        b"payload=%7B",
        form(GOOD) + b"&payload=x",
        form([GOOD]),
        form({**GOOD, "type": "view_submission"}),
        form({**GOOD, "actions": []}),
        form({**GOOD, "actions": [{"action_id": "riposte.delete", "value": "t"}]}),
        form({**GOOD, "actions": [{"action_id": "other.approve", "value": "t"}]}),
        form({**GOOD, "actions": [{"action_id": "riposte.approve", "value": "t" * 2001}]}),
        form({**GOOD, "actions": [{"action_id": "riposte.approve", "value": 7}]}),
        form({**GOOD, "user": "U0APPROVER"}),
        form({**GOOD, "response_url": "file:///etc/passwd"}),
        form({k: v for k, v in GOOD.items() if k != "team"}),
        b"payload=" + b"%5B" * 100_000,  # deeply nested JSON
    ],
)
def test_a_signed_body_that_is_not_a_click_on_a_riposte_button_is_refused(body: bytes) -> None:
    with pytest.raises(slack.BadClick):
        slack.parse(body)


def test_a_click_keeps_the_message_but_not_its_buttons_when_updated() -> None:
    blocks = [{"type": "header"}, {"type": "actions", "block_id": "riposte"}, {"type": "section"}]
    click = slack.parse(form({**GOOD, "message": {"blocks": blocks}}))
    updated = slack.decided(click, "Approved by <@U0> & co")
    assert [b["type"] for b in updated["blocks"]] == ["header", "section", "context"]
    assert updated["blocks"][-1]["elements"][0]["text"] == "Approved by &lt;@U0&gt; &amp; co"


def test_the_page_escapes_what_it_shows() -> None:
    view = page.View("<b>t</b>", "would delete <script>x</script>", (("Target", '"><img src=x>'),),
                     (("approve", "Approve"),))  # fmt: skip
    html = page.render(view)
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert '<form method="post">' in html and "javascript" not in html.lower()
