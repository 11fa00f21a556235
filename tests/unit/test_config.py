"""Configuration (DESIGN.md §5): defaults, _FILE forms, and refusal to start on bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import config, errors
from shared.priority import Priority


def load(**env: str) -> config.Settings:
    return config.load("delete-configmap", rules=("R",), min_priority=Priority.WARNING, environ=env)


def test_defaults() -> None:
    s = load()
    assert s.dry_run is False
    assert s.rules == {"R"}
    assert s.min_priority is Priority.WARNING
    assert s.namespace == "riposte"
    assert s.protected_namespaces == {"kube-system", "kube-public", "kube-node-lease", "riposte"}
    assert s.token is None
    assert s.deadline_seconds == 10.0
    assert s.result_url is None


def test_token_from_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("abcdefghijklmnop-1234\n")
    assert load(RIPOSTE_TOKEN_FILE=str(path)).token == "abcdefghijklmnop-1234"


@pytest.mark.parametrize(
    "token", ["short", "has:colon-aaaaaaaaaaaa", "has,comma-aaaaaaaaaaa", "spaces inside token!!"]
)
def test_tokens_falcosidekick_would_drop_refuse_to_start(token: str) -> None:
    with pytest.raises(errors.ConfigError, match="RIPOSTE_TOKEN"):
        load(RIPOSTE_TOKEN=token)


@pytest.mark.parametrize(
    "env",
    [
        {"RIPOSTE_RULES": "Create/Modify"},
        {"RIPOSTE_RULES": "[]"},
        {"RIPOSTE_RULES": "[1, 2]"},
        {"RIPOSTE_MIN_PRIORITY": "Loud"},
        {"RIPOSTE_DRY_RUN": "maybe"},
        {"RIPOSTE_DEADLINE_SECONDS": "0"},
        {"RIPOSTE_DEADLINE_SECONDS": "soon"},
        {"RIPOSTE_RESULT_URL": "ftp://notify"},
        {"RIPOSTE_NAMESPACE": "Riposte"},
        {"RIPOSTE_TOKEN": "abcdefghijklmnopq", "RIPOSTE_TOKEN_FILE": "/x"},
        {"RIPOSTE_TOKEN_FILE": "/nonexistent/token"},
    ],
)
def test_bad_settings_refuse_to_start(env: dict[str, str]) -> None:
    with pytest.raises(errors.ConfigError):
        load(**env)


def test_bad_url_error_does_not_echo_the_url() -> None:
    with pytest.raises(errors.ConfigError) as caught:
        load(RIPOSTE_RESULT_URL="gopher://hooks.example/secret-path")
    assert "secret-path" not in str(caught.value)


def test_rules_priority_and_dry_run_from_environment() -> None:
    s = load(RIPOSTE_RULES='["A", "B"]', RIPOSTE_MIN_PRIORITY="INFO", RIPOSTE_DRY_RUN="yes")
    assert s.rules == {"A", "B"} and s.min_priority is Priority.INFORMATIONAL and s.dry_run
