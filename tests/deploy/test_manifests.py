"""Generated files: rendered from the specs, reproducibly, and committed as rendered.

Covers: `make manifests` (catalogue.render) renders the same bytes every time; the
committed files are its rendering (`--check`, as `make test` runs it); every acting
spec has, as kustomize renders deploy/knative, its Service, ServiceAccount, roles holding
exactly Spec.grants(), budget Lease, ConfigMap and one Trigger per rule, and its OpenFaaS
entries; a new spec (a stand-in for the functions to come) renders every file it needs,
YAML-safe whatever its rule names; a stale generated file is reported and removed; the
defaults written out are the code's; notify's restated shape is its main.py's.

Not covered here: that the rendered objects are accepted by an apiserver and hang
together (test_knative.py, test_openfaas.py) and that the RBAC is exactly enough
(tests/integration/test_rbac.py).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalogue import marked, notify, render, site, specs
from catalogue.knative import triggers
from catalogue.yamltext import MARK, scalar, seq
from devcluster import manifests
from devcluster.controlplane import ControlPlane
from shared import config, names
from shared.acting.spec import Grant, Scope, Spec
from shared.priority import Priority
from tests.deploy.conftest import run_kubectl
from tests.deploy.test_knative import of_kind, settings, triggers_of

ROOT = specs.ROOT


def current(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def loaded() -> tuple[Spec[Any], ...]:
    return specs.load()


def rules_of(grants: tuple[Grant, ...] | list[Grant]) -> list[dict[str, Any]]:
    """Grants as the rules of a rendered role."""
    found = []
    for grant in grants:
        rule: dict[str, Any] = {"apiGroups": [grant.group], "resources": list(grant.resources)}
        if grant.names:
            rule["resourceNames"] = list(grant.names)
        found.append({**rule, "verbs": list(grant.verbs)})
    return found


# -- reproducible, and committed as rendered -------------------------------------------


def test_rendering_twice_gives_the_same_bytes(loaded: tuple[Spec[Any], ...]) -> None:
    again = specs.load()  # imported afresh, under the same module names
    assert [spec.name for spec in again] == [spec.name for spec in loaded]
    assert render.render(loaded, current) == render.render(again, current)


def test_the_committed_files_are_what_make_manifests_renders() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "catalogue.render", "--check"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_every_generated_file_says_so_on_its_first_line(loaded: tuple[Spec[Any], ...]) -> None:
    for path, text in render.render(loaded, current).items():
        if path.startswith("deploy/knative/") or path.startswith("deploy/openfaas/"):
            assert text.startswith(MARK + " from "), path
            assert text.endswith("\n") and not text.endswith("\n\n"), path


def test_specs_are_every_main_py_defining_spec_sorted_by_name(loaded: tuple[Spec[Any], ...]) -> None:
    names_ = [spec.name for spec in loaded]
    assert names_ == sorted(names_) and len(set(names_)) == len(names_)
    folders = {path.parent.name for path in specs.FUNCTIONS.glob("*/main.py")}
    assert {specs.folder(name) for name in names_} == folders - {
        "notify",
        "undo",
        "interact",
    }  # not on the runner


# -- every spec, deployed --------------------------------------------------------------


def named(docs: list[dict[str, Any]], kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    (found,) = [
        doc
        for doc in docs
        if doc["kind"] == kind
        and doc["metadata"]["name"] == name
        and (namespace is None or doc["metadata"].get("namespace") in (namespace, None))
    ]
    return found


def test_every_spec_has_its_service_rbac_lease_config_and_triggers(
    loaded: tuple[Spec[Any], ...], knative: list[dict[str, Any]]
) -> None:
    for spec in loaded:
        assert spec.name in of_kind(knative, "ServiceAccount"), spec.name
        assert spec.name in {d["metadata"]["name"] for d in knative if d["kind"] == "Service"}, spec.name
        role_name = f"riposte-{spec.name}"
        cluster = [g for g in spec.grants() if g.scope is Scope.CLUSTER]
        assert named(knative, "ClusterRole", role_name)["rules"] == rules_of(cluster), spec.name
        account = {"kind": "ServiceAccount", "name": spec.name, "namespace": site.NAMESPACE}
        for scope, where in ((Scope.OWN, site.NAMESPACE), (Scope.APPROVALS, "riposte-approvals")):
            role = named(knative, "Role", role_name, where)
            assert role["metadata"]["namespace"] == where
            assert role["rules"] == rules_of([g for g in spec.grants() if g.scope is scope]), spec.name
            binding = named(knative, "RoleBinding", role_name, where)
            assert binding["roleRef"]["kind"] == "Role" and binding["subjects"] == [account]
        binding = named(knative, "ClusterRoleBinding", role_name)
        assert binding["roleRef"]["kind"] == "ClusterRole" and binding["subjects"] == [account]
        assert names.budget_lease(spec.name) in of_kind(knative, "Lease"), spec.name
        env = settings(knative, spec.name)
        assert json.loads(env.get("RIPOSTE_RULES", "[]")) == list(spec.rules), spec.name
        assert env["RIPOSTE_MIN_PRIORITY"] == spec.min_priority.label
        assert env["RIPOSTE_SOURCES"].split(",") == list(spec.sources)
        for setting in spec.settings:
            assert setting.parse(env[setting.name]) == setting.default, (spec.name, setting.name)
        filters = [t["spec"]["filter"]["attributes"] for t in triggers_of(knative, spec.name)]
        assert sorted(f["rule"] for f in filters if "rule" in f) == sorted(spec.rules), spec.name


def test_every_spec_has_its_openfaas_entries(loaded: tuple[Spec[Any], ...]) -> None:
    stack = yaml.safe_load(current("deploy/openfaas/stack.yml"))["functions"]
    crs = {
        d["metadata"]["name"]: d
        for d in yaml.safe_load_all(current("deploy/openfaas/standard/functions.yaml"))
    }
    ce = [d for d in yaml.safe_load_all(current("deploy/openfaas/rbac.yaml"))]
    for spec in loaded:
        if spec.requires_rules:  # opt-in: an entry its deployer adds, with the rules
            assert spec.name not in stack and spec.name not in crs
            continue
        assert stack[spec.name]["build_args"] == {"FUNCTION": specs.folder(spec.name)}
        assert json.loads(stack[spec.name]["environment"]["RIPOSTE_RULES"]) == list(spec.rules)
        assert crs[spec.name]["spec"]["environment"] == stack[spec.name]["environment"]
        bound = {
            d["roleRef"]["name"] for d in ce if d["metadata"]["labels"]["app.kubernetes.io/name"] == spec.name
        }
        assert bound == {f"riposte-{spec.name}"}
    assert set(stack) == {spec.name for spec in loaded if not spec.requires_rules} | {
        notify.NAME,
        "undo",
        "interact",
    }


# -- a new spec ------------------------------------------------------------------------

NEW_RULES = ("Drop and execute new binary in container", "K8s: Serviceaccount #created", 'Say "hi"')


def new_spec(base: Spec[Any], **changes: Any) -> Spec[Any]:
    """A function still to come, as a spec: a real one's hooks under a new name."""
    fields = {
        "name": "example-response",
        "summary": "labels the pod | a test's stand-in",
        "rules": NEW_RULES,
        "min_priority": Priority.INFORMATIONAL,
        "sources": ("syscall",),
        "fields": ("k8s.pod.name", "ka.user.name"),
        "rbac": (Grant("apps", ("deployments",), ("get",), "read the owner"),),
        "settings": (
            config.Setting("RIPOSTE_LABEL_VALUE", str, "0.1", doc="the label's value"),
            config.Setting("RIPOSTE_LABEL_SECRET", str, None, doc="a secret", secret=True),
        ),
    }
    return dataclasses.replace(base, **{**fields, **changes})


