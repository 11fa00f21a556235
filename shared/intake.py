"""An HTTP request -> a Delivery: the body as a JSON object, from any accepted envelope.

Accepted on one endpoint (DESIGN.md §3): CloudEvents binary mode (Falcosidekick's
`cloudevents` output), CloudEvents structured mode, and a plain JSON object (Falcosidekick
webhook/OpenFaaS/Kubeless/Fission outputs, Falco's own `http_output`).

The mode is chosen from the headers *before* parsing, never by "try CloudEvents, fall
back to JSON": a broken CloudEvent must be a 400, not an alert read some other way.
Checks run in the order of DESIGN.md §4: size 413, media type 415, envelope 400, token 401.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import flask
import orjson
from cloudevents import exceptions as ce_errors
from cloudevents.http import from_http
from werkzeug.datastructures import EnvironHeaders, Headers
from werkzeug.wsgi import get_content_length

from shared import errors
from shared.config import Settings

MAX_BODY = 1024 * 1024
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type")
STRUCTURED = "application/cloudevents+json"
JSON = "application/json"
TOKEN_EXTENSION = "authtoken"
# The two headers WSGI names without the HTTP_ prefix (PEP 3333).
_UNPREFIXED = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


@dataclass(frozen=True)
class Delivery:
    """One accepted request: how it came, and its JSON object."""

    mode: str  # "cloudevents-binary" | "cloudevents-structured" | "json"
    body: dict[str, object]
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def event_type(self) -> str | None:
        """The CloudEvent type, None for plain JSON (always a Falco alert)."""
        return self.attributes.get("type")


def read(headers: Headers, raw: bytes, settings: Settings) -> Delivery:
    """Parse and authenticate a POST's body (read by read_body); §4 steps 2-4."""
    content_type = _header(headers, "Content-Type") or ""
    media_type = _media_type(content_type)
    context = _ce_context(headers)
    if context:
        if media_type != JSON:
            raise errors.UnsupportedMediaType(
                f"a binary-mode CloudEvent must carry {JSON} data, found {media_type or 'none'}"
            )
        delivery = _binary_cloudevent(content_type, context, raw)
    elif media_type == STRUCTURED:
        delivery = _structured_cloudevent(headers, raw)
    elif media_type == JSON:
        delivery = Delivery(mode="json", body=_json_object(raw, "the body"))
    else:
        raise errors.UnsupportedMediaType(
            f"expected Content-Type {JSON} or {STRUCTURED}, found {media_type or 'none'}"
        )
    authenticate(settings, headers, delivery)
    return delivery


def read_body(request: flask.Request) -> bytes:
    """At most MAX_BODY bytes, read from the stream so a huge body is never buffered."""
    # From the environ, as `request.content_length` reads it but without its look-up of
    # an absent Transfer-Encoding header through an exception.
    declared = get_content_length(request.environ)
    if declared is not None and declared > MAX_BODY:
        raise errors.PayloadTooLarge(f"body of {declared} bytes is over the {MAX_BODY}-byte limit")
    raw: bytes = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise errors.PayloadTooLarge(f"body is over the {MAX_BODY}-byte limit")
    return raw


def authenticate(settings: Settings, headers: Headers, delivery: Delivery) -> None:
    """When a token is configured, the sender must present it (Bearer or `authtoken`),
    except for the event types the function declared open (they carry no authority)."""
    if settings.token is None or delivery.event_type in settings.open_event_types:
        return
    presented = [
        value
        for value in (_bearer(_header(headers, "Authorization")), delivery.attributes.get(TOKEN_EXTENSION))
        if value
    ]
    if not presented:
        raise errors.Unauthorized(
            "missing sender token: send 'Authorization: Bearer <token>' or the "
            "CloudEvents extension 'authtoken'"
        )
    expected = settings.token.encode()
    # Every presented value is compared, always, so timing does not reveal which matched.
    results = [hmac.compare_digest(value.encode(), expected) for value in presented]
    if not any(results):
        raise errors.Unauthorized("wrong sender token")


def _header(headers: Headers, name: str) -> str | None:
    """One header's value, or None. A served request's header is read from its environ
    directly: EnvironHeaders.get answers a missing header by building and catching an
    HTTP exception, the dearest step of an alert sent without `Authorization`."""
    if isinstance(headers, EnvironHeaders):
        key = name.upper().replace("-", "_")
        value: str | None = headers.environ.get(key if key in _UNPREFIXED else f"HTTP_{key}")
        return value
    return headers.get(name)


