"""deploy/knative: renders, is accepted by a real apiserver, and hangs together.

Covers: `kubectl kustomize` output; `kubectl apply --dry-run=server` of every object
with kubectl's strict client-side validation (the 1.20 apiserver alone silently prunes
unknown fields; kubectl validates against its OpenAPI v2, CRD schemas included); a typo
is rejected (so the check can fail); and the cross-references kustomize cannot see:
Triggers to Services, Services to ServiceAccounts, ConfigMaps and Secrets, the rule lists
against the Triggers, the delivery policy, the security context, the NetworkPolicy.

Not covered here: that Knative itself routes events (no Knative controllers run
locally); the Trigger CRD keeps unknown fields under `filter` and `delivery`, so those
keys are checked against an explicit list below instead of by the schema.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml

from catalogue import specs
from devcluster.controlplane import ControlPlane
from shared import config, errors
from shared.acting.settings import APPROVAL_KEY
from shared.interact import settings as interact_settings
from shared.priority import Priority
from tests.deploy.conftest import Doc, run_kubectl

ACTING = tuple(spec.name for spec in specs.load())
FUNCTIONS = (*ACTING, "notify", "undo", "interact")
PUBLIC = "interact"  # the one function served on the public ingress (README "Approval")
NOTIFY_PRIORITIES = ("Warning", "Error", "Critical", "Alert", "Emergency")
FALCO_TYPE = "falco.rule.output.v1"
RESULT_TYPE = "riposte.action.v1"
DELIVERY: dict[str, Any] = {
    "retry": 8,
    "backoffPolicy": "exponential",
    "backoffDelay": "PT1S",
    "format": "binary",
}
NOTIFY_REF = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "notify"}
TRIGGER_SPEC_KEYS = {"broker", "filter", "subscriber", "delivery"}
DELIVERY_KEYS = {"retry", "backoffPolicy", "backoffDelay", "format", "deadLetterSink"}


def of_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def services(docs: list[Doc]) -> dict[str, Doc]:
    return {
        name: doc
        for name, doc in of_kind(docs, "Service").items()
        if doc["apiVersion"].startswith("serving.")
    }


def container(service: Doc) -> dict[str, Any]:
    containers: list[dict[str, Any]] = service["spec"]["template"]["spec"]["containers"]
    (only,) = containers
    return only


def settings(docs: list[Doc], function: str) -> dict[str, str]:
    """The environment a function gets from its ConfigMap (envFrom)."""
    refs = [
        source["configMapRef"]["name"] for source in container(services(docs)[function]).get("envFrom", [])
    ]
    data: dict[str, str] = {}
    for ref in refs:
        data.update(of_kind(docs, "ConfigMap")[ref].get("data", {}))
    return data


def triggers_of(docs: list[Doc], function: str) -> list[Doc]:
    return [
        t for t in of_kind(docs, "Trigger").values() if t["spec"]["subscriber"]["ref"]["name"] == function
    ]


# -- the real apiserver --------------------------------------------------------------


def test_every_object_passes_server_dry_run_with_strict_validation(
    plane: ControlPlane, kubectl: str, knative: list[Doc]
) -> None:
    result = run_kubectl(
        plane,
        kubectl,
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "-f",
        "-",
        stdin=yaml.safe_dump_all(knative),
    )
    applied = [line for line in result.stdout.splitlines() if "(server dry run)" in line]
    assert len(applied) == len(knative), result.stdout


@pytest.mark.parametrize(
    ("kind", "path", "typo"),
    [
        ("Service", ("spec", "template", "spec"), "containerConcurency"),
        ("NetworkPolicy", ("spec",), "polcyTypes"),
        ("Broker", ("spec",), "delivry"),
    ],
)
def test_a_misspelt_field_is_rejected_not_pruned(
    plane: ControlPlane, kubectl: str, knative: list[Doc], kind: str, path: tuple[str, ...], typo: str
) -> None:
    doc = json.loads(json.dumps(next(d for d in knative if d["kind"] == kind)))
    node = doc
    for key in path:
        node = node[key]
    node[typo] = 8
    result = run_kubectl(
        plane, kubectl, "apply", "--dry-run=server", "--validate=strict", "-f", "-",
        stdin=yaml.safe_dump(doc), check=False,
    )  # fmt: skip
    assert result.returncode != 0 and typo in result.stderr, result.stdout + result.stderr


# -- cross-references ----------------------------------------------------------------


def test_each_function_has_its_service_and_serviceaccount(knative: list[Doc]) -> None:
    assert set(services(knative)) == set(FUNCTIONS)
    accounts = of_kind(knative, "ServiceAccount")
    for name, service in services(knative).items():
        spec = service["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] == name
        assert name in accounts


def test_every_trigger_subscriber_names_an_existing_service(knative: list[Doc]) -> None:
    known = set(services(knative))
    for name, trigger in of_kind(knative, "Trigger").items():
        ref = trigger["spec"]["subscriber"]["ref"]
        assert ref["apiVersion"] == "serving.knative.dev/v1" and ref["kind"] == "Service", name
        assert ref["name"] in known, name
        assert trigger["spec"]["broker"] in of_kind(knative, "Broker"), name
        sink = trigger["spec"].get("delivery", {}).get("deadLetterSink", {}).get("ref")
        assert sink is None or sink["name"] in known, name


def test_every_configmap_and_secret_a_service_uses_is_in_the_kustomization(knative: list[Doc]) -> None:
    configmaps, secrets = of_kind(knative, "ConfigMap"), of_kind(knative, "Secret")
    for name, service in services(knative).items():
        spec = service["spec"]["template"]["spec"]
        for source in container(service).get("envFrom", []):
            assert source["configMapRef"]["name"] in configmaps, name
        for env in container(service).get("env", []):
            assert "valueFrom" not in env, f"{name}: secrets are mounted as files, not env"
        volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
        for volume in volumes.values():
            assert volume["secret"]["secretName"] in secrets, name
        mounts = {mount["mountPath"]: mount["name"] for mount in container(service).get("volumeMounts", [])}
        for env in container(service)["env"]:
            if env["name"].endswith("_FILE"):
                directory, _, key = env["value"].rpartition("/")
                secret = secrets[volumes[mounts[directory]]["secret"]["secretName"]]
                assert key in secret["data"], f"{name}: {env['name']} names a key its Secret lacks"


def test_secrets_reach_the_functions_as_files_in_the_documented_variables(knative: list[Doc]) -> None:
    expected = {
        **{name: {"RIPOSTE_TOKEN_FILE"} for name in ACTING},
        "undo": {"RIPOSTE_TOKEN_FILE", "RIPOSTE_APPROVAL_KEY_FILE"},
        "interact": {
            "RIPOSTE_TOKEN_FILE",
            "RIPOSTE_APPROVAL_KEY_FILE",
            "RIPOSTE_LINK_SECRET_FILE",
            "RIPOSTE_SLACK_SIGNING_SECRET_FILE",
        },
        "notify": {
            "RIPOSTE_LINK_SECRET_FILE",
            "RIPOSTE_TOKEN_FILE",
            "RIPOSTE_SLACK_WEBHOOK_URL_FILE",
            "RIPOSTE_TEAMS_WEBHOOK_URL_FILE",
            "RIPOSTE_WEBHOOK_URL_FILE",
            "RIPOSTE_FALCOSIDEKICK_URL_FILE",
        },
    }
    for name, service in services(knative).items():
        assert {env["name"] for env in container(service)["env"]} == expected[name]


def test_each_acting_function_has_one_trigger_per_configured_rule(knative: list[Doc]) -> None:
    for function in ACTING:
        rules = json.loads(settings(knative, function).get("RIPOSTE_RULES", "[]"))  # opt-in: none
        every = [t["spec"]["filter"]["attributes"] for t in triggers_of(knative, function)]
        filters = [f for f in every if f["type"] == FALCO_TYPE]
        assert all(f == {"type": FALCO_TYPE, "rule": f["rule"]} for f in filters), filters
        approvals = [f for f in every if f["type"] != FALCO_TYPE]
        # Its own approvals only (interact names the function in the `function` extension).
        assert approvals == ([{"type": "riposte.approval.v1", "function": function}] if rules else [])
        assert sorted(f["rule"] for f in filters) == sorted(rules)
        assert len(rules) == len(set(rules))


def test_default_rules_are_the_ones_the_design_names(knative: list[Doc]) -> None:
    assert json.loads(settings(knative, "delete-configmap")["RIPOSTE_RULES"]) == [
        "Create/Modify Configmap With Private Credentials"
    ]
    assert json.loads(settings(knative, "isolate-pod")["RIPOSTE_RULES"]) == [
        "Terminal shell in container",
        "Netcat Remote Code Execution in Container",
        "Redirect STDOUT/STDIN to Network Connection in Container",
        "Packet socket created in container",
        "Attach/Exec Pod",
        "EphemeralContainers Created",
        "Create Privileged Pod",
        "Create Sensitive Mount Pod",
    ]


def test_notify_gets_one_trigger_per_priority_it_reports_and_the_results(knative: list[Doc]) -> None:
    filters = [t["spec"]["filter"]["attributes"] for t in triggers_of(knative, "notify")]
    by_priority = sorted(f["priority"] for f in filters if "priority" in f)
    assert by_priority == sorted(NOTIFY_PRIORITIES)
    assert all(f == {"type": FALCO_TYPE, "priority": f["priority"]} for f in filters if "priority" in f)
    assert {"type": RESULT_TYPE} in filters
    assert len(filters) == len(NOTIFY_PRIORITIES) + 1
    assert settings(knative, "notify")["RIPOSTE_MIN_PRIORITY"] == "Warning"
    assert "RIPOSTE_RULES" not in settings(knative, "notify")


def test_triggers_use_only_exact_attribute_filters_and_known_delivery_keys(knative: list[Doc]) -> None:
    for name, trigger in of_kind(knative, "Trigger").items():
        spec = trigger["spec"]
        assert set(spec) <= TRIGGER_SPEC_KEYS, name
        assert set(spec["filter"]) == {"attributes"}, name
        assert all(isinstance(v, str) and v for v in spec["filter"]["attributes"].values()), name
        assert set(spec["delivery"]) <= DELIVERY_KEYS, name


def test_delivery_retries_with_backoff_and_dead_letters_to_notify(knative: list[Doc]) -> None:
    for name, trigger in of_kind(knative, "Trigger").items():
        delivery = dict(trigger["spec"]["delivery"])
        sink = delivery.pop("deadLetterSink", None)
        assert delivery == DELIVERY, name
        subscriber = trigger["spec"]["subscriber"]["ref"]["name"]
        # notify never dead-letters to itself; every other subscriber dead-letters to notify.
        assert sink == (None if subscriber == "notify" else {"ref": NOTIFY_REF}), name
    # 2 + 4 + ... + 2^8 s of backoff: longer than an apiserver restart (DESIGN.md §8).
    waits = [1 * 2**n for n in range(1, DELIVERY["retry"] + 1)]
    assert sum(waits) >= 300
    (broker,) = of_kind(knative, "Broker").values()
    assert broker["metadata"]["name"] == "riposte" and broker["metadata"]["namespace"] == "riposte"
    assert broker["spec"]["delivery"]["deadLetterSink"] == {"ref": NOTIFY_REF}


def test_services_run_locked_down_and_scale_to_zero(knative: list[Doc]) -> None:
    for name, service in services(knative).items():
        template = service["spec"]["template"]
        scale = template["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"]
        if name == PUBLIC:  # Slack answers within 3 s: no cold start; its own NetworkPolicy
            assert "networking.knative.dev/visibility" not in service["metadata"]["labels"]
            assert scale == "1" and "app.kubernetes.io/part-of" not in template["metadata"]["labels"]
        else:
            assert service["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
            assert scale == "0", name
            assert template["metadata"]["labels"]["app.kubernetes.io/part-of"] == "riposte"
        spec = template["spec"]
        assert 0 < spec["timeoutSeconds"] <= 600 and spec["containerConcurrency"] == 8
        assert container(service)["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }, name
        assert not any("emptyDir" in volume for volume in spec.get("volumes", [])), name
        assert container(service)["image"].endswith(f"/{name}:0.1.0"), name
    assert services(knative)["notify"]["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


def selects(policy: Doc, labels: dict[str, str]) -> bool:
    wanted: dict[str, str] = policy["spec"]["podSelector"]["matchLabels"]
    return all(labels.get(key) == value for key, value in wanted.items())


@pytest.mark.parametrize(
    ("policy_name", "selector"),
    [
        ("riposte-functions-ingress", {"app.kubernetes.io/part-of": "riposte"}),
        ("interact-ingress", {"app.kubernetes.io/name": "interact", "riposte.io/public": "true"}),
    ],
)
def test_networkpolicy_admits_only_knative_and_the_ingress_gateways(
    knative: list[Doc], policy_name: str, selector: dict[str, str]
) -> None:
    policies = of_kind(knative, "NetworkPolicy")
    assert set(policies) == {"riposte-functions-ingress", "interact-ingress"}
    spec = policies[policy_name]["spec"]
    assert spec["podSelector"] == {"matchLabels": selector}
    assert spec["policyTypes"] == ["Ingress"]
    (rule,) = spec["ingress"]
    (source,) = rule["from"]
    assert set(source) == {"namespaceSelector"}
    (expression,) = source["namespaceSelector"]["matchExpressions"]
    assert expression["key"] == "kubernetes.io/metadata.name" and expression["operator"] == "In"
    assert set(expression["values"]) == {"knative-serving", "kourier-system", "istio-system"}


def test_each_function_pod_is_selected_by_exactly_one_policy(knative: list[Doc]) -> None:
    """NetworkPolicies add up: interact's own policy can be narrowed (to an SSO proxy) only
    because the policy of every other function does not select interact's pods."""
    policies = of_kind(knative, "NetworkPolicy").values()
    for name, service in services(knative).items():
        labels = service["spec"]["template"]["metadata"]["labels"]
        assert sum(selects(policy, labels) for policy in policies) == 1, name


