"""The HTTP edge: one request in, one answer out, in the order of DESIGN.md §4.

`respond` runs the function's handler between intake and the reply, and is the one place
where errors become statuses and every request becomes one JSON log line. A handler
returns an ActionResult (200 + `riposte.action.v1` CloudEvent), None (204: not for this
function), Handled (204: done, nothing to reply), or raises a RiposteError (its
status). Anything else is a bug: it is logged with its traceback and answered with a
JSON 500, never functions-framework's HTML page.

Why no non-empty non-CloudEvent 2xx body: Knative's broker turns one into a 502 and
redelivers, which would duplicate actions.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import flask

from shared import action, errors, intake, log
from shared import alert as alert_model
from shared.action import ActionResult
from shared.alert import Alert
from shared.config import Settings
from shared.deadline import Deadline
from shared.targets import Target

logger = logging.getLogger("riposte")


@dataclass
class Call:
    """One request in progress: its deadline, and what the log line should name."""

    settings: Settings
    deadline: Deadline
    alert: Alert | None = None
    target: Target | None = None
    warnings: list[str] = field(default_factory=list)

    def alert_from(self, delivery: intake.Delivery) -> Alert:
        """The delivery's Falco alert (400 when it is none)."""
        self.alert = alert_model.parse(delivery.body)
        return self.alert

    def aimed_at(self, target: Target) -> Target:
        """Note the target for the log line, and hand it back."""
        self.target = target
        return target


@dataclass(frozen=True)
class Handled:
    """Done, with nothing to reply (204): notify's answer, so no broker loop starts.

    `summary` and `details` go into the log line only.
    """

    summary: str
    details: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[intake.Delivery, Call], "ActionResult | Handled | None"]


def respond(request: flask.Request, settings: Settings, handler: Handler) -> flask.Response:
    """Answer one HTTP request with `handler`; never raises."""
    call = Call(settings=settings, deadline=Deadline(settings.deadline_seconds))
    entry: dict[str, Any] = {"function": settings.function, "method": request.method, "path": request.path}
    body_read = False
    try:
        if request.method in ("GET", "HEAD"):
            return _json_response(HTTPStatus.OK, {"status": "ok"})  # OpenFaaS /_/health, /_/ready
        if request.method != "POST":
            raise errors.MethodNotAllowed(f"{request.method} is not supported: POST alerts, GET for health")
        raw = intake.read_body(request)
        body_read = True
        delivery = intake.read(request.headers, raw, settings)
        entry["mode"] = delivery.mode
        result = handler(delivery, call)
        if result is None:
            entry["outcome"] = "ignored"
            response = flask.Response(status=HTTPStatus.NO_CONTENT)
        elif isinstance(result, Handled):
            entry.update(outcome=result.summary, **result.details)
            response = flask.Response(status=HTTPStatus.NO_CONTENT)
        else:
            entry.update(outcome=str(result.outcome), reason=result.reason)
            headers, body = reply(result, settings)
            response = flask.Response(body, status=HTTPStatus.OK, headers=headers)
    except errors.RiposteError as exc:
        entry["error"] = exc.message
        response = _error_response(exc, streamed=not body_read)
    except Exception:  # noqa: BLE001 - the last-resort handler: every hit is a bug
        logger.error("unhandled error in %s:\n%s", settings.function, traceback.format_exc())
        entry["error"] = "internal error"
        response = _json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})
    entry["status"] = response.status_code
    entry["duration_ms"] = round(call.deadline.elapsed_ms(), 2)
    _describe(entry, call)
    log.line(entry)
    return response


def reply(result: ActionResult, settings: Settings) -> tuple[dict[str, str], bytes]:
    """Headers and body of `result` as a binary-mode `riposte.action.v1` CloudEvent."""
    return action.binary(action.event(result, token=settings.token))


def _describe(entry: dict[str, Any], call: Call) -> None:
    if call.alert is not None:
        entry["alert"] = {
            "uuid": call.alert.uuid,
            "identity": call.alert.identity,
            "rule": call.alert.rule,
            "priority": call.alert.priority.label,
            "source": call.alert.source,
        }
    if call.target is not None:
        entry["target"] = call.target.subject
    if call.warnings:
        entry["warnings"] = call.warnings


def _error_response(exc: errors.RiposteError, *, streamed: bool) -> flask.Response:
    headers: dict[str, str] = {}
    if isinstance(exc, errors.Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="riposte"'
    if isinstance(exc, errors.Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.MethodNotAllowed):
        headers["Allow"] = "GET, HEAD, POST"
    body = {"error": exc.message, "status": int(exc.status)}
    if streamed:
        # The body was not read (or not all of it): a streamed response stops
        # functions-framework's after-request hook from buffering it whole. gunicorn
        # drops `Connection: close` (kept for other servers) but, given a fixed length
        # and an unread body, closes the connection itself instead of draining it.
        headers["Connection"] = "close"
        answer = json.dumps(body).encode()
        headers["Content-Length"] = str(len(answer))
        return flask.Response(
            _once(answer),
            status=exc.status,
            headers=headers,
            mimetype="application/json",
        )
    return _json_response(exc.status, body, headers)


def _json_response(
    status: HTTPStatus, body: dict[str, Any], headers: dict[str, str] | None = None
) -> flask.Response:
    return flask.Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def _once(chunk: bytes) -> Iterator[bytes]:
    yield chunk