NEW_FUNCTION = f'''"""example-response: a stand-in for a function to come (tests/deploy/test_manifests.py)."""

from shared import config, targets
from shared.acting import runner
from shared.acting.spec import Grant, Refusal, Spec
from shared.priority import Priority


def verify(facts):
    return Refusal("a stand-in never acts")


def act(context, facts, plan):
    raise AssertionError("never called")


SPEC = Spec(
    name="example-response",
    summary="labels the pod | a test's stand-in",
    rules={NEW_RULES!r},
    min_priority=Priority.INFORMATIONAL,
    sources=("syscall",),
    fields=("k8s.pod.name", "ka.user.name"),
    target=targets.pod,
    verify=verify,
    act=act,
    rbac=(Grant("apps", ("deployments",), ("get",), "read the owner: a #comment, with: colons"),),
    settings=(
        config.Setting("RIPOSTE_LABEL_VALUE", str, "0.1", doc="the label's value"),
        config.Setting("RIPOSTE_LABEL_SECRET", str, None, doc="a secret", secret=True),
    ),
)
handle = runner.serve(SPEC)
'''


def test_a_new_main_py_and_make_manifests_deploy_a_new_function(
    checkout: Path, plane: ControlPlane, kubectl: str
) -> None:
    """What adding a response takes (README "Adding a response"): its main.py, then
    `make manifests`; the result renders with kustomize and passes strict server dry-run."""
    (checkout / "functions" / "example_response").mkdir()
    (checkout / "functions" / "example_response" / "main.py").write_text(NEW_FUNCTION)
    assert render.main([], root=checkout) == 0
    assert render.main(["--check"], root=checkout) == 0
    docs = manifests.rendered(checkout / "deploy" / "knative")

    assert (
        named(docs, "Service", "example-response")["spec"]["template"]["spec"]["serviceAccountName"]
        == "example-response"
    )
    assert named(docs, "ClusterRole", "riposte-example-response")["rules"][-1] == {
        "apiGroups": ["apps"],
        "resources": ["deployments"],
        "verbs": ["get"],
    }
    assert named(docs, "Role", "riposte-example-response", "riposte")["rules"][0]["resourceNames"] == [
        "riposte-budget-example-response"
    ]
    assert names.budget_lease("example-response") in of_kind(docs, "Lease")
    filters = [t["spec"]["filter"]["attributes"] for t in triggers_of(docs, "example-response")]
    assert [f["rule"] for f in filters if "rule" in f] == list(NEW_RULES)
    assert {"type": "riposte.approval.v1", "function": "example-response"} in filters  # its approvals
    assert all(len(t["metadata"]["name"]) <= 63 for t in triggers_of(docs, "example-response"))
    env = settings(docs, "example-response")
    assert (
        json.loads(env["RIPOSTE_RULES"]) == list(NEW_RULES) and env["RIPOSTE_MIN_PRIORITY"] == "Informational"
    )
    assert env["RIPOSTE_LABEL_VALUE"] == "0.1" and "RIPOSTE_LABEL_SECRET" not in env

    stack = yaml.safe_load((checkout / "deploy/openfaas/stack.yml").read_text())["functions"]
    assert stack["example-response"]["environment"]["RIPOSTE_LABEL_VALUE"] == "0.1"  # quoted: still a string
    assert stack["example-response"]["build_args"] == {"FUNCTION": "example_response"}
    falco = yaml.safe_load((checkout / "deploy/falco/values.yaml").read_text())["falco"]
    assert "ka.user.name" in falco["append_output"][2]["extra_fields"]
    readme = (checkout / "README.md").read_text()
    assert "| `example-response` |" in readme and "labels the pod \\| a test" in readme
    assert "| `example-response` | namespaces get; events get, create; deployments get |" in readme

    result = run_kubectl(
        plane, kubectl, "apply", "--dry-run=server", "--validate=strict", "-f", "-",
        stdin=yaml.safe_dump_all(docs),
    )  # fmt: skip
    assert result.stdout.count("(server dry run)") == len(docs), result.stdout
    for path in ("deploy/openfaas/rbac.yaml", "deploy/openfaas/standard/rbac.yaml"):
        result = run_kubectl(
            plane, kubectl, "apply", "--dry-run=server", "--validate=strict", "-f", str(checkout / path)
        )
        assert "riposte-openfaas" in result.stdout and "example-response" in result.stdout, path