def test_interacts_sinkbinding_gives_it_the_broker(knative: list[Doc]) -> None:
    (binding,) = of_kind(knative, "SinkBinding").values()
    assert binding["spec"]["subject"] == {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "name": PUBLIC,
    }
    assert binding["spec"]["sink"] == {
        "ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "riposte"}
    }


def test_placeholder_secrets_keep_the_functions_from_starting(knative: list[Doc]) -> None:
    """A deploy applied without real secrets fails closed: the functions refuse to start."""
    found = 0
    secret_settings: dict[str, config.Setting[Any]] = {
        "riposte-approval-key": APPROVAL_KEY,
        "riposte-link-secret": interact_settings.LINK_SECRET,
        "riposte-slack-signing-secret": interact_settings.SLACK_SIGNING_SECRET,
    }
    for name, secret in of_kind(knative, "Secret").items():
        for key, value in secret["data"].items():
            text = base64.b64decode(value).decode().strip()
            assert text.startswith("REPLACE-ME"), (name, key)
            with pytest.raises(errors.ConfigError):
                setting = next((s for prefix, s in secret_settings.items() if name.startswith(prefix)), None)
                if setting is not None:
                    setting.read({setting.name: text})
                elif key == "token":
                    config.load(
                        "any", rules=(), min_priority=Priority.WARNING, environ={"RIPOSTE_TOKEN": text}
                    )
                else:
                    config.url({"URL": text}, "URL")
            found += 1
    assert found == 8
