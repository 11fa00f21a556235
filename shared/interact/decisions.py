"""A human's decision, recorded and handed on. Who may decide, from where.

Approve and reject are a compare-and-swap on the approval record (shared/approval/store):
of two decisions on one record exactly one is written, the other learns who was first. An
approval is then handed to the acting function as a `riposte.approval.v1` CloudEvent; it
re-reads the record, checks interact's signature and its own approvers, re-verifies live
state and acts at most once. So a click repeated on an approved record (a replayed Slack
request, a second tab, a retry after the acting function could not be reached) hands the
approval on again and changes nothing else: that is how a lost delivery heals. An Undo has
no record: it is signed into a `riposte.undo.v1` event for undo, which trusts nothing else.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from cloudevents.http import CloudEvent
from werkzeug.datastructures import Headers

from shared import action, errors, names, retry, webhook
from shared.approval import record, store, undo
from shared.approval.record import Approval, State
from shared.approval.undo import UndoRequest
from shared.deadline import Deadline
from shared.interact.settings import Interact
from shared.kube import errors as kube_errors
from shared.kube.client import Kube
from shared.notify.messages import Choice
from shared.targets import Target

APPROVAL_EVENT = "riposte.approval.v1"  # read by shared/acting/runner.py
SOURCE = "riposte/interact"
ANYONE = "anyone-with-link"  # decided_by of a link decision nobody signed in for
_EMAIL = re.compile(r"[^\s@,;<>\"']{1,64}@[^\s@,;<>\"']{1,190}", re.ASCII)
_SESSION = requests.Session()


@dataclass(frozen=True)
class Decider:
    """Who decides (the record's decided_by), and `link_mode` when a link decided without SSO."""

    who: str
    link_mode: str = ""


@dataclass(frozen=True)
class Decided:
    """How a decision ended, in one sentence for the human who made it."""

    sentence: str
    final: bool  # the record is decided (by this click or an earlier one), or the Undo was sent
    again: bool = False  # a transient failure: the same click may simply be tried again


def by_slack(conf: Interact, user: str) -> Decider | str:
    """A Slack user decides as themselves when listed in RIPOSTE_APPROVERS; else why not."""
    if user in conf.approvers:
        return Decider(user)
    return "You are not one of riposte's approvers (RIPOSTE_APPROVERS): nothing was changed."


def by_link(conf: Interact, headers: Headers, *, undoing: bool) -> Decider | str:
    """Who decides through the review page; else why nobody may here.

    The SSO header is trusted only with RIPOSTE_SSO_PROXY=true (interact reachable through
    the proxy alone): anyone else can send any header. A signed-in user who is not listed
    never decides. Without any identity, only RIPOSTE_LINK_APPROVAL=anyone-with-link lets
    the link itself decide, and the record says so; an Undo always needs a listed identity
    (undo checks its own approvers).
    """
    email = None
    if conf.sso_header is not None:
        sent = headers.get(conf.sso_header, "").strip()
        email = sent if _EMAIL.fullmatch(sent) else None
    if email is not None and f"email:{email}" in conf.approvers:
        return Decider(f"email:{email}")
    if email is not None:  # signed in, and not an approver: no link mode overrides that
        return f"{email} is not one of riposte's approvers (RIPOSTE_APPROVERS): nothing was changed."
    if undoing:
        return (
            "An Undo by link needs a signed-in approver (RIPOSTE_SSO_PROXY behind an SSO proxy, and an "
            "email: entry in RIPOSTE_APPROVERS); use the Slack button instead."
        )
    if conf.link_open:
        return Decider(ANYONE, record.LINK_OPEN)
    return (
        "Deciding by link needs a signed-in approver (RIPOSTE_SSO_PROXY=true behind an SSO proxy) or "
        "RIPOSTE_LINK_APPROVAL=anyone-with-link."
    )


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def shown(target: Target) -> str:
    """An object as people write it: `ConfigMap shop/aws-creds`, `Node node-1`."""
    where = f"{target.namespace}/" if target.namespace else ""
    return f"{target.kind} {where}{target.name}"


def decided_line(approval: Approval) -> str:
    by = f" by {approval.decided_by}" if approval.decided_by else ""
    at = f" at {approval.decided_at}" if approval.decided_at else ""
    return f"{approval.state}{by}{at}"


class Decisions:
    """Decisions on approval records and Undo requests, as interact's ServiceAccount."""

    def __init__(self, conf: Interact, kube: Kube) -> None:
        self.conf = conf
        self.kube = kube

    def approval(self, deadline: Deadline, approval_id: str) -> Approval | None:
        """The record as it is (the review page): a read, never a write."""
        return store.get(self.kube, deadline, approval_id)

    def decide(
        self, deadline: Deadline, approval_id: str, choice: Choice, decider: Decider, channel: str
    ) -> Decided:
        """Approve or reject one record (`channel`: slack or link)."""
        key = self.conf.approval_key
        try:
            approval = store.get(self.kube, deadline, approval_id)
            if approval is None:
                return Decided(f"There is no approval {approval_id}: nothing was done.", final=True)
            if not approval.valid(key):
                return Decided(
                    f"Approval {approval.id} is not signed with riposte's key (edited by hand?): "
                    "nothing was done.",
                    final=True,
                )
            state = State.APPROVED if choice is Choice.APPROVE else State.REJECTED
            try:
                decided = store.decide(
                    self.kube, deadline, key, approval, state=state, decided_by=decider.who,
                    channel=channel, now=now(), link_mode=decider.link_mode,
                )  # fmt: skip
            except store.AlreadyDecided as exc:
                current = exc.approval
                if choice is Choice.APPROVE and current.state is State.APPROVED and current.valid(key):
                    return self._hand_on(deadline, current, first=f"Already {decided_line(current)}")
                return Decided(f"Approval {current.id} is already {decided_line(current)}.", final=True)
        except record.BadRecord:
            return Decided(f"{approval_id} is not an approval riposte wrote: nothing was done.", final=True)
        except (errors.Unavailable, kube_errors.KubeError):
            return Decided(
                "riposte's approval records could not be reached: nothing was decided. Try again.",
                final=False,
                again=True,
            )
        if decided.state is State.REJECTED:
            return Decided(
                f"Rejected by {decider.who}: {decided.function} will not {decided.action} "
                f"({shown(decided.target)}).",
                final=True,
            )
        return self._hand_on(deadline, decided, first=f"Approved by {decider.who}")

    def _hand_on(self, deadline: Deadline, approval: Approval, *, first: str) -> Decided:
        data = {"id": approval.id, "function": approval.function}
        if not names.is_dns_label(approval.function):  # it names a URL path below: be sure
            return Decided(f"Approval {approval.id} names no function: nothing was done.", final=True)
        url = self.conf.approval_url.replace("{function}", approval.function)
        try:
            answer = deliver(
                "the approval sink", url, deadline, APPROVAL_EVENT, data,
                token=self.conf.settings.token, extensions={"function": approval.function},
            )  # fmt: skip
        except (errors.Unavailable, webhook.SinkRejected):
            return Decided(
                f"{first}, but {approval.function} could not be reached: approve again to retry "
                "(it acts at most once).",
                final=True,
                again=True,
            )
        asked = f"{approval.function} was asked to {approval.action} ({shown(approval.target)})"
        return Decided(f"{first}: {asked}.{answer}", final=True)

    def undo(self, deadline: Deadline, request: UndoRequest, decider: Decider, channel: str) -> Decided:
        """Hand one Undo, signed, to undo."""
        if self.conf.undo_url is None:
            return Decided("Undo is not set up here (RIPOSTE_UNDO_URL or K_SINK): nothing was done.", True)
        data = undo.event_data(
            self.conf.approval_key, request, decided_by=decider.who, channel=channel,
            decided_at=record.stamp(now()),
        )  # fmt: skip
        try:
            answer = deliver("undo", self.conf.undo_url, deadline, undo.EVENT_TYPE, data,
                             token=self.conf.settings.token)  # fmt: skip
        except (errors.Unavailable, webhook.SinkRejected):
            return Decided("undo could not be reached: nothing was done. Try again.", final=False, again=True)
        return Decided(
            f"Undo asked by {decider.who}: undo was asked to reverse what {request.function} did to "
            f"{shown(request.target)}.{answer}",
            final=True,
        )


def deliver(
    name: str,
    url: str,
    deadline: Deadline,
    event_type: str,
    data: dict[str, Any],
    *,
    token: str | None,
    extensions: Mapping[str, str] | None = None,
) -> str:
    """POST one binary-mode CloudEvent (retrying 429/5xx within the deadline). When the
    function answered directly (no broker) with its result, a sentence about it."""
    attributes = {"type": event_type, "source": SOURCE, "id": str(uuid.uuid4()), **(extensions or {})}
    if token is not None:
        attributes["authtoken"] = token
    headers, body = action.binary(CloudEvent(attributes, data))

    def attempt(timeout: retry.Timeout) -> str:
        try:
            response = _SESSION.post(
                url,
                data=body,
                headers=headers,
                timeout=(timeout.connect, timeout.read),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise retry.Again(f"{name} unreachable ({type(exc).__name__})") from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise retry.Again(f"{name} answered {status}", retry.seconds(response.headers.get("Retry-After")))
        if not 200 <= status < 300:
            raise webhook.SinkRejected(name, status)
        return answered(response)

    return retry.until_deadline(deadline, attempt, limits=webhook.LIMITS, backoff=webhook.BACKOFF, what=name)


def answered(response: requests.Response) -> str:
    """` <function> answered: <outcome> (<reason>).` for a riposte.action.v1 reply; else ''."""
    if response.headers.get("ce-type") != action.EVENT_TYPE:
        return ""
    try:
        result = json.loads(response.content)
        function, outcome, reason = (str(result.get(k, ""))[:300] for k in ("function", "outcome", "reason"))
    except (ValueError, AttributeError):
        return ""
    return f" {function} answered: {outcome} ({reason})."
