"""Remove credential values from alert text before it is logged, replied or notified.

The ConfigMap rule's `ka.req.configmap.obj` field holds the whole object, credential
values included; legacy ConfigMap rules (Falco <= 0.31, `config=%ka.req.configmap.obj`)
print the same object into `output`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.alert import Alert

REDACTED = "<redacted>"
SECRET_FIELDS = frozenset({"ka.req.configmap.obj"})
# `config=` up to the end: the object is JSON and may itself hold ')' or spaces.
_LEGACY_CONFIG = re.compile(r"\bconfig=.*", re.DOTALL)


def output(text: str) -> str:
    """Falco's `output` line without a legacy ConfigMap rule's `config=` object."""
    return _LEGACY_CONFIG.sub(f"config={REDACTED}", text)


def fields(values: Mapping[str, object]) -> dict[str, object]:
    """`output_fields` with credential-carrying fields replaced."""
    return {
        key: (REDACTED if key in SECRET_FIELDS and value is not None else value)
        for key, value in values.items()
    }


def alert_summary(alert: Alert) -> dict[str, Any]:
    """The alert as it may be shown anywhere (reply events, messages): no credential."""
    return {
        "uuid": alert.uuid,
        "identity": alert.identity,
        "rule": alert.rule,
        "priority": alert.priority.label,
        "source": alert.source,
        "hostname": alert.hostname,
        "time": alert.time,
        "output": output(alert.output),
    }
