"""interact's settings (README "Approval"), read once at start: a bad or missing value
refuses to start, naming the variable.

The approval settings are the acting functions' own declarations (shared/acting/settings.py:
same names, parsers and docs), so a value means the same on both sides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared import config, errors
from shared.acting.settings import APPROVAL_KEY, APPROVAL_TTL, APPROVERS, LINK_APPROVAL, parse_seconds
from shared.approval import links
from shared.priority import Priority

NAME = "interact"
_HEADER = re.compile(r"[A-Za-z0-9-]{1,64}", re.ASCII)
_TEAM = re.compile(r"[A-Z0-9]{2,32}", re.ASCII)


_SIGNING_SECRET = re.compile(r"[A-Za-z0-9]{20,}", re.ASCII)


def _signing_secret(text: str) -> str:
    """Slack's signing secrets are 32 hex characters; a placeholder sentence never passes."""
    if _SIGNING_SECRET.fullmatch(text) is None:
        raise ValueError("must be the Slack app's signing secret (Basic Information -> App Credentials)")
    return text


def _header_name(text: str) -> str:
    if _HEADER.fullmatch(text) is None:
        raise ValueError(f"must be an HTTP header name (letters, digits, '-'), found {text[:64]!r}")
    return text


def _team(text: str) -> str:
    if _TEAM.fullmatch(text) is None:
        raise ValueError(f"must be a Slack team id such as T0123ABCD, found {text[:32]!r}")
    return text


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return text


def _link_keys(text: str) -> list[str]:
    return links.keys(text)


SLACK_SIGNING_SECRET: config.Setting[str | None] = config.Setting(
    "RIPOSTE_SLACK_SIGNING_SECRET",
    _signing_secret,
    None,
    "the Slack app's signing secret: requests to /slack/actions must carry its signature; unset: "
    "no Slack buttons",
    secret=True,
)
SLACK_TEAM_ID: config.Setting[str | None] = config.Setting(
    "RIPOSTE_SLACK_TEAM_ID", _team, None, "the one Slack workspace (team id) whose clicks count"
)
LINK_SECRET: config.Setting[list[str] | None] = config.Setting(
    "RIPOSTE_LINK_SECRET",
    _link_keys,
    None,
    "the keys of review and undo links and of Slack button values (notify's too), oldest first",
    secret=True,
)
UNDO_TTL = config.Setting(
    "RIPOSTE_UNDO_TTL_SECONDS", parse_seconds(60, 90 * 86_400), 7 * 86_400, "how long an Undo stays valid"
)
SSO_PROXY = config.Flag(
    "RIPOSTE_SSO_PROXY",
    doc="`true`: interact is reachable only through an SSO proxy (oauth2-proxy) whose identity header "
    "it trusts",
)
SSO_EMAIL_HEADER = config.Setting(
    "RIPOSTE_SSO_EMAIL_HEADER",
    _header_name,
    "X-Auth-Request-Email",
    "the header the SSO proxy names the signed-in user in (oauth2-proxy in reverse-proxy mode: "
    "X-Forwarded-Email)",
)
APPROVAL_URL: config.Setting[str | None] = config.Setting(
    "RIPOSTE_APPROVAL_URL",
    _url,
    None,
    "where riposte.approval.v1 events go (deployments without a broker); `{function}` in it becomes the "
    "name of the function the approval is for",
    secret=True,
)
UNDO_URL: config.Setting[str | None] = config.Setting(
    "RIPOSTE_UNDO_URL", _url, None, "where riposte.undo.v1 events go; default K_SINK", secret=True
)
SINK: config.Setting[str | None] = config.Setting(
    "K_SINK", _url, None, "set by interact's Knative SinkBinding: the broker"
)
INTERACT_URL: config.Setting[str | None] = config.Setting(
    "RIPOSTE_INTERACT_URL",
    _url,
    None,
    "interact's public address: only POSTs from its origin decide; unset: the origin the request "
    "was addressed to",
)
DECLARED: tuple[config.Setting[Any], ...] = (
    APPROVAL_KEY,
    APPROVERS,
    APPROVAL_TTL,
    LINK_APPROVAL,
    LINK_SECRET,
    SLACK_SIGNING_SECRET,
    SLACK_TEAM_ID,
    UNDO_TTL,
    SSO_PROXY,
    SSO_EMAIL_HEADER,
    APPROVAL_URL,
    UNDO_URL,
    SINK,
    INTERACT_URL,
)


def origin_of(url: str) -> str:
    """The origin a browser sends for pages of `url`: scheme://host[:port], default ports
    left out, lower-case."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class Interact:
    """What one interact process was configured with."""

    settings: config.Settings  # the common ones: deadline, sender token, kubeconfig
    approval_key: str
    link_secret: list[str]
    approvers: frozenset[str]
    approval_ttl: int
    undo_ttl: int
    link_open: bool  # RIPOSTE_LINK_APPROVAL=anyone-with-link
    slack_secret: str | None
    team_id: str | None
    sso_header: str | None  # only with RIPOSTE_SSO_PROXY=true: otherwise no header is trusted
    approval_url: str
    undo_url: str | None
    origin: str | None  # from RIPOSTE_INTERACT_URL


def load(environ: Mapping[str, str]) -> Interact:
    settings = config.load(NAME, rules=(), min_priority=Priority.DEBUG, declared=DECLARED, environ=environ)
    key, secret = APPROVAL_KEY.of(settings), LINK_SECRET.of(settings)
    if key is None:
        raise errors.ConfigError("interact needs RIPOSTE_APPROVAL_KEY (or _FILE): it signs every decision")
    if secret is None:
        raise errors.ConfigError(
            "interact needs RIPOSTE_LINK_SECRET (or _FILE): notify's buttons and links are signed with it"
        )
    sink = SINK.of(settings)
    approval_url = APPROVAL_URL.of(settings) or sink
    if approval_url is None:
        raise errors.ConfigError(
            "interact needs K_SINK (its SinkBinding) or RIPOSTE_APPROVAL_URL: where approvals go"
        )
    interact_url = INTERACT_URL.of(settings)
    return Interact(
        settings=settings,
        approval_key=key,
        link_secret=secret,
        approvers=APPROVERS.of(settings),
        approval_ttl=APPROVAL_TTL.of(settings),
        undo_ttl=UNDO_TTL.of(settings),
        link_open=LINK_APPROVAL.of(settings),
        slack_secret=SLACK_SIGNING_SECRET.of(settings),
        team_id=SLACK_TEAM_ID.of(settings),
        sso_header=SSO_EMAIL_HEADER.of(settings) if SSO_PROXY.of(settings) else None,
        approval_url=approval_url,
        undo_url=UNDO_URL.of(settings) or sink,
        origin=None if interact_url is None else origin_of(interact_url),
    )
