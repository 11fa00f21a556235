"""notify offers decisions (DESIGN §13): Approve and Reject on a pending approval, Undo on
an action riposte can reverse; Slack gets buttons carrying signed tokens, Teams and the
generic webhook a link to interact's review page. A token for one purpose never serves
another, and a forged value never loads."""

from __future__ import annotations

from typing import Any

import pytest

from shared.action import Outcome
from shared.approval import links, undo
from shared.notify import formats, messages
from shared.targets import Target
from tests.helpers import action_result, configmap_alert
from tests.payloads import check_slack, check_teams, check_webhook

SECRET = ["an-old-link-key-0123456789", "the-new-link-key-0123456789"]
OFFER = messages.Links(secret=SECRET, interact_url="https://riposte.example.com/")
TARGET = Target("ConfigMap", "shop", "aws-creds")


def result(outcome: Outcome, function: str = "delete-configmap", **details: Any) -> messages.Message:
    made = action_result(
        configmap_alert("shop", "aws-creds"), target=TARGET, outcome=outcome, function=function, **details
    )
    return messages.for_result(made, OFFER)


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_a_pending_approval_offers_approve_and_reject() -> None:
    message = result(Outcome.PENDING_APPROVAL, approval="0f" * 16, expires_at="2026-12-03T09:00:00Z")
    slack = formats.slack(message)
    check_slack(slack)
    approve, reject = buttons(slack)
    assert (approve["action_id"], reject["action_id"]) == ("riposte.approve", "riposte.reject")
    assert approve["style"] == "primary" and reject["style"] == "danger" and "confirm" in reject
    assert links.loads(SECRET, links.Purpose.DECIDE, approve["value"], max_age=900) == {"id": "0f" * 16}
    card = check_teams(formats.teams(message))
    [review] = card["actions"]
    assert review["type"] == "Action.OpenUrl" and review["title"] == "Review"
    assert review["url"].startswith("https://riposte.example.com/review/")
    hook = formats.webhook(message)
    check_webhook(hook)
    assert hook["links"] == {"review": review["url"]}


def test_an_acted_reversible_action_offers_undo_naming_exactly_what_was_done() -> None:
    message = result(Outcome.ACTED, uid="u-1", copy="riposte/riposte-cm-u-1")
    [button] = buttons(formats.slack(message))
    assert button["action_id"] == "riposte.undo"
    payload = links.loads(SECRET, links.Purpose.UNDO, button["value"], max_age=60)
    request = undo.from_payload(payload)
    assert (request.function, request.target, request.uid) == ("delete-configmap", TARGET, "u-1")
    with pytest.raises(links.LinkError):  # an undo token can never approve
        links.loads(SECRET, links.Purpose.DECIDE, button["value"], max_age=60)
    assert check_teams(formats.teams(message))["actions"][0]["title"] == "Undo"


@pytest.mark.parametrize("outcome", [Outcome.REFUSED, Outcome.FAILED, Outcome.DRY_RUN, Outcome.ALREADY_DONE])
def test_nothing_to_decide_offers_nothing(outcome: Outcome) -> None:
    message = result(outcome, uid="u-1")
    assert message.actions == () and buttons(formats.slack(message)) == []
    assert "actions" not in check_teams(formats.teams(message))


def test_an_action_without_an_undo_offers_none() -> None:
    assert result(Outcome.ACTED, function="label-pod", uid="u-1").actions == ()


def test_without_link_keys_no_decision_is_offered() -> None:
    made = action_result(
        configmap_alert("shop", "x"), target=TARGET, outcome=Outcome.PENDING_APPROVAL, approval="a"
    )
    assert messages.for_result(made).actions == ()


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "eyJpZCI6ImEifQ.ZZZZZZ.forged-signature-aaaaaaaaaaaaaaaaaaaa"],
)
def test_a_forged_or_malformed_token_never_loads(token: str) -> None:
    with pytest.raises(links.LinkError):
        links.loads(SECRET, links.Purpose.DECIDE, token, max_age=900)


def test_keys_rotate_oldest_first() -> None:
    old = links.dumps(SECRET[:1], links.Purpose.DECIDE, {"id": "a"})
    assert links.loads(SECRET, links.Purpose.DECIDE, old, max_age=60) == {"id": "a"}
    new = links.dumps(SECRET, links.Purpose.DECIDE, {"id": "b"})
    with pytest.raises(links.LinkError):
        links.loads(SECRET[:1], links.Purpose.DECIDE, new, max_age=60)
