"""Remove credential values from alert text before it is logged, replied or notified.

The ConfigMap rule's `ka.req.configmap.obj` field holds the whole object, credential
values included; legacy ConfigMap rules (Falco <= 0.31, `config=%ka.req.configmap.obj`)
print the same object into `output`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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
