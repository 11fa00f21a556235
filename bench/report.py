"""The results table, in Markdown."""

from __future__ import annotations

from collections.abc import Iterable

from bench.common import Row


def table(rows: Iterable[Row]) -> str:
    lines = ["| figure | riposte | baseline | result | goal | met |", "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.figure} | {row.riposte} | {row.baseline} | {row.result} | {row.goal} | {met} |")
    return "\n".join(lines)


def document(rows: list[Row], header: list[str]) -> str:
    missed = [r.figure for r in rows if r.met is False]
    summary = f"{sum(1 for r in rows if r.met)} of {sum(1 for r in rows if r.met is not None)} goals met"
    if missed:
        summary += "; not met: " + "; ".join(missed)
    return "\n".join([*header, "", table(rows), "", summary + "."]) + "\n"