def test_a_spec_without_default_rules_gets_no_triggers_and_says_so(loaded: tuple[Spec[Any], ...]) -> None:
    spec = new_spec(loaded[0], rules=(), requires_rules=True)
    files = render.render((*loaded, spec), current)
    assert "deploy/knative/triggers/example-response.yaml" not in files
    assert (
        "triggers/example-response.yaml"
        not in yaml.safe_load(files["deploy/knative/kustomization.yaml"])["resources"]
    )
    assert "\n# RIPOSTE_RULES=\n" in files["deploy/knative/config/example-response.env"]
    # Not served by default: a Component an overlay adds, and no OpenFaaS entry.
    assert (
        "services/example-response.yaml"
        not in yaml.safe_load(files["deploy/knative/kustomization.yaml"])["resources"]
    )
    assert "deploy/knative/opt-in/example-response/service.yaml" in files
    assert "example-response" not in yaml.safe_load(files["deploy/openfaas/stack.yml"])["functions"]


@pytest.mark.parametrize(
    "value",
    ["0.1.0", "5", "true", "on", "null", "", "a: b", "#x", "x #y", "[x]", "a,b", "{x}", "- x", "*x",
     "&x", "Attach/Exec Pod", "it's", 'say "hi"', "both ' and \"", "tab\there", "ünïcode", " padded ",
     "line\nbreak"],
)  # fmt: skip
def test_scalars_read_back_as_the_same_string(value: str) -> None:
    assert yaml.safe_load(f"key: {scalar(value)}")["key"] == value
    assert yaml.safe_load(f"key: {seq([value, 'x'])}")["key"] == [value, "x"]


