"""The record of accepted (message, sink) pairs: redeliveries skip sinks that have the
message, concurrent deliveries of one message send it once, memory stays bounded.

Concurrency is driven by events, never by sleeps: no assertion depends on timing.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.notify.sent import SentRecord, StillSending


def test_an_accepted_message_is_not_claimed_again_for_that_sink() -> None:
    record = SentRecord()
    assert record.claim("alert:1", "slack", timeout=1)
    record.settle("alert:1", "slack", accepted=True)
    assert not record.claim("alert:1", "slack", timeout=1)
    assert record.claim("alert:1", "teams", timeout=1), "another sink still needs it"
    assert record.claim("alert:2", "slack", timeout=1), "another message still needs sending"


def test_a_failed_send_leaves_the_message_to_the_redelivery() -> None:
    record = SentRecord()
    assert record.claim("alert:1", "teams", timeout=1)
    record.settle("alert:1", "teams", accepted=False)
    assert not record.accepted("alert:1", "teams")
    assert record.claim("alert:1", "teams", timeout=1)


def test_the_record_forgets_the_oldest_past_its_capacity() -> None:
    record = SentRecord(capacity=3)
    for number in range(5):
        record.claim(f"alert:{number}", "slack", timeout=1)
        record.settle(f"alert:{number}", "slack", accepted=True)
    assert len(record) == 3
    assert not record.accepted("alert:0", "slack")
    assert not record.accepted("alert:1", "slack")
    assert all(record.accepted(f"alert:{n}", "slack") for n in (2, 3, 4))


def test_a_concurrent_delivery_waits_and_skips_what_the_first_got_accepted() -> None:
    record = SentRecord()
    assert record.claim("alert:1", "slack", timeout=1)
    waiting = threading.Event()
    answers: list[bool] = []

    def second_delivery() -> None:
        waiting.set()
        answers.append(record.claim("alert:1", "slack", timeout=30))

    thread = threading.Thread(target=second_delivery)
    thread.start()
    waiting.wait()
    record.settle("alert:1", "slack", accepted=True)
    thread.join()
    assert answers == [False]


def test_a_concurrent_delivery_sends_itself_when_the_first_failed() -> None:
    record = SentRecord()
    assert record.claim("alert:1", "slack", timeout=1)
    answers: list[bool] = []
    thread = threading.Thread(target=lambda: answers.append(record.claim("alert:1", "slack", timeout=30)))
    thread.start()
    record.settle("alert:1", "slack", accepted=False)
    thread.join()
    assert answers == [True]


def test_a_claim_held_past_the_timeout_is_still_sending() -> None:
    record = SentRecord()
    assert record.claim("alert:1", "slack", timeout=1)
    with pytest.raises(StillSending, match="slack"):
        record.claim("alert:1", "slack", timeout=0)


def test_many_concurrent_deliveries_send_once() -> None:
    record = SentRecord()
    start = threading.Barrier(16)

    def deliver(_: int) -> bool:
        start.wait()
        if not record.claim("alert:1", "slack", timeout=30):
            return False
        record.settle("alert:1", "slack", accepted=True)
        return True

    with ThreadPoolExecutor(16) as pool:
        sent = list(pool.map(deliver, range(16)))
    assert sent.count(True) == 1
