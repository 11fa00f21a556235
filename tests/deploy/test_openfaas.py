"""deploy/openfaas: the same functions, images and settings as deploy/knative, and the
privilege cost of OpenFaaS CE's one shared ServiceAccount, measured.

Covers: stack.yml names the Knative Services and their images (as kustomize sets them);
its settings equal the deployed ConfigMaps where both platforms share them; secrets are
files under /var/openfaas/secrets named in `secrets:`; results go to notify through the
gateway; the Standard/Enterprise Function CRs pass strict server dry-run against the
Function CRD; and, on the real apiserver, openfaas-fn's default ServiceAccount holds
exactly the union of every acting function's rules (their specs' grants) once rbac.yaml
is applied, while standard/rbac.yaml gives each function its own rules.

Not covered: faas-cli and the gateway themselves (neither exists here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from catalogue import specs
from devcluster import manifests
from devcluster.controlplane import ControlPlane
from tests.deploy.conftest import DEPLOY, Doc, load, run_kubectl
from tests.deploy.test_knative import container, services, settings
from tests.integration.test_rbac import BASIC_USER, EXPECTED, rules_in

OPENFAAS = DEPLOY / "openfaas"
SECRETS = "/var/openfaas/secrets/"
GATEWAY_NOTIFY = "http://gateway.openfaas.svc.cluster.local:8080/function/notify"
Stack = dict[str, dict[str, Any]]  # stack.yml's functions, as YAML loads them
SHARED_SETTINGS = ("RIPOSTE_RULES", "RIPOSTE_MIN_PRIORITY", "RIPOSTE_SOURCES", "RIPOSTE_DEADLINE_SECONDS")


@pytest.fixture(scope="module")
def stack() -> Stack:
    functions: Stack = yaml.safe_load((OPENFAAS / "stack.yml").read_text())["functions"]
    return functions


def test_stack_names_the_same_functions_and_images(stack: Stack, knative: list[Doc]) -> None:
    opt_in = {spec.name for spec in specs.load() if spec.requires_rules}  # the deployer adds those
    assert set(stack) == set(services(knative)) - opt_in
    for name, function in stack.items():
        assert function["image"] == container(services(knative)[name])["image"], name
        assert function["lang"] == "dockerfile" and function["handler"] == "../..", name
        assert function["build_args"] == {"FUNCTION": name.replace("-", "_")}, name
        assert (OPENFAAS / str(function["handler"]) / "Dockerfile").is_file()
        assert function["readonly_root_filesystem"] is True, name


def test_stack_settings_equal_the_knative_configuration(stack: Stack, knative: list[Doc]) -> None:
    for name, function in stack.items():
        env = function["environment"]
        deployed = settings(knative, name)
        for key in SHARED_SETTINGS:
            assert env.get(key) == deployed.get(key), (name, key)
        if "RIPOSTE_RULES" in env:
            assert json.loads(env["RIPOSTE_RULES"])  # a JSON list, as the functions require


def test_stack_reads_every_secret_from_its_openfaas_file(stack: Stack, knative: list[Doc]) -> None:
    for name, function in stack.items():
        env = function["environment"]
        files = {key: value for key, value in env.items() if key.endswith("_FILE")}
        assert set(files) == {e["name"] for e in container(services(knative)[name])["env"]}, name
        for key, path in files.items():
            assert path.startswith(SECRETS) and path[len(SECRETS) :] in function["secrets"], (name, key)
        assert len(function["secrets"]) == len(files), name


def test_acting_functions_send_results_to_notify_through_the_gateway(
    stack: Stack,
) -> None:
    for name, function in stack.items():
        env = function["environment"]
        # notify reports results; interact makes none (the functions it hands decisions to do).
        silent = name in ("notify", "interact")
        assert env.get("RIPOSTE_RESULT_URL") == (None if silent else GATEWAY_NOTIFY), name
        # Copies and protections as stated in stack.yml: openfaas-fn is shared, riposte is not.
        assert env["RIPOSTE_NAMESPACE"] == "riposte"
        if name not in ("notify", "undo", "interact"):  # undo only reverses riposte's own actions
            protected = env["RIPOSTE_PROTECTED_NAMESPACES"].split(",")
            assert {"kube-system", "openfaas", "openfaas-fn"} <= set(protected)


def test_standard_function_crs_pass_strict_server_dry_run(plane: ControlPlane, kubectl: str) -> None:
    result = run_kubectl(
        plane, kubectl, "apply", "--dry-run=server", "--validate=strict",
        "-f", str(OPENFAAS / "standard" / "functions.yaml"),
    )  # fmt: skip
    opt_in = {spec.name for spec in specs.load() if spec.requires_rules}
    assert result.stdout.count("(server dry run)") == len(set(EXPECTED) - opt_in), result.stdout


def test_standard_function_crs_match_the_stack_with_own_serviceaccounts(
    stack: Stack,
) -> None:
    crs = {doc["metadata"]["name"]: doc for doc in load(OPENFAAS / "standard" / "functions.yaml")}
    assert set(crs) == set(stack)
    accounts = {
        doc["metadata"]["name"]
        for doc in load(OPENFAAS / "standard" / "rbac.yaml")
        if doc["kind"] == "ServiceAccount" and doc["metadata"]["namespace"] == "openfaas-fn"
    }
    for name, cr in crs.items():
        spec = cr["spec"]
        assert cr["metadata"]["namespace"] == "openfaas-fn"
        assert (spec["name"], spec["image"]) == (name, stack[name]["image"])
        assert spec["environment"] == stack[name]["environment"] and spec["secrets"] == stack[name]["secrets"]
        assert spec["annotations"]["com.openfaas.serviceaccount"] == name and name in accounts
        assert spec["readOnlyRootFilesystem"] is True


def sa_client(plane: ControlPlane, namespace: str, name: str) -> client.ApiClient:
    # kubernetes.config's loaders carry no annotations (kubernetes 37), unlike its client
    api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(plane.serviceaccount_kubeconfig(namespace, name))
    )
    return api


def apply_files(plane: ControlPlane, *paths: Path) -> None:
    docs: list[Doc] = [doc for path in paths for doc in load(path)]
    manifests.apply(plane.client(), docs)


def test_openfaas_ce_default_serviceaccount_holds_the_union_of_the_acting_roles(
    plane: ControlPlane, namespace: str
) -> None:
    apply_files(plane, OPENFAAS / "rbac.yaml")
    manifests.apply(
        plane.client(),
        [
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": "openfaas-fn"},
            }
        ],
    )
    shared = sa_client(plane, "openfaas-fn", "default")
    acting = [rules for name, rules in EXPECTED.items() if name != "notify"]
    union = set().union(*(everywhere for everywhere, _ in acting))
    assert rules_in(shared, namespace) == union | BASIC_USER
    own = set().union(*(own for _, own in acting))
    assert rules_in(shared, "riposte") == union | own | BASIC_USER


def test_openfaas_standard_serviceaccounts_hold_only_their_own_rules(
    plane: ControlPlane, namespace: str
) -> None:
    apply_files(plane, OPENFAAS / "standard" / "rbac.yaml")
    for name, (everywhere, own) in EXPECTED.items():
        account = sa_client(plane, "openfaas-fn", name)
        assert rules_in(account, namespace) == everywhere | BASIC_USER, name
        assert rules_in(account, "riposte") == everywhere | own | BASIC_USER, name
