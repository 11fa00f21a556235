"""notify's settings (shared/notifier.py `load`): sinks enabled by URL, env or _FILE form,
alert messages on by default, and webhook URLs never echoed (repr, errors, warnings).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from shared import config, errors
from shared.notify import formats
from shared.notify import sinks as notifier
from shared.priority import Priority

SECRET = "T0000/B0000/s3cr3tW3bh00kPath"
SLACK = f"https://hooks.slack.example/services/{SECRET}"
TEAMS = f"https://teams.example/workflows/{SECRET}"
WEBHOOK = f"https://hooks.example/riposte/{SECRET}"


def test_each_sink_is_enabled_by_its_url_in_a_fixed_order() -> None:
    loaded = notifier.load(
        "notify",
        {
            "RIPOSTE_WEBHOOK_URL": WEBHOOK,
            "RIPOSTE_SLACK_WEBHOOK_URL": SLACK,
            "RIPOSTE_TEAMS_WEBHOOK_URL": TEAMS,
        },
    )
    assert [(sink.name, sink.url) for sink in loaded.sinks] == [
        ("slack", SLACK),
        ("teams", TEAMS),
        ("webhook", WEBHOOK),
    ]
    assert [sink.layout for sink in loaded.sinks] == [formats.slack, formats.teams, formats.webhook]


def test_a_url_can_come_from_a_mounted_secret_file(tmp_path: Path) -> None:
    path = tmp_path / "slack-url"
    path.write_text(SLACK + "\n")
    [sink] = notifier.load("notify", {"RIPOSTE_SLACK_WEBHOOK_URL_FILE": str(path)}).sinks
    assert (sink.name, sink.url) == ("slack", SLACK)


def test_the_url_stays_out_of_repr() -> None:
    loaded = notifier.load("notify", {"RIPOSTE_SLACK_WEBHOOK_URL": SLACK})
    assert SECRET not in repr(loaded)
    assert "slack" in repr(loaded)


@pytest.mark.parametrize("bad", ["ftp://hooks.example/" + SECRET, "hooks.example/" + SECRET, SECRET])
def test_a_bad_url_refuses_to_start_without_echoing_it(bad: str) -> None:
    with pytest.raises(errors.ConfigError) as raised:
        notifier.load("notify", {"RIPOSTE_TEAMS_WEBHOOK_URL": bad})
    assert "RIPOSTE_TEAMS_WEBHOOK_URL" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_no_sink_warns_at_start(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="riposte"):
        loaded = notifier.load("notify", {})
    assert loaded.sinks == ()
    assert "no sink configured" in caplog.text


def test_a_configured_sink_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="riposte"):
        notifier.load("notify", {"RIPOSTE_WEBHOOK_URL": WEBHOOK})
    assert caplog.text == ""


@pytest.mark.parametrize(("raw", "expected"), [(None, True), ("true", True), ("false", False), ("0", False)])
def test_alert_messages_are_on_unless_turned_off(raw: str | None, expected: bool) -> None:
    env = {} if raw is None else {"RIPOSTE_NOTIFY_ALERTS": raw}
    assert notifier.load("notify", env).alerts is expected


def test_a_bad_alerts_flag_refuses_to_start() -> None:
    with pytest.raises(errors.ConfigError, match="RIPOSTE_NOTIFY_ALERTS"):
        notifier.load("notify", {"RIPOSTE_NOTIFY_ALERTS": "sometimes"})


def test_an_empty_sink_file_leaves_that_sink_off(tmp_path: Path) -> None:
    slack, teams = tmp_path / "slack", tmp_path / "teams"
    slack.write_text("https://hooks.slack.com/services/T0/B0/x\n")
    teams.write_text("")
    loaded = notifier.load(
        "notify",
        {"RIPOSTE_SLACK_WEBHOOK_URL_FILE": str(slack), "RIPOSTE_TEAMS_WEBHOOK_URL_FILE": str(teams)},
    )
    assert [sink.name for sink in loaded.sinks] == ["slack"]


def test_an_empty_token_file_still_refuses_to_start(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("\n")
    with pytest.raises(errors.ConfigError, match="empty"):
        config.load(
            "notify", rules=(), min_priority=Priority.WARNING, environ={"RIPOSTE_TOKEN_FILE": str(token)}
        )