def test_long_rule_names_lose_their_first_words_to_fit() -> None:
    assert triggers.trigger_name("isolate-pod", "Attach/Exec Pod") == "isolate-pod-attach-exec-pod"
    name = triggers.trigger_name("delete-configmap", "Create/Modify Configmap With Private Credentials")
    assert name == "delete-configmap-modify-configmap-with-private-credentials" and len(name) <= 63
    with pytest.raises(ValueError, match="no Trigger name"):
        triggers.trigger_name("f" * 60, "Averyveryverylongsingleword")


def test_a_file_without_its_markers_is_refused() -> None:
    with pytest.raises(marked.MarkerError, match="BEGIN generated: functions"):
        marked.replace("no markers here\n", "functions", ["x"], path="README.md")


# -- write mode, stale files -----------------------------------------------------------


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of what the renderer reads and writes."""
    for part in ("functions", "deploy"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


def test_make_manifests_rewrites_an_edited_file_and_removes_a_stale_one(
    checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = checkout / "deploy/knative/rbac/isolate-pod.yaml"
    edited.write_text(edited.read_text().replace("verbs: [get, patch]", "verbs: [get, patch, delete]"))
    stale = checkout / "deploy/knative/services/gone.yaml"
    stale.write_text(f"{MARK} from functions/gone/main.py: edit the spec, not this file.\n")
    kept = checkout / "deploy/knative/services/handwritten.yaml"
    kept.write_text("# not generated\n")

    assert render.main(["--check"], root=checkout) == 1
    err = capsys.readouterr().err
    assert "deploy/knative/rbac/isolate-pod.yaml" in err and "services/gone.yaml (stale" in err
    assert "make manifests" in err and "handwritten" not in err

    assert render.main([], root=checkout) == 0
    assert "delete" not in edited.read_text().split("kind: ClusterRole\n")[1].split("---")[0]
    assert not stale.exists() and kept.exists()
    assert render.main(["--check"], root=checkout) == 0


# -- what the rendering restates -------------------------------------------------------


def test_the_defaults_written_out_are_the_codes() -> None:
    loaded = config.load("any", rules=(), min_priority=Priority.WARNING, environ={})
    assert loaded.deadline_seconds == site.DEADLINE_SECONDS
    assert str(loaded.budget) == site.BUDGET and loaded.budget.cooldown == site.COOLDOWN_SECONDS
    assert loaded.dry_run is False


def test_notifys_restated_shape_is_its_main_py(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("RIPOSTE_"):
            monkeypatch.delenv(key)
    source = ROOT / "functions" / "notify" / "main.py"
    loader = importlib.util.spec_from_file_location("riposte_test_notify_main", source)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    monkeypatch.setitem(sys.modules, "riposte_test_notify_main", module)
    loader.loader.exec_module(module)
    assert module.SETTINGS.min_priority == notify.MIN_PRIORITY
    assert not module.SETTINGS.rules  # every rule: no RIPOSTE_RULES in its config
    assert not specs.defines_spec(source)
