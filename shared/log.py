"""One JSON log line per request, on stdout (Knative and OpenFaaS collect stdout).

The line is built by the caller from an allow-list of fields (shared/endpoint.py), with
alert text already redacted: it never holds a token, a URL or a ConfigMap value.

A line goes out as one write(2) to stdout's file descriptor, and no lock is held across
it: up to PIPE_BUF bytes, one write is atomic on a pipe (a container's stdout) and on a
regular file, so concurrent requests' short lines never interleave. A lock held across
the write made every other request thread queue behind the system call and then wait for
the GIL: a fifth of an ignored alert's cost at 16 concurrent requests. A longer line
(rare: a long reason or warnings) may be split by the kernel, so it is written alone:
it waits until no short write is in progress and holds back new ones meanwhile.
"""

from __future__ import annotations

import io
import json
import os
import select
import sys
import threading
from typing import Any

import orjson

ATOMIC_BYTES = select.PIPE_BUF  # POSIX: at least 512; 4096 on Linux
_state = threading.Condition(threading.Lock())  # held for counting, and by a long write
_short_writes = 0  # short writes in progress, each outside the lock


def line(entry: dict[str, Any]) -> None:
    """Write `entry` as one compact JSON line."""
    global _short_writes
    data = _encoded(entry)
    descriptor = _descriptor()
    if descriptor is None or len(data) > ATOMIC_BYTES:
        with _state:
            _state.wait_for(lambda: _short_writes == 0)
            if descriptor is None:
                sys.stdout.write(data.decode())
                sys.stdout.flush()
            else:
                _write_all(descriptor, data)
        return
    with _state:
        _short_writes += 1
    try:
        _write_all(descriptor, data)
    finally:
        with _state:
            _short_writes -= 1
            if not _short_writes:
                _state.notify_all()


def _encoded(entry: dict[str, Any]) -> bytes:
    """Compact JSON and a newline, UTF-8. orjson: a tenth of json.dumps's cost, which was
    a tenth of an ignored alert's; json.dumps for what orjson refuses (a key that is not
    a string, an integer over 64 bits), so a line is never lost."""
    try:
        return orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError
        return (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode()


def _descriptor() -> int | None:
    try:
        return sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return None


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]
