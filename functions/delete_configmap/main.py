"""delete-configmap: delete a ConfigMap that holds credentials, keeping a copy first.

Answers:  Falco k8s_audit rule "Create/Modify Configmap With Private Credentials"
          (RIPOSTE_RULES; minimum priority Warning, RIPOSTE_MIN_PRIORITY).
Reads:    output_fields ka.target.namespace (added by deploy/falco's append_output),
          ka.target.name or ka.req.configmap.name, ka.target.resource.
Verbs:    namespaces get; configmaps get, delete; events get, create (any namespace);
          secrets create, get, list (own namespace only: the copies);
          leases get, update on riposte-budget-delete-configmap (own namespace: the budget).
"""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from shared import audit, budget, config, copies, endpoint, kube, policy, targets
from shared.intake import Delivery
from shared.outcome import Decision, Outcome, Result
from shared.priority import Priority

RULE = "Create/Modify Configmap With Private Credentials"
# The rule's own test (falcosecurity/plugins k8saudit rules, macro contains_private_credentials).
CREDENTIAL_MARKERS = (
    "aws_access_key_id", "aws-access-key-id", "aws_s3_access_key_id",
    "aws-s3-access-key-id", "password", "passphrase",
)  # fmt: skip

SETTINGS = config.load(
    "delete-configmap", rules=(RULE,), min_priority=Priority.WARNING, sources=("k8s_audit",)
)
KUBE = kube.Kube(SETTINGS)


@functions_framework.http
def handle(request: flask.Request) -> flask.Response:
    return endpoint.respond(request, SETTINGS, delete_configmap)


def delete_configmap(delivery: Delivery, call: endpoint.Call) -> Outcome | None:
    alert = call.alert_from(delivery)  # 400: not an alert
    if not policy.matches(SETTINGS, alert, delivery.event_type):
        return None  # 204: not for this function
    target = call.aimed_at(targets.configmap(alert))  # 422: no valid namespace or name
    decide = Decision(alert, "delete-configmap", target)
    if reason := policy.protected_namespace(SETTINGS, target.namespace):
        return decide(Result.REFUSED, reason)
    try:
        live = KUBE.snapshot(call.deadline, target, identity=alert.identity)
        if live.recorded:  # say where the copy is, as the first answer did
            copy = copies.find(KUBE, call.deadline, SETTINGS, namespace=target.namespace, name=target.name)
            return decide(
                Result.ALREADY_DONE, f"this alert was acted on before; copy kept in {copy}", copy=copy
            )
        if live.namespace and policy.opted_out(live.namespace["metadata"].get("labels")):
            return decide(Result.REFUSED, f"namespace carries {policy.OPT_OUT_LABEL}=true")
        configmap = live.object
        for attempt in range(2):  # a 409 (changed since verified) earns one re-read and re-verify
            if configmap is None:
                raise kube.NotFound(404, "NotFound", target.subject)
            if policy.opted_out(configmap["metadata"].get("labels")):
                return decide(Result.REFUSED, f"ConfigMap carries {policy.OPT_OUT_LABEL}=true")
            if not (found := credential_keys(configmap)):
                return decide(Result.REFUSED, "ConfigMap no longer holds a credential the rule describes")
            if SETTINGS.dry_run:
                return decide(Result.DRY_RUN, f"would copy and delete (credential keys: {', '.join(found)})")
            if attempt == 0 and (
                refusal := budget.spend(
                    KUBE, call.deadline, SETTINGS, target.subject, alert=alert.identity, lease=live.lease
                )
            ):
                return decide(Result.REFUSED, refusal)
            copy = copies.keep(KUBE, call.deadline, SETTINGS, configmap, alert)
            try:  # with the verified object's uid + resourceVersion as preconditions
                KUBE.delete_configmap(call.deadline, verified=configmap)
            except kube.Conflict:
                configmap = KUBE.read_configmap(call.deadline, namespace=target.namespace, name=target.name)
                continue
            done = decide(Result.ACTED, f"deleted; copy kept in {copy}", copy=copy, credential_keys=found)
            if warning := audit.record(KUBE, call.deadline, SETTINGS, done, uid=configmap["metadata"]["uid"]):
                call.warnings.append(warning)
            return done
        return decide(Result.REFUSED, "ConfigMap kept changing while being verified")
    except kube.NotFound:
        if copy := copies.find(KUBE, call.deadline, SETTINGS, namespace=target.namespace, name=target.name):
            return decide(Result.ALREADY_DONE, f"already deleted; copy kept in {copy}", copy=copy)
        return decide(Result.REFUSED, "ConfigMap (or its namespace) not found")
    except (copies.CopyMismatch, kube.KubeError) as exc:
        return decide(Result.FAILED, f"not deleted: {exc}")


def credential_keys(configmap: dict[str, Any]) -> list[str]:
    """Keys whose name or value holds one of the rule's markers (never the values)."""
    data: dict[str, str] = configmap.get("data") or {}
    binary: dict[str, str] = configmap.get("binaryData") or {}
    hits = [key for key, value in data.items() if _marked(key) or _marked(value)]
    return sorted(hits + [key for key in binary if _marked(key)])


def _marked(text: str) -> bool:
    return any(marker in text for marker in CREDENTIAL_MARKERS)
