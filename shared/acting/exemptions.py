"""Who may switch riposte off for an object. Pure: no I/O.

An object is left alone when its namespace, or the object itself, carries
`riposte.io/ignore: "true"`.
"""

from __future__ import annotations

from shared import policy
from shared.acting.spec import Facts


def exempt(facts: Facts) -> str | None:
    """Why the target of `facts` is exempt, or None."""
    if facts.namespace is not None and policy.opted_out(facts.namespace["metadata"].get("labels")):
        return f"namespace carries {policy.OPT_OUT_LABEL}=true"
    if policy.opted_out(facts.object["metadata"].get("labels")):
        return f"{facts.target.kind} carries {policy.OPT_OUT_LABEL}=true"
    return None
