"""An approval: one pending decision on one action, and how it was decided. Pure.

An acting function run with RIPOSTE_APPROVAL=required verifies live state as usual, then,
instead of acting, stores a pending approval. Its id is the first 32 hex of
sha256(function, alert identity), so a redelivered alert finds the same record. A human
decides through interact (a Slack button or the review page); the acting function acts
only on a record that is `approved`, not expired, signed with RIPOSTE_APPROVAL_KEY, for
the same target uid, decided by someone in its own RIPOSTE_APPROVERS.

The signature is HMAC-SHA256 over (id, function, target uid, state, decided_by,
decided_at) with RIPOSTE_APPROVAL_KEY, not the sender token: whoever can edit the
ConfigMap without the key cannot approve. No credential value is ever stored here: the
alert is kept redacted (shared/redact).
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from shared import redact
from shared.alert import Alert
from shared.targets import Target

NAMESPACE = "riposte-approvals"
LINK_OPEN = "anyone-with-link"  # RIPOSTE_LINK_APPROVAL: decisions by link without SSO


class State(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


def approval_id(function: str, identity: str) -> str:
    return hashlib.sha256(f"{function}\0{identity}".encode()).hexdigest()[:32]


def config_map_name(approval: str) -> str:
    return f"riposte-approval-{approval}"


def stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Approval:
    """One approval record, as stored (every field a string in the ConfigMap's data)."""

    id: str
    function: str
    action: str  # what would be done, said as "would …" completes it
    target: Target
    target_uid: str
    alert: dict[str, Any]  # the alert's JSON, redacted: the acting function re-runs on it
    requested_at: str
    expires_at: str
    state: State = State.PENDING
    decided_by: str = ""
    decided_at: str = ""
    channel: str = ""  # slack | link | sweep
    link_mode: str = ""  # "anyone-with-link" when a link decided without SSO
    signature: str = ""
    resource_version: str = ""

    @property
    def identity(self) -> str:
        return str(self.alert.get("uuid", ""))

    def expired(self, now: datetime.datetime) -> bool:
        return now >= parse_stamp(self.expires_at)

    def signed(self, key: str) -> Approval:
        return replace(self, signature=signature(key, self))

    def valid(self, key: str) -> bool:
        return hmac.compare_digest(self.signature.encode(), signature(key, self).encode())


def signature(key: str, approval: Approval) -> str:
    message = "\0".join(
        [approval.id, approval.function, approval.target_uid, str(approval.state), approval.decided_by,
         approval.decided_at]
    )  # fmt: skip
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def request(
    *,
    function: str,
    action: str,
    alert: Alert,
    target: Target,
    target_uid: str,
    now: datetime.datetime,
    ttl_seconds: int,
    key: str,
) -> Approval:
    """A new pending approval for `alert`, kept redacted. Its `uuid` is the alert's identity
    (for Falco's own output, which has none, riposte's hash of it), so the alert parsed
    back from the record has the identity the original had, whatever redaction changed."""
    kept: dict[str, Any] = {
        "uuid": alert.identity,
        "rule": alert.rule,
        "priority": alert.priority.label,
        "output": redact.output(alert.output, rule=alert.rule),
        "time": alert.time,
        "source": alert.source,
        "hostname": alert.hostname,
        "tags": list(alert.tags),
        "output_fields": redact.fields(alert.fields),
    }
    return Approval(
        id=approval_id(function, alert.identity),
        function=function,
        action=action,
        target=target,
        target_uid=target_uid,
        alert=kept,
        requested_at=stamp(now),
        expires_at=stamp(now + datetime.timedelta(seconds=ttl_seconds)),
    ).signed(key)


def to_data(approval: Approval) -> dict[str, str]:
    """The ConfigMap's data."""
    return {
        "id": approval.id,
        "function": approval.function,
        "action": approval.action,
        "target": json.dumps(
            {
                "kind": approval.target.kind,
                "namespace": approval.target.namespace,
                "name": approval.target.name,
            }
        ),
        "target-uid": approval.target_uid,
        "alert": json.dumps(approval.alert, sort_keys=True),
        "alert-identity": approval.identity,
        "alert-rule": str(approval.alert.get("rule", "")),
        "requested-at": approval.requested_at,
        "expires-at": approval.expires_at,
        "state": str(approval.state),
        "decided-by": approval.decided_by,
        "decided-at": approval.decided_at,
        "channel": approval.channel,
        "link-mode": approval.link_mode,
        "signature": approval.signature,
    }


class BadRecord(Exception):
    """A ConfigMap that is not an approval riposte wrote (edited by hand, truncated)."""


def from_data(data: Mapping[str, str], resource_version: str = "") -> Approval:
    try:
        target = json.loads(data["target"])
        alert = json.loads(data["alert"])
        return Approval(
            id=data["id"],
            function=data["function"],
            action=data["action"],
            target=Target(str(target["kind"]), target.get("namespace"), str(target["name"])),
            target_uid=data["target-uid"],
            alert=alert if isinstance(alert, dict) else {},
            requested_at=data["requested-at"],
            expires_at=data["expires-at"],
            state=State(data["state"]),
            decided_by=data.get("decided-by", ""),
            decided_at=data.get("decided-at", ""),
            channel=data.get("channel", ""),
            link_mode=data.get("link-mode", ""),
            signature=data.get("signature", ""),
            resource_version=resource_version,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise BadRecord(f"not an approval record: {type(exc).__name__}") from None


def approvers(text: str) -> frozenset[str]:
    """RIPOSTE_APPROVERS: Slack user ids (`U…`) and `email:<address>` entries."""
    return frozenset(entry.strip() for entry in text.split(",") if entry.strip())
