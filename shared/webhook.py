"""Outgoing HTTP POSTs (result sink, notification sinks) with bounded retries.

Retries 429 and 5xx (honouring Retry-After) and connection errors inside the request's
Deadline (shared/retry.py); past it, errors.Unavailable (503: the sender redelivers
later). Any other 4xx is permanent: SinkRejected. URLs are secrets (Slack and Teams
webhook URLs carry their credential in the path): they never appear in errors or logs;
the caller names the sink instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests

from shared import retry
from shared.deadline import Deadline

LIMITS = retry.Timeout(connect=2.0, read=5.0)
BACKOFF = retry.Backoff(base=0.1, cap=2.0)

_session = requests.Session()


class SinkRejected(Exception):
    """The sink answered a permanent 4xx; retrying the same payload cannot help."""

    def __init__(self, sink: str, status: int) -> None:
        super().__init__(f"{sink} rejected the message ({status})")
        self.sink = sink
        self.status = status


def post(sink: str, url: str, deadline: Deadline, *, body: bytes, headers: Mapping[str, str]) -> int:
    """POST `body` to `url` until a 2xx; returns its status. `sink` names it in errors."""

    def attempt(timeout: retry.Timeout) -> int:
        try:
            response = _session.post(
                url,
                data=body,
                headers=dict(headers),
                timeout=(timeout.connect, timeout.read),
                allow_redirects=False,
            )
            response.close()
        except requests.RequestException as exc:
            raise retry.Again(f"{sink} unreachable ({type(exc).__name__})") from None
        status = response.status_code
        if 200 <= status < 300:
            return status
        if status != 429 and status < 500:
            raise SinkRejected(sink, status)
        raise retry.Again(f"{sink} answered {status}", retry.seconds(response.headers.get("Retry-After")))

    return retry.until_deadline(deadline, attempt, limits=LIMITS, backoff=BACKOFF, what=sink)
