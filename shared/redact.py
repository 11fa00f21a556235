"""Remove credential values from alert text before it is logged, replied or notified.

The ConfigMap rule's `ka.req.configmap.obj` field holds the whole object, credential
values included; the legacy ConfigMap rule (Falco <= 0.31, `config=%ka.req.configmap.obj`
at the end of its output) prints the same object into `output`.

Only that rule's output is cut: every other output is shown whole. Command lines and
object names are attacker-controlled, and cutting at any `config=` would let
`sh -c x --config=/tmp/a` hide the rest of Falco's output (pod, user, command) from the
humans reading it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

REDACTED = "<redacted>"
SECRET_FIELDS = frozenset({"ka.req.configmap.obj"})
# The rule whose legacy output ends in `config=%ka.req.configmap.obj` (falcosecurity/falco
# rules/k8s_audit_rules.yaml up to 0.31; the k8saudit plugin's rules print no object).
CONFIGMAP_RULE = "Create/Modify Configmap With Private Credentials"
# `config=` up to the end: the object is JSON and may itself hold ')' or spaces.
_LEGACY_CONFIG = re.compile(r"\bconfig=.*", re.DOTALL)


def output(text: str, *, rule: str) -> str:
    """Falco's `output` line; for the ConfigMap rule, without its legacy `config=` object."""
    if rule != CONFIGMAP_RULE:
        return text
    return _LEGACY_CONFIG.sub(f"config={REDACTED}", text)


def fields(values: Mapping[str, object]) -> dict[str, object]:
    """`output_fields` with credential-carrying fields replaced."""
    return {
        key: (REDACTED if key in SECRET_FIELDS and value is not None else value)
        for key, value in values.items()
    }
