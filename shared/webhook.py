"""Outgoing HTTP POSTs (result sink, notification sinks) with bounded retries.

Retries 429 and 5xx (honouring Retry-After) and connection errors, all inside the
request's Deadline; past it, errors.Unavailable (503: the sender redelivers later).
Any other 4xx is permanent: SinkRejected. URLs are secrets (Slack and Teams webhook URLs
carry their credential in the path): they never appear in errors or logs; the caller
names the sink instead.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

import requests

from shared import errors
from shared.deadline import Deadline

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
BACKOFF_BASE = 0.1
BACKOFF_CAP = 2.0

_session = requests.Session()


class SinkRejected(Exception):
    """The sink answered a permanent 4xx; retrying the same payload cannot help."""

    def __init__(self, sink: str, status: int) -> None:
        super().__init__(f"{sink} rejected the message ({status})")
        self.sink = sink
        self.status = status


def post(
    sink: str,
    url: str,
    deadline: Deadline,
    *,
    body: bytes,
    headers: Mapping[str, str],
) -> int:
    """POST `body` to `url` until a 2xx; returns its status. `sink` names it in errors."""
    attempt = 0
    while True:
        remaining = deadline.remaining()
        if remaining <= 0.05:
            raise errors.Unavailable(f"{sink} did not accept within the deadline")
        timeout = (min(CONNECT_TIMEOUT, remaining), min(READ_TIMEOUT, remaining))
        retry_after: float | None = None
        try:
            response = _session.post(
                url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False
            )
            response.close()
            if 200 <= response.status_code < 300:
                return response.status_code
            if response.status_code != 429 and response.status_code < 500:
                raise SinkRejected(sink, response.status_code)
            retry_after = _seconds(response.headers.get("Retry-After"))
            problem = f"{sink} answered {response.status_code}"
        except requests.RequestException as exc:
            problem = f"{sink} unreachable ({type(exc).__name__})"
        attempt += 1
        delay = (
            retry_after
            if retry_after is not None
            else random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))
        )
        if delay >= deadline.remaining() - 0.05:
            raise errors.Unavailable(f"{problem}; gave up within the deadline")
        time.sleep(delay)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff
