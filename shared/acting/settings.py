"""The acting runner's own settings, declared like a function's (config.Setting), read once
at start: a bad value refuses to start.

RIPOSTE_EXEMPT, a JSON list of exemptions that riposte's deployer writes (not the actor an
alert is about, who cannot edit riposte's configuration):

    [{"kind": "Pod", "namespace": "shop", "name": "payments-0"},
     {"kind": "ClusterRoleBinding", "name": "ci-admin"},
     {"kind": "Pod", "selector": {"matchLabels": {"app": "vault"}}},
     {"kind": "ConfigMap", "namespace": "legacy", "selector": {"matchExpressions":
        [{"key": "team", "operator": "In", "values": ["payments"]}]}}]

An exact name (with its namespace, for namespaced kinds) exempts that object; a selector
exempts the objects of that kind (in `namespace`, when given) whose labels it matches,
but only for alerts that are not about the request that wrote those labels (§15).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared import config, labels, names
from shared.approval import record
from shared.kube import resources


@dataclass(frozen=True)
class Exemption:
    """One RIPOSTE_EXEMPT entry."""

    kind: str
    namespace: str | None
    name: str | None
    selector: dict[str, Any] | None


def parse_exemptions(text: str) -> tuple[Exemption, ...]:
    """RIPOSTE_EXEMPT's JSON list; ValueError saying which entry is wrong and why."""
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"must be a JSON list of exemptions: {exc}") from None
    if not isinstance(entries, list):
        raise ValueError("must be a JSON list of exemptions")
    return tuple(_exemption(number, entry) for number, entry in enumerate(entries, 1))


def _exemption(number: int, entry: object) -> Exemption:
    where = f"entry {number}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be an object with kind and a name or selector")
    unknown = set(entry) - {"kind", "namespace", "name", "selector"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in resources.RESOURCES:
        raise ValueError(f"{where}: kind must be one of {', '.join(sorted(resources.RESOURCES))}")
    namespaced = resources.of(kind).namespaced
    namespace, name, selector = entry.get("namespace"), entry.get("name"), entry.get("selector")
    if namespace is not None and (
        not namespaced or not isinstance(namespace, str) or not names.is_dns_label(namespace)
    ):
        raise ValueError(f"{where}: namespace must be a namespace name, and only for namespaced kinds")
    if name is None and selector is None:
        raise ValueError(f"{where}: give a name or a selector")
    if name is not None:
        if not isinstance(name, str) or not names.is_path_segment(name):
            raise ValueError(f"{where}: name must be an object name")
        if namespaced and namespace is None:
            raise ValueError(f"{where}: a {kind} name needs its namespace (exact names only)")
    if selector is not None and (problem := labels.check_selector(selector)):
        raise ValueError(f"{where}: {problem}")
    return Exemption(kind=kind, namespace=namespace, name=name, selector=selector)


EXEMPT: config.Setting[tuple[Exemption, ...]] = config.Setting(
    "RIPOSTE_EXEMPT",
    parse_exemptions,
    (),
    "objects never acted on, written by whoever deploys riposte: a JSON list of "
    '`{"kind", "namespace", "name"}` (exact) or `{"kind", "namespace"?, "selector"}` (labels) '
    'entries (README "Exemptions")',
)


def parse_mode(text: str) -> bool:
    """RIPOSTE_APPROVAL: `required` (True) or `off` (False)."""
    value = text.strip().lower()
    if value not in ("off", "required"):
        raise ValueError(f"must be off or required, found {text!r}")
    return value == "required"


def parse_seconds(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high} seconds, found {value}")
        return value

    return parse


_KEY = re.compile(r"[A-Za-z0-9+/=._~-]{32,}", re.ASCII)


def parse_key(text: str) -> str:
    """An HMAC key: 32 or more characters of hex, base64 or a token alphabet (so a
    placeholder sentence never passes for one: deploy's secrets fail closed)."""
    if _KEY.fullmatch(text) is None:
        raise ValueError("must be at least 32 characters of [A-Za-z0-9+/=._~-] (e.g. openssl rand -hex 32)")
    return text


def parse_link_approval(text: str) -> bool:
    if text.strip() not in ("sso-only", record.LINK_OPEN):
        raise ValueError(f"must be sso-only or {record.LINK_OPEN}, found {text!r}")
    return text.strip() == record.LINK_OPEN


APPROVAL = config.Setting(
    "RIPOSTE_APPROVAL",
    parse_mode,
    False,
    '`required`: verify, then wait for a human\'s approval (README "Approval") instead of acting; `off`: act',
)
APPROVAL_TTL = config.Setting(
    "RIPOSTE_APPROVAL_TTL_SECONDS", parse_seconds(60, 86_400), 900, "how long an approval stays open"
)
APPROVAL_KEY: config.Setting[str | None] = config.Setting(
    "RIPOSTE_APPROVAL_KEY",
    parse_key,
    None,
    "the HMAC key signing approval records (shared with interact, not the sender token); needed with "
    "RIPOSTE_APPROVAL=required",
    secret=True,
)
APPROVERS: config.Setting[frozenset[str]] = config.Setting(
    "RIPOSTE_APPROVERS",
    record.approvers,
    frozenset(),
    "who may approve: Slack user ids and `email:<address>` entries, comma-separated",
)
LINK_APPROVAL = config.Setting(
    "RIPOSTE_LINK_APPROVAL",
    parse_link_approval,
    False,
    f"`{record.LINK_OPEN}`: also accept approvals decided by a link without SSO; default `sso-only`",
)
QUARANTINE_TTL: config.Setting[int | None] = config.Setting(
    "RIPOSTE_QUARANTINE_TTL_SECONDS",
    parse_seconds(1, 30 * 86_400),
    None,
    "isolate-pod and cordon-node: lift the quarantine or cordon after this many seconds (undo's sweep, "
    "within a minute); unset: never",
)


def expires_at(settings: config.Settings, now: datetime.datetime) -> dict[str, str]:
    """The `riposte.io/expires-at` annotation a quarantine gets, or none without a TTL."""
    ttl = QUARANTINE_TTL.of(settings)
    if ttl is None:
        return {}
    return {names.EXPIRES_AT: record.stamp(now + datetime.timedelta(seconds=ttl))}


RUNNER_SETTINGS: tuple[config.Setting[Any], ...] = (
    QUARANTINE_TTL,
    EXEMPT,
    APPROVAL,
    APPROVAL_TTL,
    APPROVAL_KEY,
    APPROVERS,
    LINK_APPROVAL,
)
