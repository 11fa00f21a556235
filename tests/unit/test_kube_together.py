"""Kube.together: the budget's spend beside the copy (shared/acting/runner.py). Both calls
run at once, both have finished when it returns or raises, and an error of the second (the
copy, on the request's thread) wins over one of the first."""

from __future__ import annotations

import threading

import pytest

from shared.kube.client import Kube


def test_both_run_at_once_and_both_results_come_back() -> None:
    both_started = threading.Barrier(2, timeout=5)

    def first() -> str:
        both_started.wait()  # breaks (BrokenBarrierError) unless the other runs meanwhile
        return "spent"

    def second() -> int:
        both_started.wait()
        return 7

    assert Kube(None).together(first, second) == ("spent", 7)


def test_an_error_of_the_second_waits_for_the_first_and_wins() -> None:
    finished: list[str] = []
    release = threading.Event()

    def first() -> None:
        release.wait(5)
        finished.append("first")
        raise LookupError("first")

    def second() -> None:
        release.set()
        raise KeyError("second")

    with pytest.raises(KeyError):
        Kube(None).together(first, second)
    assert finished == ["first"]


def test_an_error_of_the_first_is_raised_after_the_second_finished() -> None:
    finished: list[str] = []

    def first() -> None:
        raise LookupError("first")

    def second() -> None:
        finished.append("second")

    with pytest.raises(LookupError):
        Kube(None).together(first, second)
    assert finished == ["second"]
