"""deploy/falco: the chart values and the k3s audit set-up, checked structurally.

Neither helm nor the chart is available here, so these tests pin the keys, types and
cross-references the design depends on (DESIGN.md §8): Falcosidekick's cloudevents
output points at the broker of deploy/knative; the sender token comes from a Secret
through extraEnv, never through the chart key that renders a variable Falcosidekick
does not read; the minimum priorities let through every alert a function answers; the
k8saudit plugin is loaded and its rules file listed; append_output keeps suggested_output
and adds, for k8s_audit, every ka.* field the specs read; the audit webhook
reaches the plugin's port through the chart's service; the audit policy parses and never
logs Secret bodies; the OpenFaaS overlay routes each tokened output to a function of
deploy/openfaas/stack.yml.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import yaml

from catalogue import specs
from devcluster.controlplane import ControlPlane
from shared.priority import Priority
from tests.deploy.conftest import DEPLOY, Doc, load, run_kubectl

FALCO = DEPLOY / "falco"
BROKER_URL = "http://broker-ingress.knative-eventing.svc.cluster.local/riposte/riposte"
PRIORITIES = ("emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug")


def values(name: str = "values.yaml") -> Doc:
    loaded: Doc = yaml.safe_load((FALCO / name).read_text())
    return loaded


def from_secret(env: list[Doc], name: str) -> Doc:
    (entry,) = [e for e in env if e["name"] == name]
    assert set(entry) == {"name", "valueFrom"}, entry
    ref: Doc = entry["valueFrom"]["secretKeyRef"]
    return ref


def test_cloudevents_output_goes_to_the_broker_of_deploy_knative(knative: list[Doc]) -> None:
    cloudevents = values()["falcosidekick"]["config"]["cloudevents"]
    assert cloudevents["address"] == BROKER_URL
    (broker,) = [doc for doc in knative if doc["kind"] == "Broker"]
    path = urlsplit(cloudevents["address"]).path
    assert path == f"/{broker['metadata']['namespace']}/{broker['metadata']['name']}"
    # The lowest priority any function answers by default (notify: Warning): lower reaches
    # nobody. Opt-in functions answer the rules their deployer names (README: lower this
    # with them when those rules are below it).
    lowest = min([Priority.WARNING, *(s.min_priority for s in specs.load() if not s.requires_rules)])
    assert Priority.parse(cloudevents["minimumpriority"]) == lowest


def test_sender_token_comes_from_a_secret_holding_the_whole_extension() -> None:
    sidekick = values()["falcosidekick"]
    assert sidekick["enabled"] is True
    ref = from_secret(sidekick["config"]["extraEnv"], "CLOUDEVENTS_EXTENSIONS")
    assert ref == {"name": "riposte-sender", "key": "CLOUDEVENTS_EXTENSIONS"}
    # The chart renders config.cloudevents.extension as CLOUDEVENTS_EXTENSION (singular),
    # which Falcosidekick never reads.
    assert "extension" not in sidekick["config"]["cloudevents"]


def test_k8saudit_plugin_is_loaded_with_its_rules() -> None:
    falco = values()["falco"]
    plugins = {plugin["name"]: plugin for plugin in falco["plugins"]}
    assert set(falco["load_plugins"]) == {"k8saudit", "json"} <= set(plugins)
    assert plugins["k8saudit"]["library_path"] == "libk8saudit.so"
    assert plugins["json"]["library_path"] == "libjson.so"
    assert "/etc/falco/k8s_audit_rules.yaml" in falco["rules_files"]
    assert "/etc/falco/falco_rules.yaml" in falco["rules_files"]
    refs = values()["falcoctl"]["config"]["artifact"]["install"]["refs"]
    assert any(ref.startswith("k8saudit-rules:") for ref in refs)
    assert any(ref.startswith("falco-rules:") for ref in refs)


def test_append_output_keeps_suggested_output_and_adds_the_fields_the_specs_read() -> None:
    fields = sorted({field for spec in specs.load() for field in spec.fields if field.startswith("ka.")})
    assert "ka.target.namespace" in fields  # the seed rule's output has no namespace
    assert {"ka.response.code", "ka.resp.uid"} <= set(fields)  # did the audited request make it?
    # The k8saudit plugin has no field for the created object's uid: it is a named extra
    # field, formatted by the json plugin from the response body (a bare `ka.resp.uid`
    # would make Falco refuse to load the configuration).
    created_uid = {"ka.resp.uid": "%jevt.value[/responseObject/metadata/uid]"}
    extra = [created_uid if field == "ka.resp.uid" else field for field in fields]
    assert values()["falco"]["append_output"] == [
        {"suggested_output": True},
        {"match": {"source": "syscall"}, "extra_fields": ["k8s.pod.uid"]},
        {"match": {"source": "k8s_audit"}, "extra_fields": extra},
    ]
    assert values()["falco"]["json_output"] is True


def webhook_server() -> str:
    kubeconfig = yaml.safe_load((FALCO / "k3s" / "audit-webhook.yaml").read_text())
    assert kubeconfig["kind"] == "Config" and kubeconfig["apiVersion"] == "v1"
    (context,) = kubeconfig["contexts"]
    assert kubeconfig["current-context"] == context["name"]
    (cluster,) = [c for c in kubeconfig["clusters"] if c["name"] == context["context"]["cluster"]]
    server: str = cluster["cluster"]["server"]
    return server


def test_audit_webhook_reaches_the_plugin_through_the_chart_service() -> None:
    server = urlsplit(webhook_server())
    plugin = {p["name"]: p for p in values()["falco"]["plugins"]}["k8saudit"]
    listen = urlsplit(plugin["open_params"])
    (service,) = [s for s in values()["services"] if s["name"] == "k8saudit-webhook"]
    (port,) = service["ports"]
    assert service["type"] == "NodePort"
    assert (server.hostname, server.port) == ("127.0.0.1", port["nodePort"])
    assert listen.port == port["port"] and port.get("targetPort", port["port"]) == listen.port
    assert server.path == listen.path == "/k8s-audit"


def test_k3s_server_arguments_name_the_policy_the_webhook_and_a_short_batch_wait() -> None:
    args = yaml.safe_load((FALCO / "k3s" / "config.yaml").read_text())["kube-apiserver-arg"]
    flags = dict(arg.split("=", 1) for arg in args)
    assert flags["audit-policy-file"].endswith("/audit-policy.yaml")
    assert flags["audit-webhook-config-file"].endswith("/audit-webhook.yaml")
    assert flags["audit-webhook-batch-max-wait"] == "5s"


def test_audit_policy_parses_and_never_logs_secret_bodies() -> None:
    policy = yaml.safe_load((FALCO / "k3s" / "audit-policy.yaml").read_text())
    assert (policy["apiVersion"], policy["kind"]) == ("audit.k8s.io/v1", "Policy")
    levels = {"None", "Metadata", "Request", "RequestResponse"}
    assert all(rule["level"] in levels for rule in policy["rules"])
    assert policy["rules"][-1] == {"level": "Metadata"}  # the catch-all comes last

    def first_level(group: str, resource: str, verb: str) -> str:
        for rule in policy["rules"]:
            if "nonResourceURLs" in rule or ("users" in rule) or verb not in rule.get("verbs", [verb]):
                continue
            matches = [r for r in rule.get("resources", []) if r["group"] == group]
            if "resources" not in rule or any(resource in r["resources"] for r in matches):
                level: str = rule["level"]
                return level
        raise AssertionError("no rule matched")

    assert first_level("", "secrets", "create") == "Metadata"
    assert first_level("", "configmaps", "create") == "Request"  # the seed rule reads the body
    assert first_level("", "pods", "create") == "RequestResponse"  # ka.resp.name
    assert first_level("", "pods/exec", "create") == "RequestResponse"
    # ka.resp.uid: the objects the functions act on log their response bodies.
    for group, resource in (("", "services"), ("", "pods/ephemeralcontainers"),
                            ("rbac.authorization.k8s.io", "clusterrolebindings"),
                            ("rbac.authorization.k8s.io", "roles")):  # fmt: skip
        assert first_level(group, resource, "create") == "RequestResponse", resource


@pytest.mark.parametrize("name", ["values.yaml", "values-openfaas.yaml"])
def test_minimum_priorities_are_falco_priorities(name: str) -> None:
    config = values(name)["falcosidekick"]["config"]
    for output in ("cloudevents", "webhook"):
        if output in config:
            assert config[output]["minimumpriority"] in PRIORITIES


def test_openfaas_overlay_sends_each_tokened_output_to_a_function_of_the_stack() -> None:
    stack = yaml.safe_load((DEPLOY / "openfaas" / "stack.yml").read_text())["functions"]
    config = values("values-openfaas.yaml")["falcosidekick"]["config"]
    targets = {}
    for output in ("cloudevents", "webhook"):
        url = urlsplit(config[output]["address"])
        assert url.hostname == "gateway.openfaas.svc.cluster.local" and url.path.startswith("/function/")
        targets[output] = url.path.removeprefix("/function/")
        assert targets[output] in stack
    assert targets == {"cloudevents": "isolate-pod", "webhook": "delete-configmap"}
    by_name = {spec.name: spec for spec in specs.load()}
    for output, function in targets.items():  # each output lets through what its function answers
        lowest = Priority.parse(config[output]["minimumpriority"])
        assert lowest is not None and lowest <= by_name[function].min_priority
    # Helm replaces lists: the overlay's extraEnv must carry both tokens.
    env = config["extraEnv"]
    assert from_secret(env, "CLOUDEVENTS_EXTENSIONS")["name"] == "riposte-sender"
    assert from_secret(env, "WEBHOOK_CUSTOMHEADERS") == {
        "name": "riposte-sender",
        "key": "WEBHOOK_CUSTOMHEADERS",
    }
    assert "customHeaders" not in config["webhook"]  # the token never sits in values


def test_ripostes_namespace_is_an_exception_of_the_api_server_contact_rule() -> None:
    """riposte's pods talk to the API by design; the exception is appended, not replacing
    the rule's own, and names exactly riposte's namespaces."""
    for values_file, namespace in (("values.yaml", "riposte"), ("values-openfaas.yaml", "openfaas-fn")):
        rules_files = values(values_file)["customRules"]
        [text] = rules_files.values()
        [rule] = yaml.safe_load(text)
        assert rule["rule"] == "Contact K8S API Server From Container"
        assert rule["override"] == {"exceptions": "append"}
        [exception] = rule["exceptions"]
        assert exception["fields"] == ["k8s.ns.name"] and exception["comps"] == ["="]
        assert exception["values"] == [[namespace]]


def test_only_falco_and_notify_may_reach_falcosidekick(plane: ControlPlane, kubectl: str) -> None:
    path = FALCO / "falcosidekick-networkpolicy.yaml"
    [policy] = load(path)
    spec = policy["spec"]
    assert policy["metadata"]["namespace"] == "falco" and spec["policyTypes"] == ["Ingress"]
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "falcosidekick",
        "app.kubernetes.io/instance": "falco",
    }
    [rule] = spec["ingress"]
    falco, notify = rule["from"]
    assert falco == {
        "podSelector": {
            "matchLabels": {"app.kubernetes.io/name": "falco", "app.kubernetes.io/instance": "falco"}
        }
    }
    assert notify["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "riposte"}
    assert notify["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "notify"}
    assert rule["ports"] == [{"protocol": "TCP", "port": 2801}]
    run_kubectl(plane, kubectl, "create", "namespace", "falco", check=False)
    result = run_kubectl(plane, kubectl, "apply", "--dry-run=server", "--validate=strict", "-f", str(path))
    assert "(server dry run)" in result.stdout
