"""One deadline-bounded retry loop, for every call riposte makes to another service.

The Kubernetes API (shared/kube) and outgoing webhooks (shared/webhook: the result sink,
notify's sinks) fail the same ways: a connection error, a 429, a 5xx. Each attempt gets a
timeout from what is left of the request's Deadline (RIPOSTE_DEADLINE_SECONDS); a
transient failure is retried after `Retry-After` when the service sent one, else after a
full-jitter exponential backoff; when the next try would not fit in the deadline, the
request ends in errors.Unavailable (503 + Retry-After: safe to redeliver). A permanent
answer is the attempt's own exception, raised through unchanged.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from shared import errors
from shared.deadline import Deadline

T = TypeVar("T")
MARGIN = 0.05  # seconds kept back so the answer itself still fits in the deadline


@dataclass(frozen=True)
class Timeout:
    """(connect, read) seconds for one attempt: the service's own limits, or less when the
    deadline leaves less."""

    connect: float
    read: float


@dataclass(frozen=True)
class Backoff:
    """Full-jitter exponential backoff: a try waits uniform(0, min(cap, base * 2**n))."""

    base: float
    cap: float


class Again(Exception):
    """Raised by an attempt that failed transiently; `problem` names the service, never a URL."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


def until_deadline(
    deadline: Deadline,
    attempt: Callable[[Timeout], T],
    *,
    limits: Timeout,
    backoff: Backoff,
    what: str,
) -> T:
    """Run `attempt` until it returns or raises something other than Again, within `deadline`.

    `what` names the service in the 503's message when nothing answered in time.
    """
    tries = 0
    while True:
        remaining = deadline.remaining()
        if remaining <= MARGIN:
            raise errors.Unavailable(f"{what} did not answer within the deadline")
        timeout = Timeout(connect=min(limits.connect, remaining), read=min(limits.read, remaining))
        try:
            return attempt(timeout)
        except Again as again:
            tries += 1
            delay = (
                again.retry_after
                if again.retry_after is not None
                else random.uniform(0, min(backoff.cap, backoff.base * 2**tries))
            )
            if delay >= deadline.remaining() - MARGIN:
                raise errors.Unavailable(f"{again.problem}; gave up within the deadline") from None
            time.sleep(delay)


def seconds(value: str | None) -> float | None:
    """A `Retry-After` header in seconds; None when absent or an HTTP-date (our backoff then)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
