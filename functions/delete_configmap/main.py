"""delete-configmap: delete a ConfigMap that holds credentials, keeping a copy first.

Answers:  Falco k8s_audit rule "Create/Modify Configmap With Private Credentials"
          (RIPOSTE_RULES; minimum priority Warning, RIPOSTE_MIN_PRIORITY).
Reads:    output_fields ka.target.namespace (added by deploy/falco's append_output),
          ka.target.name or ka.req.configmap.name, ka.target.resource.
Verifies: the audited write succeeded (ka.response.code 2xx; ka.resp.uid, when the audit
          policy logs ConfigMap responses, is this very ConfigMap), and the live ConfigMap
          still holds one of the rule's credential markers.
Acts:     copies it into a Secret in riposte's namespace (while the budget is spent),
          then deletes exactly the object verified (uid + resourceVersion preconditions).
Verbs:    those of every acting function (shared/acting/catalogue.py) and configmaps
          get, delete (any namespace); secrets create, get, list (own namespace: copies).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared import targets
from shared.acting import copies, runner
from shared.acting.spec import Context, Done, Facts, Grant, Plan, Refusal, Scope, Spec, Verdict
from shared.action import Outcome
from shared.priority import Priority

RULE = "Create/Modify Configmap With Private Credentials"
# The rule's own test (falcosecurity/plugins k8saudit rules, macro contains_private_credentials).
CREDENTIAL_MARKERS = (
    "aws_access_key_id", "aws-access-key-id", "aws_s3_access_key_id",
    "aws-s3-access-key-id", "password", "passphrase",
)  # fmt: skip


def credential_keys(configmap: Mapping[str, Any]) -> list[str]:
    """Keys whose name or value holds one of the rule's markers (never the values)."""
    data: dict[str, str] = configmap.get("data") or {}
    binary: dict[str, str] = configmap.get("binaryData") or {}
    hits = [key for key, value in data.items() if _marked(key) or _marked(value)]
    return sorted(hits + [key for key in binary if _marked(key)])


def _marked(text: str) -> bool:
    return any(marker in text for marker in CREDENTIAL_MARKERS)


def verify(facts: Facts) -> Verdict[list[str]]:
    if not (found := credential_keys(facts.object)):
        return Refusal("ConfigMap no longer holds a credential the rule describes")
    return Plan(f"copy and delete (credential keys: {', '.join(found)})", found)


def act(context: Context, facts: Facts, plan: Plan[list[str]]) -> Done:
    copy: str = plan.details["copy"]  # kept by `prepare` (copies.prepare), which the runner runs first
    meta = facts.object["metadata"]
    context.kube.delete(
        context.deadline,
        "ConfigMap",
        name=meta["name"],
        namespace=meta["namespace"],
        uid=meta["uid"],
        resource_version=meta["resourceVersion"],
    )
    details = {"copy": copy, "credential_keys": plan.data}
    return Done(Outcome.ACTED, f"deleted; copy kept in {copy}", meta["uid"], details)


def gone(context: Context) -> tuple[Outcome, str, Mapping[str, Any]] | None:
    """Deleted already: by riposte when it holds a copy (a redelivery raced this one)."""
    if copy := copies.find(context.kube, context.deadline, context.settings, context.target):
        return Outcome.ALREADY_DONE, f"already deleted; copy kept in {copy}", {"copy": copy}
    return None


def recall(context: Context) -> tuple[str, Mapping[str, Any]]:
    """Say where the copy is, as the first answer did."""
    copy = copies.find(context.kube, context.deadline, context.settings, context.target)
    return f"; copy kept in {copy}", {"copy": copy}


SPEC = Spec(
    name="delete-configmap",
    summary="re-reads the ConfigMap, deletes it only if it still holds a credential the rule describes, "
    "keeping a restorable copy first",
    rules=(RULE,),
    min_priority=Priority.WARNING,
    sources=("k8s_audit",),
    fields=(
        "ka.target.namespace",
        "ka.target.name",
        "ka.req.configmap.name",
        "ka.target.resource",
        "ka.verb",
        "ka.response.code",
        "ka.resp.uid",
    ),
    target=targets.configmap,
    verify=verify,
    prepare=copies.prepare,
    act=act,
    gone=gone,
    recall=recall,
    reversible=True,
    rbac=(
        Grant("", ("configmaps",), ("get", "delete"), "re-read and verify; delete with preconditions"),
        Grant(
            "", ("secrets",), ("create", "get", "list"), "keep a copy; check it on 409; find it", Scope.OWN
        ),
    ),
)
handle = runner.serve(SPEC)
