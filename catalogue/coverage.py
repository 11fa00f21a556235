"""The README's coverage table: each of Falco's default rules and what answers it.

Rendered from the specs' default rules and catalogue/falco_rules.json (Falco's own rule
files, read at the commits that file names). Listed: every k8saudit rule that fires by
default, every syscall rule that fires by default (stable, then incubating), each with
the functions that act on it by default and notify when its priority reaches notify's
minimum. A rule nothing acts on says so: the answer is a human's. Opt-in functions
(label-pod) answer only the rules a deployer names, so they appear in no row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalogue import notify
from shared.acting.spec import Spec
from shared.priority import Priority

RULES_FILE = Path(__file__).resolve().parent / "falco_rules.json"
STABLE = "maturity_stable"


@dataclass(frozen=True)
class Rule:
    name: str
    source: str
    priority: Priority
    maturity: str | None  # syscall rules only
    fires_by_default: bool


def falco_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """Falco's rules as catalogue/falco_rules.json records them."""
    records = json.loads(path.read_text(encoding="utf-8"))["rules"]
    rules = []
    for record in records:
        priority = Priority.parse(record["priority"])
        if priority is None:
            raise ValueError(f"{path}: rule {record['name']!r} has no Falco priority")
        rules.append(
            Rule(record["name"], record["source"], priority, record["maturity"], record["fires_by_default"])
        )
    return tuple(rules)


def answering(rule: Rule, specs_: Sequence[Spec[Any]]) -> list[str]:
    """The acting functions that answer `rule` by default, by name."""
    return sorted(
        spec.name
        for spec in specs_
        if rule.name in spec.rules and rule.source in spec.sources and rule.priority >= spec.min_priority
    )


def answer(rule: Rule, specs_: Sequence[Spec[Any]]) -> str:
    acting = answering(rule, specs_)
    told = rule.priority >= notify.MIN_PRIORITY
    if acting:
        return ", ".join(f"`{name}`" for name in acting) + (" + `notify`" if told else "")
    if told:
        return "`notify` only: a human decides"
    return f"nothing by default (`{rule.priority.label}` is below notify's `{notify.MIN_PRIORITY.label}`)"


def firing(rules: Sequence[Rule]) -> tuple[list[Rule], list[Rule], list[Rule]]:
    """(k8saudit, stable syscall, incubating syscall) rules that fire by default."""
    audit = [r for r in rules if r.source == "k8s_audit" and r.fires_by_default]
    syscall = [r for r in rules if r.source == "syscall" and r.fires_by_default]
    stable = [r for r in syscall if r.maturity == STABLE]
    return audit, stable, [r for r in syscall if r.maturity != STABLE]


def summary(specs_: Sequence[Spec[Any]], rules: Sequence[Rule]) -> str:
    audit, stable, _ = firing(rules)
    acted = sum(1 for r in audit if answering(r, specs_))
    answered = sum(1 for r in stable if answering(r, specs_))
    return (
        f"Of the {len(audit)} k8saudit rules that fire by default, {acted} get an action by "
        f"default; of the {len(stable)} stable syscall rules (all can fire in a container), "
        f"{answered} do."
    )


def table(specs_: Sequence[Spec[Any]], rules: Sequence[Rule] | None = None) -> list[str]:
    rules = falco_rules() if rules is None else rules
    audit, stable, incubating = firing(rules)
    rows = [
        *((r, "k8saudit") for r in audit),
        *((r, "syscall, stable") for r in stable),
        *((r, "syscall, incubating (a rules file users add)") for r in incubating),
    ]
    return [
        summary(specs_, rules),
        "",
        "| rule | source | priority | answered by |",
        "| --- | --- | --- | --- |",
        *(
            f"| {rule.name} | {kind} | {rule.priority.label} | {answer(rule, specs_)} |"
            for rule, kind in rows
        ),
    ]
