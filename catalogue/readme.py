"""The README's function and RBAC tables, rendered between markers from the specs (and
notify's shape). The prose around them stays written by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalogue import coverage, interact, marked, notify, rbac, site, undo
from shared.acting.spec import Scope, Spec
from shared.approval import record as approval_record

README = "README.md"


def cell(text: str) -> str:
    """Table-safe: a `|` would end the cell."""
    return text.replace("|", "\\|")


def answers(spec: Spec[Any]) -> str:
    rules = ", ".join(f"`{rule}`" for rule in spec.rules) or "no rule until `RIPOSTE_RULES` names some"
    sources = ", ".join(spec.sources) or "any source"
    return f"{rules} ({sources}; from `{spec.min_priority.label}`)"


def functions(specs_: Sequence[Spec[Any]]) -> list[str]:
    rows = {spec.name: (answers(spec), spec.summary) for spec in specs_}
    rows[notify.NAME] = (notify.ANSWERS, notify.SUMMARY)
    return [
        "| function | answers | does |",
        "| --- | --- | --- |",
        *(f"| `{name}` | {cell(does[0])} | {cell(does[1])} |" for name, does in sorted(rows.items())),
    ]


def permissions(specs_: Sequence[Spec[Any]]) -> list[str]:
    holders: list[rbac.Holder] = [*specs_, undo.UNDO, interact.INTERACT]
    rows: dict[str, tuple[str, str, str]] = {
        spec.name: (
            rbac.holdings(rbac.scoped(spec, Scope.CLUSTER)),
            rbac.holdings(rbac.scoped(spec, Scope.OWN)),
            rbac.holdings(rbac.scoped(spec, Scope.APPROVALS)),
        )
        for spec in holders
    }
    rows[notify.NAME] = ("nothing (no token mounted)", "nothing", "nothing")
    return [
        f"| ServiceAccount | any namespace | `{site.NAMESPACE}` only | `{approval_record.NAMESPACE}` only |",
        "| --- | --- | --- | --- |",
        *(
            f"| `{name}` | {cell(held[0])} | {cell(held[1])} | {cell(held[2])} |"
            for name, held in sorted(rows.items())
        ),
    ]


def render(text: str, specs_: Sequence[Spec[Any]]) -> str:
    text = marked.replace(text, "functions", functions(specs_), path=README)
    text = marked.replace(text, "coverage", coverage.table(specs_), path=README)
    return marked.replace(text, "rbac", permissions(specs_), path=README)
