"""A generated block inside a hand-written file, between two marker lines:

    <anything> BEGIN generated: <name> <anything>
    ...the block, replaced by every `make manifests`...
    <anything> END generated <anything>

The marker lines stay as they are; the block takes the begin marker's indentation, so
the same markers work in YAML (`# BEGIN generated: …`) and Markdown (`<!-- … -->`).
"""

from __future__ import annotations

from collections.abc import Sequence


class MarkerError(Exception):
    """A file lacks the markers of a generated block, or has them out of order."""


def replace(text: str, name: str, block: Sequence[str], *, path: str) -> str:
    """`text` with the lines between the markers of block `name` replaced by `block`."""
    lines = text.split("\n")
    begin = [n for n, line in enumerate(lines) if f"BEGIN generated: {name}" in line]
    if len(begin) != 1:
        raise MarkerError(f"{path}: expected one line holding 'BEGIN generated: {name}', found {len(begin)}")
    start = begin[0]
    end = next((n for n in range(start + 1, len(lines)) if "END generated" in lines[n]), None)
    if end is None:
        raise MarkerError(f"{path}: no 'END generated' line after 'BEGIN generated: {name}'")
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    body = [indent + line if line else line for line in block]
    return "\n".join([*lines[: start + 1], *body, *lines[end:]])
