"""interact's HTTP edge: its three routes, their statuses, one JSON log line per request.

    POST /slack/actions      a click on a riposte button in Slack: verified over the raw
                             body, answered 200 at once, decided in the background, the
                             message then edited through its response_url
    GET|HEAD /review/<t>     the confirmation page of a link: never changes anything
    POST /review/<t>         that page's form: decides, same-origin requests only
    GET|HEAD /, /_/health, /_/ready   health

Unlike the acting functions', these answers are for humans and Slack, never for a broker:
a refusal is a 4xx page or JSON error, a transient failure a 503 that may be retried. The
log line never holds a link token (a link can be a capability: RIPOSTE_LINK_APPROVAL).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import flask
from slack_sdk.signature import SignatureVerifier

from shared import errors, intake, log, webhook
from shared.approval import links, record, undo
from shared.approval.record import Approval, State
from shared.approval.undo import UndoRequest
from shared.deadline import Deadline
from shared.interact import decisions, page, slack
from shared.interact.decisions import Decided, Decider, Decisions
from shared.interact.settings import NAME, Interact, origin_of
from shared.kube import errors as kube_errors
from shared.kube.client import Kube
from shared.notify.messages import Choice

logger = logging.getLogger("riposte")
REVIEW = "/review/"
HEALTH = frozenset({"/", "/_/health", "/_/ready"})
SLACK_WORKERS = 4  # clicks decided at once; more wait their turn (each is a few API calls)
_APPROVAL_ID = re.compile(r"[0-9a-f]{32}", re.ASCII)


@dataclass(frozen=True)
class Link:
    """What a link token names: an approval record, or an Undo."""

    approval_id: str | None = None
    undo: UndoRequest | None = None


def read_link(conf: Interact, token: str) -> Link:
    """The approval or Undo `token` names; links.LinkError when it names neither. Each
    purpose has its own salt, so a token loads under one of them at most."""
    problems = []
    try:
        found = links.loads(conf.link_secret, links.Purpose.DECIDE, token, max_age=conf.approval_ttl)
        approval_id = found.get("id")
        if isinstance(approval_id, str) and _APPROVAL_ID.fullmatch(approval_id):
            return Link(approval_id=approval_id)
        problems.append("this link is not valid")
    except links.LinkError as exc:
        problems.append(str(exc))
    try:
        found = links.loads(conf.link_secret, links.Purpose.UNDO, token, max_age=conf.undo_ttl)
        return Link(undo=undo.from_payload(found))
    except links.LinkError as exc:
        problems.append(str(exc))
    except undo.BadUndo:
        problems.append("this link is not valid")
    raise links.LinkError("this link has expired" if "this link has expired" in problems else problems[0])


class Interactions:
    """Everything interact answers, for one process."""

    def __init__(self, conf: Interact, kube: Kube) -> None:
        self.conf = conf
        self.decisions = Decisions(conf, kube)
        self.verifier = None if conf.slack_secret is None else SignatureVerifier(conf.slack_secret)
        self.pool = ThreadPoolExecutor(max_workers=SLACK_WORKERS, thread_name_prefix="interact-slack")

    def respond(self, request: flask.Request) -> flask.Response:
        """Answer one request; never raises."""
        path = request.path
        shown = REVIEW + "…" if path.startswith(REVIEW) else path[:100]
        entry: dict[str, Any] = {"function": NAME, "method": request.method, "path": shown}
        try:
            response = self._route(request, entry)
        except errors.RiposteError as exc:  # 413 from intake.read_body
            entry["error"] = exc.message
            response = _json(exc.status, {"error": exc.message})
        except Exception:  # noqa: BLE001 - the last-resort handler: every hit is a bug
            logger.error("unhandled error in interact:\n%s", traceback.format_exc())
            entry["error"] = "internal error"
            response = _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})
        entry["status"] = response.status_code
        log.line(entry)
        return response

    def _route(self, request: flask.Request, entry: dict[str, Any]) -> flask.Response:
        method, path = request.method, request.path
        if path == "/slack/actions":
            if method != "POST":
                return _json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "POST only"}, {"Allow": "POST"})
            return self.slack_actions(request, entry)
        if path.startswith(REVIEW):
            token = path.removeprefix(REVIEW)
            if method in ("GET", "HEAD"):
                return self.review(request, token, entry)
            if method == "POST":
                return self.review_decide(request, token, entry)
            return _json(
                HTTPStatus.METHOD_NOT_ALLOWED, {"error": "GET or POST"}, {"Allow": "GET, HEAD, POST"}
            )
        if path in HEALTH and method in ("GET", "HEAD"):
            return _json(HTTPStatus.OK, {"status": "ok"})
        return _json(HTTPStatus.NOT_FOUND, {"error": "interact serves /slack/actions and /review/<token>"})

    # -- Slack ----------------------------------------------------------------------------

    def slack_actions(self, request: flask.Request, entry: dict[str, Any]) -> flask.Response:
        if self.verifier is None:
            return _json(
                HTTPStatus.NOT_FOUND, {"error": "Slack is not set up (RIPOSTE_SLACK_SIGNING_SECRET)"}
            )
        raw = intake.read_body(request)  # the signed bytes, before anything parses them
        if not slack.verified(self.verifier, raw, request.headers):
            entry["error"] = "bad Slack signature"
            return _json(HTTPStatus.UNAUTHORIZED, {"error": "not signed by Slack (or over 5 minutes old)"})
        try:
            click = slack.parse(raw)
        except slack.BadClick as exc:
            entry["error"] = str(exc)
            return _json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        entry.update(choice=str(click.choice), user=click.user[:40])
        if self.conf.team_id is not None and click.team != self.conf.team_id:
            entry["error"] = "another Slack workspace"
            return _json(HTTPStatus.FORBIDDEN, {"error": "this Slack workspace may not decide here"})
        self.pool.submit(self._slack_click, click)
        return flask.Response(status=HTTPStatus.OK)  # at once: Slack waits 3 s at most

    def _slack_click(self, click: slack.Click) -> None:
        entry: dict[str, Any] = {"function": NAME, "slack": str(click.choice), "user": click.user[:40]}
        try:
            decider = decisions.by_slack(self.conf, click.user)
            if isinstance(decider, str):
                decided = Decided(decider, final=False)
            else:
                decided = self._decided(self._deadline(), click.token, click.choice, decider, "slack")
            entry["outcome"] = decided.sentence
            final = decided.final and not decided.again  # else the buttons stay, to click again
            message = slack.decided(click, decided.sentence) if final else slack.ephemeral(decided.sentence)
            slack.update(click, message, self._deadline())
        except (errors.Unavailable, webhook.SinkRejected) as exc:
            entry["warning"] = f"the message could not be updated: {exc}"
        except Exception:  # noqa: BLE001 - a background task has nobody else to tell
            logger.error("unhandled error deciding a Slack click:\n%s", traceback.format_exc())
            entry["error"] = "internal error"
        log.line(entry)

    def _decided(
        self, deadline: Deadline, token: str, choice: Choice, decider: Decider, channel: str
    ) -> Decided:
        try:
            link = read_link(self.conf, token)
        except links.LinkError as exc:
            return Decided(f"{str(exc).capitalize()}: nothing was changed.", final=False)
        return self._on(deadline, link, choice, decider, channel)

    def _on(self, deadline: Deadline, link: Link, choice: Choice, decider: Decider, channel: str) -> Decided:
        if link.undo is not None:
            if choice is not Choice.UNDO:
                return Decided("This is an Undo: it cannot approve or reject; nothing was changed.", False)
            return self.decisions.undo(deadline, link.undo, decider, channel)
        assert link.approval_id is not None
        if choice is Choice.UNDO:
            return Decided("This is an approval: it cannot undo anything; nothing was changed.", False)
        return self.decisions.decide(deadline, link.approval_id, choice, decider, channel)

    def _deadline(self) -> Deadline:
        return Deadline(self.conf.settings.deadline_seconds)

    # -- the review page ------------------------------------------------------------------

    def review(self, request: flask.Request, token: str, entry: dict[str, Any]) -> flask.Response:
        """The confirmation page. Reads only: it never decides, and never even marks an
        expired approval expired (undo's sweep does)."""
        try:
            link = read_link(self.conf, token)
        except links.LinkError as exc:
            return _page(HTTPStatus.BAD_REQUEST, page.View("Not a riposte link", f"{str(exc).capitalize()}."))
        decider = decisions.by_link(self.conf, request.headers, undoing=link.undo is not None)
        if link.undo is not None:
            return _page(HTTPStatus.OK, undo_view(link.undo, decider))
        assert link.approval_id is not None
        entry["approval"] = link.approval_id
        try:
            approval = self.decisions.approval(self._deadline(), link.approval_id)
        except (errors.Unavailable, kube_errors.KubeError):
            return _unavailable("riposte's approval records could not be reached. Reload to try again.")
        except record.BadRecord:
            view = page.View(
                "Not an approval", "This record was not written by riposte: nothing will be done."
            )
            return _page(HTTPStatus.BAD_REQUEST, view)
        if approval is None:
            view = page.View("No such approval", "This approval no longer exists: nothing will be done.")
            return _page(HTTPStatus.NOT_FOUND, view)
        return _page(HTTPStatus.OK, approval_view(approval, decider))

    def review_decide(self, request: flask.Request, token: str, entry: dict[str, Any]) -> flask.Response:
        own = self.conf.origin or origin_of(request.host_url)
        if not page.same_origin(request.headers, own):
            entry["error"] = "not a same-origin request"
            view = page.View(
                "Refused", "Decisions are taken only from riposte's own review page: nothing was changed."
            )
            return _page(HTTPStatus.FORBIDDEN, view)
        form = parse_qs(intake.read_body(request).decode("utf-8", "replace"), max_num_fields=10)
        try:
            choice = Choice(form.get("choice", [""])[0])
        except ValueError:
            return _page(
                HTTPStatus.BAD_REQUEST, page.View("Refused", "No decision was sent: nothing changed.")
            )
        entry["choice"] = str(choice)
        try:
            link = read_link(self.conf, token)
        except links.LinkError as exc:
            return _page(HTTPStatus.BAD_REQUEST, page.View("Not a riposte link", f"{str(exc).capitalize()}."))
        decider = decisions.by_link(self.conf, request.headers, undoing=link.undo is not None)
        if isinstance(decider, str):
            entry["error"] = "not an approver"
            return _page(HTTPStatus.FORBIDDEN, page.View("Refused", decider))
        entry.update(decided_by=decider.who, approval=link.approval_id)
        decided = self._on(self._deadline(), link, choice, decider, "link")
        entry["outcome"] = decided.sentence
        if decided.again:
            view = page.View("Not done yet", decided.sentence, choices=((str(choice), "Try again"),))
            return _page(HTTPStatus.SERVICE_UNAVAILABLE, view, {"Retry-After": "5"})
        if not decided.final:
            return _page(HTTPStatus.BAD_REQUEST, page.View("Refused", decided.sentence))
        return _page(HTTPStatus.OK, page.View("Done", decided.sentence))


def approval_view(approval: Approval, decider: Decider | str) -> page.View:
    target = approval.target
    facts = (
        ("Function", approval.function),
        ("Would", approval.action),
        (
            "Target",
            f"{target.kind} {target.namespace}/{target.name}"
            if target.namespace
            else f"{target.kind} {target.name}",
        ),
        ("Target uid", approval.target_uid),
        ("Rule", str(approval.alert.get("rule", ""))),
        ("Alert", approval.identity),
        ("Requested", approval.requested_at),
        ("Expires", approval.expires_at),
        ("State", decisions.decided_line(approval)),
    )
    if approval.state is not State.PENDING:
        lead = f"This approval is already {decisions.decided_line(approval)}: there is nothing to decide."
        return page.View(f"Already {approval.state}", lead, facts)
    if approval.expired(decisions.now()):
        lead = f"This approval expired at {approval.expires_at}: nothing will be done."
        return page.View("Expired", lead, facts)
    lead = f"Once approved, {approval.function} would {approval.action}: {decisions.shown(target)}."
    return page.View("Approve or reject?", lead, facts, *_form(decider, (("approve", "Approve"),
                                                                          ("reject", "Reject"))))  # fmt: skip


def undo_view(request: UndoRequest, decider: Decider | str) -> page.View:
    facts = (
        ("Undo", request.function),
        ("Target", decisions.shown(request.target)),
        ("Target uid", request.uid),
        ("Alert", request.identity),
    )
    lead = f"undo would reverse what {request.function} did to {decisions.shown(request.target)}."
    return page.View("Undo?", lead, facts, *_form(decider, (("undo", "Undo"),)))


def _form(
    decider: Decider | str, choices: tuple[tuple[str, str], ...]
) -> tuple[tuple[tuple[str, str], ...], str]:
    """The buttons and the note of a page: none, and why, for someone who may not decide."""
    if isinstance(decider, str):
        return (), decider
    if decider.link_mode:
        return choices, "Anyone with this link may decide (RIPOSTE_LINK_APPROVAL); the record will say so."
    return choices, f"You decide as {decider.who}."


def _page(status: HTTPStatus, view: page.View, headers: dict[str, str] | None = None) -> flask.Response:
    return flask.Response(
        page.render(view), status=status, headers={**page.HEADERS, **(headers or {})}, mimetype="text/html"
    )


def _unavailable(sentence: str) -> flask.Response:
    return _page(HTTPStatus.SERVICE_UNAVAILABLE, page.View("Not available", sentence), {"Retry-After": "5"})


def _json(status: HTTPStatus, body: dict[str, Any], headers: dict[str, str] | None = None) -> flask.Response:
    return flask.Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")
