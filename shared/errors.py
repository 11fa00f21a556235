"""The errors a request can end in, each carrying its HTTP status and public message.

    RiposteError                      status, message (safe to show the sender)
     +-- MethodNotAllowed             405
     +-- PayloadTooLarge              413
     +-- UnsupportedMediaType         415
     +-- BadEnvelope                  400  unparsable body, not an object, broken CloudEvent
     +-- Unauthorized                 401  sender token missing or wrong
     +-- NotAnAlert                   400  envelope fine, but no Falco alert in it
     +-- NotAResult                   400  a `riposte.action.v1` event whose data is malformed
     +-- NotAnApproval                400  a `riposte.approval.v1` event naming no approval record
     +-- InvalidTarget                422  for this function, but the target field is bad
     +-- Unavailable                  503  a dependency stayed down past the deadline;
                                           carries retry_after, safe to redeliver

Statuses live here and only here, so no function ever writes a status number. Every 4xx
is permanent (the sender must not retry), the 503 is temporary. 404, 408, 409 and 429
are never used: Knative's broker retries them, which would turn a refusal into a storm.
"""

from __future__ import annotations

from http import HTTPStatus


class RiposteError(Exception):
    """A request that ends in an error answer; `message` is safe to send back."""

    status: HTTPStatus = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MethodNotAllowed(RiposteError):
    """Only POST carries alerts (GET is the health probe)."""

    status = HTTPStatus.METHOD_NOT_ALLOWED


class PayloadTooLarge(RiposteError):
    """The body is over the 1 MiB limit."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class UnsupportedMediaType(RiposteError):
    """The content type is neither JSON nor CloudEvents JSON."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class BadEnvelope(RiposteError):
    """The body cannot be read as a JSON object or a valid CloudEvent."""

    status = HTTPStatus.BAD_REQUEST


class Unauthorized(RiposteError):
    """A sender token is configured and the request did not present it."""

    status = HTTPStatus.UNAUTHORIZED


class NotAnAlert(RiposteError):
    """The envelope is fine but its content is not a Falco alert."""

    status = HTTPStatus.BAD_REQUEST


class NotAResult(RiposteError):
    """A `riposte.action.v1` CloudEvent whose data is not a result riposte would send."""

    status = HTTPStatus.BAD_REQUEST


class NotAnApproval(RiposteError):
    """A `riposte.approval.v1` CloudEvent whose data names no approval record of this function."""

    status = HTTPStatus.BAD_REQUEST


class InvalidTarget(RiposteError):
    """The alert is for this function, but a target field is missing or not a valid name."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field


class Unavailable(RiposteError):
    """A dependency (Kubernetes API, result sink) stayed unavailable; redeliver later."""

    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConfigError(Exception):
    """The environment is invalid: the function refuses to start."""