def _ce_context(headers: Headers) -> dict[str, str]:
    """The `ce-*` headers, named as the attributes they carry in binary mode (without the
    prefix, lower-case: HTTP binding §3.1.3), in one pass: a WSGI request's headers are
    a view of its environ, and every lookup walks all of it."""
    if isinstance(headers, EnvironHeaders):  # a served request: read its environ directly
        # HTTP_CE_* is what EnvironHeaders names Ce-*. The server has already joined a
        # repeated header's values into one (gunicorn: with ","), as WSGI requires.
        return {
            key[8:].replace("_", "-").lower(): value
            for key, value in headers.environ.items()
            if key[:8] == "HTTP_CE_"
        }
    found: dict[str, str] = {}
    for key, value in headers.items():
        lower = key.lower()
        if lower.startswith("ce-"):
            if lower[3:] in found:
                raise errors.BadEnvelope(f"the {_title(lower)} header is repeated")
            found[lower[3:]] = value
    return found


def _binary_cloudevent(content_type: str, context: dict[str, str], raw: bytes) -> Delivery:
    for name in REQUIRED_ATTRIBUTES:
        if not context.get(name):
            raise errors.BadEnvelope(f"binary-mode CloudEvent without the {_title('ce-' + name)} header")
    if context["specversion"] != "1.0":
        found = context["specversion"][:16]
        raise errors.BadEnvelope(f"CloudEvents specversion must be 1.0, found {found!r}")
    data = _json_object(raw, "the CloudEvent data")
    # The context attributes are those headers, all strings, the required ones checked
    # non-empty above, and datacontenttype is Content-Type: exactly what the SDK's
    # from_http reads, without its second walk over every header and a copy of the
    # event, a third of an ignored alert's cost. Every check it makes is made above.
    return Delivery(
        mode="cloudevents-binary", body=data, attributes={**context, "datacontenttype": content_type}
    )


def _structured_cloudevent(headers: Headers, raw: bytes) -> Delivery:
    envelope = _json_object(raw, "the structured CloudEvent")
    if envelope.get("specversion") != "1.0":
        raise errors.BadEnvelope(
            f"CloudEvents specversion must be 1.0, found {str(envelope.get('specversion'))[:16]!r}"
        )
    for name in ("id", "source", "type"):
        value = envelope.get(name)
        if not isinstance(value, str) or not value:
            raise errors.BadEnvelope(f"structured CloudEvent without a string '{name}'")
    # The SDK re-serialises structured data for its unmarshaller; the envelope's own
    # object is the data.
    data = envelope.get("data")
    if "data_base64" in envelope or not isinstance(data, dict):
        raise errors.BadEnvelope("the CloudEvent 'data' must be a JSON object")
    event = _from_http(headers, raw)
    return Delivery(mode="cloudevents-structured", body=data, attributes=_attributes(event))


def _from_http(headers: Headers, raw: bytes) -> Any:
    """The SDK's parse, with its assorted exceptions folded into one 400."""
    try:
        # Identity unmarshaller: the data is parsed once, strictly, by _json_object.
        return from_http(dict(headers.items()), raw, data_unmarshaller=lambda data: data)
    except (ce_errors.GenericException, TypeError, ValueError, RecursionError, AttributeError) as exc:
        raise errors.BadEnvelope(f"not a valid CloudEvent: {type(exc).__name__}") from exc


def _attributes(event: Any) -> dict[str, str]:
    """Context attributes and extensions, strings only (others are not ours to read)."""
    return _strings(event.get_attributes())


def _strings(found: Mapping[str, object]) -> dict[str, str]:
    """The string-valued attributes, after checking the required ones are non-empty."""
    attributes = {key: value for key, value in found.items() if isinstance(value, str)}
    for name in ("id", "source", "type", "specversion"):
        if not attributes.get(name):
            raise errors.BadEnvelope(f"CloudEvent attribute '{name}' must be a non-empty string")
    return attributes


def _json_object(raw: bytes, what: str) -> dict[str, object]:
    if not raw:
        raise errors.BadEnvelope(f"{what} is empty")
    try:
        # Strict RFC 8259: UTF-8 only (no lone surrogates), no NaN/Infinity, no number
        # that overflows to infinity, nesting at most 1,024 deep; a third of json.loads's
        # cost on every alert, ignored or not.
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.BadEnvelope(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise errors.BadEnvelope(f"{what} must be a JSON object, found {type(value).__name__}")
    return value


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def _title(key: str) -> str:
    return "-".join(part.capitalize() for part in key.split("-"))
