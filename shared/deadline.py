"""The time budget of one request (RIPOSTE_DEADLINE_SECONDS), shared by all its calls."""

from __future__ import annotations

import time


class Deadline:
    """Started when the request arrives; every call and retry spends from it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.end = self.started + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def elapsed_ms(self) -> float:
        """Time since the request arrived: the reply's and the log line's duration."""
        return (time.monotonic() - self.started) * 1000
