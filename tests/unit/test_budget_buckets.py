"""The budget's bounded state (shared/acting/budget.py): however spends fall in time, no
window of the budget's length ever holds more actions than the budget, and the state a
spend reads stays within BUCKETS + 1 entries."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from shared.acting import budget

WINDOW, COUNT = 60, 5


def try_spend(annotations: dict[str, str], now: float) -> bool:
    """The budget's decision and write, without the Lease around it."""
    spent = budget._spent(annotations, now, WINDOW)
    if sum(count for _, count in spent) >= COUNT:
        return False
    annotations[budget.SPENT] = json.dumps(budget._add(spent, budget._bucket(now, WINDOW)))
    return True


@given(st.lists(st.floats(min_value=0, max_value=600, allow_nan=False), min_size=1, max_size=200))
def test_no_window_ever_holds_more_than_the_budget(offsets: list[float]) -> None:
    annotations: dict[str, str] = {}
    granted = []
    for t in sorted(1_800_000_000 + o for o in offsets):
        if try_spend(annotations, t):
            granted.append(t)
        assert len(json.loads(annotations.get(budget.SPENT, "[]"))) <= budget.BUCKETS + 1
    for start in granted:
        assert sum(1 for t in granted if start <= t < start + WINDOW) <= COUNT


def test_a_spent_window_reopens_at_most_a_bucket_late() -> None:
    annotations: dict[str, str] = {}
    t0 = 1_800_000_000.0
    assert all(try_spend(annotations, t0) for _ in range(COUNT))
    assert not try_spend(annotations, t0 + WINDOW - 1)
    assert try_spend(annotations, t0 + WINDOW + WINDOW / budget.BUCKETS)


def test_a_lease_written_by_an_earlier_version_still_counts() -> None:
    now = 1_800_000_000.0
    legacy = [[now - 10, "ns/configmap/a"], [now - 5, "ns/configmap/b"], [now - 600, "old"]]
    spent = budget._spent({budget.LEGACY_ACTIONS: json.dumps(legacy)}, now, WINDOW)
    assert sum(count for _, count in spent) == 2


def test_unreadable_state_counts_as_nothing_spent_but_never_breaks_a_spend() -> None:
    for raw in ("{", '"x"', "[[1]]", '[["a", 1]]', "[[true, 1]]", "[[1, -3]]"):
        assert budget._spent({budget.SPENT: raw}, 1_800_000_000.0, WINDOW) == []
