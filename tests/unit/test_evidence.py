"""capture-evidence's pure parts: its default rules are what DESIGN §12 says (every stable
syscall rule that can fire in a container and that no other function answers, plus
isolate-pod's syscall rules), and a document too large for one Secret is cut from its
oldest end, every cut marked."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from catalogue import specs
from shared.acting import evidence
from tests.helpers import load_function

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_default_rules_are_the_unanswered_container_rules_and_isolate_pods() -> None:
    rules = json.loads((ROOT / "catalogue" / "falco_rules.json").read_text())["rules"]
    stable = {
        r["name"]
        for r in rules
        if r["source"] == "syscall" and r["maturity"] == "maturity_stable" and r["container"]
        and r["fires_by_default"]
    }  # fmt: skip
    others = {rule for spec in specs.load() if spec.name != "capture-evidence" for rule in spec.rules}
    isolate = {rule for rule in load_function("isolate-pod").RULES if rule in stable}
    assert set(load_function("capture-evidence").RULES) == (stable - others) | isolate


def document(text: str, events: int = 0) -> dict[str, Any]:
    log = {"container": "c", "instance": "current", "available": True, "truncated": None, "text": text}
    return {"logs": [log], "events": [{"n": n} for n in range(events)], "truncated": []}


def test_a_document_that_fits_is_not_cut() -> None:
    doc = document("small\n")
    raw, data = evidence.fit(doc)
    assert doc["truncated"] == [] and doc["logs"][0]["text"] == "small\n" and len(data) < len(raw) + 64


def test_a_log_too_large_keeps_its_newest_part_and_says_so() -> None:
    # JSON escapes make this ~6x larger than its bytes, and random: gzip cannot win it back.
    text = os.urandom(1024 * 1024).decode("latin-1") + "THE END\n"
    doc = document(text)
    _, data = evidence.fit(doc)
    assert len(data) <= evidence.DATA_MAX
    assert doc["logs"][0]["text"].endswith("THE END\n") and len(doc["logs"][0]["text"]) < len(text)
    assert doc["logs"][0]["truncated"] and doc["truncated"]
