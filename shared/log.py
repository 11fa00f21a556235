"""One JSON log line per request, on stdout (Knative and OpenFaaS collect stdout).

The line is built by the caller from an allow-list of fields (shared/endpoint.py), with
alert text already redacted: it never holds a token, a URL or a ConfigMap value.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

_write_lock = threading.Lock()


def line(entry: dict[str, Any]) -> None:
    """Write `entry` as one compact JSON line."""
    text = json.dumps(entry, separators=(",", ":"), default=str)
    with _write_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
