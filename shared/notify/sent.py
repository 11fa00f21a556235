"""Which sinks already accepted which message, in this process: bounded and thread-safe.

A redelivery (Knative retries a 503; Falcosidekick and the broker may deliver twice) must
not post the same message again to a sink that took it. The record holds (message key,
sink) pairs in insertion order and forgets the oldest past `capacity`, so memory stays
bounded whatever the alert rate; a redelivery arrives within minutes, long before its
pair is forgotten. It is per process: replicas do not share it (README, notify).

Two deliveries of one message at the same time are serialised per sink: the second
waits for the first to settle, then sends only if the first did not get it accepted.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

DEFAULT_CAPACITY = 10_000  # (key, sink) pairs: a few MB at most


class StillSending(Exception):
    """Another delivery of the same message is still sending to this sink."""


class SentRecord:
    """(message key, sink) pairs a sink accepted, and the ones being sent right now."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._accepted: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._sending: dict[tuple[str, str], threading.Event] = {}

    def claim(self, key: str, sink: str, *, timeout: float) -> bool:
        """True: send now, then `settle`. False: `sink` already accepted this message.

        Raises StillSending when another delivery holds the claim past `timeout`.
        """
        pair = (key, sink)
        give_up = time.monotonic() + timeout
        while True:
            with self._lock:
                if pair in self._accepted:
                    return False
                other = self._sending.get(pair)
                if other is None:
                    self._sending[pair] = threading.Event()
                    return True
            remaining = give_up - time.monotonic()
            if remaining <= 0 or not other.wait(remaining):
                raise StillSending(f"{sink}: another delivery of this message is still sending")

    def settle(self, key: str, sink: str, *, accepted: bool) -> None:
        """End a claim; when `accepted`, remember that `sink` has the message."""
        pair = (key, sink)
        with self._lock:
            done = self._sending.pop(pair, None)
            if accepted:
                self._accepted[pair] = None
                while len(self._accepted) > self.capacity:
                    self._accepted.popitem(last=False)
        if done is not None:
            done.set()

    def accepted(self, key: str, sink: str) -> bool:
        """Whether `sink` accepted the message `key` (and it is still remembered)."""
        with self._lock:
            return (key, sink) in self._accepted

    def __len__(self) -> int:
        with self._lock:
            return len(self._accepted)
