"""What notify says, and how each sink receives it (shared/messages.py, shared/formats.py).

Alerts are the fixtures real senders produce (a syscall pod alert, the seed's k8s_audit
ConfigMap alert, Falco's own output without uuid), plus the two places a ConfigMap
alert carries credential values: `ka.req.configmap.obj` and a legacy (Falco <= 0.31)
`config=` output. Results are built by the real shared.action.event(). Every payload is
checked against its documented format (tests/payloads.py), with a huge alert too, and
alert text that tries to mention, link or break out of its formatting stays text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared import action, alert
from shared.action import ActionResult, Outcome
from shared.intake import Delivery
from shared.notify import formats, messages
from shared.targets import Target
from tests.helpers import FALCO, action_result, configmap_alert, result_event, sidekick
from tests.payloads import check_slack, check_teams, check_webhook, texts

CREDENTIAL = "AKES20LNOA"
LAYOUTS = {"slack": formats.slack, "teams": formats.teams, "webhook": formats.webhook}
CHECKS = {"slack": check_slack, "teams": check_teams, "webhook": check_webhook}


def seed_with_credentials() -> dict[str, Any]:
    """The seed alert as a leaky deployment sends it: the object and a legacy output."""
    raw = configmap_alert("shop", "aws-creds")
    raw["output_fields"]["ka.req.configmap.obj"] = json.dumps(
        {"metadata": {"name": "aws-creds"}, "data": {"aws_access_key_id": CREDENTIAL}}
    )
    raw["output"] += f' config={{"aws_access_key_id":"{CREDENTIAL}"}}'
    return raw


def shell_alert() -> alert.Alert:
    return alert.parse(sidekick("syscall_terminal_shell_in_container"))


def result_of(
    decision: Outcome, reason: str, raw: dict[str, Any] | None = None, **details: object
) -> ActionResult:
    raw = raw or configmap_alert("shop", "aws-creds", identity="c4d5e6f7-0819-4a2b-9c3d-4e5f6a7b8c9d")
    made = action_result(
        raw, target=Target("ConfigMap", "shop", "aws-creds"), outcome=decision, reason=reason, **details
    )
    headers, body = result_event(made)
    return action.parse(
        Delivery("cloudevents-binary", json.loads(body), {"id": headers["ce-id"], "type": headers["ce-type"]})
    )


def acted() -> ActionResult:
    return result_of(
        Outcome.ACTED,
        "deleted; copy kept in riposte/riposte-cm-0f1e",
        copy="riposte/riposte-cm-0f1e",
        credential_keys=["aws_access_key_id"],
    )


def facts(message: messages.Message) -> dict[str, str]:
    return {fact.label: fact.value for fact in message.facts}


def all_payloads(message: messages.Message) -> dict[str, dict[str, Any]]:
    payloads = {name: layout(message) for name, layout in LAYOUTS.items()}
    for name, payload in payloads.items():
        CHECKS[name](payload)
        json.dumps(payload)  # serialisable as it is sent
    return payloads


# --- alerts --------------------------------------------------------------------------


def test_a_syscall_alert_says_what_where_and_why() -> None:
    message = messages.for_alert(shell_alert())
    assert message.kind is messages.Kind.ALERT
    assert message.key == "alert:5f0c9a4e-8d1b-4c6e-9a57-2f3e41b7c8d0"
    assert message.title == "Falco Notice: Terminal shell in container"
    seen = facts(message)
    assert seen["Pod"] == "shop/web-7c5d8f9b6d-x2lqp"
    assert seen["Container"] == "nginx (docker.io/library/nginx:1.27)"
    assert seen["Host"] == "ip-10-0-12-34.eu-west-1.compute.internal"
    assert seen["Rule"] == "Terminal shell in container"
    assert seen["Priority"] == "Notice"
    assert seen["User"] == "root"
    assert seen["Alert"] == "5f0c9a4e-8d1b-4c6e-9a57-2f3e41b7c8d0"
    assert "pod shop/web-7c5d8f9b6d-x2lqp" in message.summary
    assert message.output.startswith("09:41:07.512334867: Notice A shell was spawned")


def test_a_k8s_audit_alert_names_the_object_user_and_verb() -> None:
    seen = facts(messages.for_alert(alert.parse(configmap_alert("shop", "aws-creds"))))
    assert seen["Object"] == "configmaps shop/aws-creds"
    assert seen["User"] == "alice@example.com"
    assert seen["Verb"] == "create"


def test_an_alert_without_namespace_names_the_object_alone() -> None:
    seen = facts(messages.for_alert(alert.parse(sidekick("k8saudit_configmap_with_private_credentials"))))
    assert seen["Object"] == "configmaps payment-config"


def test_falcos_own_output_without_uuid_is_referenced_by_its_identity() -> None:
    parsed = alert.parse(json.loads((FALCO / "syscall_terminal_shell_in_container.json").read_text()))
    message = messages.for_alert(parsed)
    assert parsed.uuid is None
    assert message.alert_reference == parsed.identity
    assert facts(message)["Alert"] == parsed.identity
    assert message.key == f"alert:{parsed.identity}"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_no_credential_value_reaches_any_sink(layout: str) -> None:
    raw = seed_with_credentials()
    assert CREDENTIAL in json.dumps(raw)  # the input does carry it, twice
    payload = LAYOUTS[layout](messages.for_alert(alert.parse(raw)))
    CHECKS[layout](payload)
    assert CREDENTIAL not in json.dumps(payload, ensure_ascii=False)


def test_the_webhook_gets_the_alert_with_output_fields_redacted() -> None:
    payload = formats.webhook(messages.for_alert(alert.parse(seed_with_credentials())))
    fields = payload["alert"]["output_fields"]
    assert fields["ka.req.configmap.obj"] == "<redacted>"
    assert fields["ka.target.namespace"] == "shop"
    assert payload["alert"]["output"].endswith("config=<redacted>")
    assert payload["result"] is None
    assert payload["key"].startswith("alert:")


@pytest.mark.parametrize(
    ("priority", "tone"),
    [("Notice", messages.Tone.INFO), ("Warning", messages.Tone.WARNING), ("Critical", messages.Tone.DANGER)],
)
def test_the_tone_follows_the_priority(priority: str, tone: messages.Tone) -> None:
    raw = configmap_alert("shop", "x")
    raw["priority"] = priority
    assert messages.for_alert(alert.parse(raw)).tone is tone


# --- results -------------------------------------------------------------------------


def test_a_result_says_what_riposte_did_and_names_the_alert() -> None:
    message = messages.for_result(acted())
    assert message.kind is messages.Kind.RESULT
    assert message.title == "riposte delete-configmap acted on ConfigMap shop/aws-creds"
    assert message.summary.startswith("Deleted; copy kept in riposte/riposte-cm-0f1e.")
    assert "c4d5e6f7-0819-4a2b-9c3d-4e5f6a7b8c9d" in message.summary
    assert message.alert_reference == "c4d5e6f7-0819-4a2b-9c3d-4e5f6a7b8c9d"
    seen = facts(message)
    assert seen["Outcome"] == "acted"
    assert seen["Target"] == "ConfigMap shop/aws-creds"
    assert seen["Copy"] == "riposte/riposte-cm-0f1e"
    assert seen["Credential keys"] == "aws_access_key_id"
    assert seen["Duration"] == "12 ms"
    assert message.tone is messages.Tone.GOOD


def test_a_result_and_its_alert_name_the_same_alert() -> None:
    raw = configmap_alert("shop", "aws-creds")
    for_alert = messages.for_alert(alert.parse(raw))
    for_result = messages.for_result(result_of(Outcome.ACTED, "deleted", raw=raw))
    assert for_alert.alert_reference == for_result.alert_reference == raw["uuid"]
    assert for_alert.key != for_result.key  # two messages, one per kind


def test_the_result_key_is_the_cloudevent_id() -> None:
    result = acted()
    assert messages.for_result(result).key == f"result:{result.id}"


@pytest.mark.parametrize(
    ("decision", "phrase", "tone"),
    [
        (Outcome.ACTED, "acted on", messages.Tone.GOOD),
        (Outcome.ALREADY_DONE, "had already acted on", messages.Tone.GOOD),
        (Outcome.DRY_RUN, "would act on (dry run)", messages.Tone.INFO),
        (Outcome.PARTIAL, "partly acted on", messages.Tone.WARNING),
        (Outcome.REFUSED, "refused to act on", messages.Tone.DANGER),
        (Outcome.FAILED, "failed to act on", messages.Tone.DANGER),
    ],
)
def test_every_outcome_has_its_words_and_tone(decision: Outcome, phrase: str, tone: messages.Tone) -> None:
    message = messages.for_result(result_of(decision, "because"))
    assert message.title == f"riposte delete-configmap {phrase} ConfigMap shop/aws-creds"
    assert message.tone is tone
    all_payloads(message)


def test_the_webhook_gets_the_result_with_its_details() -> None:
    result = acted()
    payload = formats.webhook(messages.for_result(result))
    check_webhook(payload)
    assert payload["result"]["id"] == result.id
    assert payload["result"]["outcome"] == "acted"
    assert payload["result"]["copy"] == "riposte/riposte-cm-0f1e"
    assert payload["result"]["target"] == {"kind": "ConfigMap", "namespace": "shop", "name": "aws-creds"}
    assert payload["alert"]["uuid"] == "c4d5e6f7-0819-4a2b-9c3d-4e5f6a7b8c9d"


def test_a_detail_never_overrides_what_riposte_decided() -> None:
    payload = formats.webhook(messages.for_result(result_of(Outcome.REFUSED, "no", id="forged")))
    assert payload["result"]["id"] != "forged"


def test_a_result_of_a_leaky_alert_carries_no_credential() -> None:
    result = result_of(Outcome.ACTED, "deleted", raw=seed_with_credentials())
    for payload in all_payloads(messages.for_result(result)).values():
        assert CREDENTIAL not in json.dumps(payload, ensure_ascii=False)


# --- the sinks' formats and limits ---------------------------------------------------


@pytest.mark.parametrize(
    "make", [lambda: messages.for_alert(shell_alert()), lambda: messages.for_result(acted())]
)
def test_payloads_match_the_documented_formats(make: Callable[[], messages.Message]) -> None:
    payloads = all_payloads(make())
    slack_types = [block["type"] for block in payloads["slack"]["blocks"]]
    assert slack_types[0] == "header" and slack_types[-1] == "context"
    card = check_teams(payloads["teams"])
    assert [element["type"] for element in card["body"]][:3] == ["TextBlock", "TextBlock", "FactSet"]


def test_a_huge_alert_still_makes_valid_messages_within_the_limits() -> None:
    raw = configmap_alert("shop", "aws-creds")
    raw["rule"] = "R" * 500
    raw["output"] = ("<&>` " * 50_000) + "END"
    raw["output_fields"]["ka.user.name"] = "u" * 5000
    message = messages.for_alert(alert.parse(raw))
    payloads = all_payloads(message)  # each check enforces the sink's limits
    code = payloads["slack"]["blocks"][-2]["text"]["text"]
    assert code.startswith("```") and code.endswith("…```")
    assert "END" not in code
    run = check_teams(payloads["teams"])["body"][-2]["inlines"][0]["text"]
    assert run.endswith("…") and len(run) == formats.TEAMS_OUTPUT_MAX
    assert payloads["webhook"]["alert"]["output"].endswith("END")  # machines get it whole


def test_many_details_spread_over_sections_of_ten_fields_within_fifty_blocks() -> None:
    # Any, not str: mypy checks a **dict[str, str] against result_of's `raw` parameter too
    many: dict[str, Any] = {f"detail_{i}": f"value {i}" for i in range(600)}
    result = result_of(Outcome.PARTIAL, "some", **many)
    payload = formats.slack(messages.for_result(result))
    check_slack(payload)
    assert len(payload["blocks"]) == 50
    assert payload["blocks"][-1]["type"] == "context"


def test_slack_text_cannot_mention_link_or_leave_the_code_block() -> None:
    raw = configmap_alert("shop", "aws-creds")
    raw["output"] = "x <!channel> <https://evil.example|click> ``` *bold* & done"
    raw["output_fields"]["ka.user.name"] = "<!here>"
    payload = formats.slack(messages.for_alert(alert.parse(raw)))
    check_slack(payload)
    for text in texts(payload):
        assert "<!" not in text and "<https" not in text
    code = payload["blocks"][-2]["text"]["text"]
    assert code.count("```") == 2
    assert "&lt;!channel&gt;" in code and "&amp; done" in code


def test_slack_clipping_never_leaves_half_an_entity() -> None:
    raw = configmap_alert("shop", "aws-creds")
    raw["output"] = "&" * 5000
    code = formats.slack(messages.for_alert(alert.parse(raw)))["blocks"][-2]["text"]["text"]
    body = code.removeprefix("```").removesuffix("…```")
    assert body and body.replace("&amp;", "") == ""


def test_teams_text_cannot_carry_a_markdown_link_and_the_output_is_not_markdown() -> None:
    raw = configmap_alert("shop", "aws-creds")
    raw["output_fields"]["ka.user.name"] = "[innocent](https://evil.example)"
    raw["output"] = "[click](https://evil.example)"
    card = check_teams(formats.teams(messages.for_alert(alert.parse(raw))))
    [fact_set] = [element for element in card["body"] if element["type"] == "FactSet"]
    user = next(fact["value"] for fact in fact_set["facts"] if fact["title"] == "User")
    assert user == r"\[innocent\](https://evil.example)"
    [rich] = [element for element in card["body"] if element["type"] == "RichTextBlock"]
    assert rich["inlines"][0]["text"] == "[click](https://evil.example)"


def test_teams_clipping_never_leaves_a_dangling_backslash() -> None:
    assert formats._markdown("a" * 8 + "[" * 10, 10) == "aaaaaaaa…"
    assert formats._markdown("a" * 7 + "[" * 10, 10) == "aaaaaaa\\[…"


def test_clip_marks_what_it_cut() -> None:
    assert formats.clip("abc", 3) == "abc"
    assert formats.clip("abcd", 3) == "ab…"
