"""Deploy tests: the manifests users apply, checked against a real apiserver.

A session control plane (DESIGN.md §9) gets the Knative and OpenFaaS CRDs vendored in
tests/deploy/crds (with the Knative Service CRD made acceptable to the 1.20 apiserver, in
memory) and deploy/knative's namespace and RBAC, rendered by kustomize. Nothing here is
skipped: a missing kubectl, CRD directory or control plane fails every test that needs
it, saying what is missing.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from devcluster import manifests
from devcluster.controlplane import ROOT, ControlPlane, ControlPlaneError

CRDS = Path(__file__).resolve().parent / "crds"  # vendored: origins in its README.md
DEPLOY = ROOT / "deploy"
Doc = dict[str, Any]


def crd_documents() -> list[Doc]:
    """The vendored CRDs, as the 1.20 apiserver accepts them."""
    found = sorted(CRDS.glob("*.yaml"))
    if not found:
        pytest.fail(f"the vendored Knative/OpenFaaS CRDs are missing from {CRDS}", pytrace=False)
    return [for_apiserver_1_20(doc) for doc in manifests.documents(found)]


def for_apiserver_1_20(node: Any) -> Any:
    """Strip what the 1.20 apiserver rejects in the Knative Service CRD's schema.

    Its structural-schema checks refuse `default: ""` entries and `x-kubernetes-list-type:
    map` (with its `x-kubernetes-list-map-keys`) in that schema; newer apiservers accept
    both. Validation of everything else is unchanged.
    """
    if isinstance(node, dict):
        if node.get("x-kubernetes-list-type") == "map":
            node.pop("x-kubernetes-list-type")
            node.pop("x-kubernetes-list-map-keys", None)
        if node.get("default") == "":
            node.pop("default")
        for value in node.values():
            for_apiserver_1_20(value)
    elif isinstance(node, list):
        for value in node:
            for_apiserver_1_20(value)
    return node


@pytest.fixture(scope="session")
def kubectl() -> str:
    try:
        return manifests.kubectl()
    except manifests.ManifestError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def knative(kubectl: str, tmp_path_factory: pytest.TempPathFactory) -> list[Doc]:
    """deploy/knative as `kubectl kustomize` renders it, with every opt-in function's
    Component added as an overlay would (deploy/README.md "Opt-in responses")."""
    overlay = tmp_path_factory.mktemp("overlay")
    # kustomize takes only relative paths to other kustomizations.
    components = sorted(
        os.path.relpath(path, overlay) for path in (DEPLOY / "knative" / "opt-in").iterdir() if path.is_dir()
    )
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(DEPLOY / "knative", overlay)],
                "components": components,
            }
        )
    )
    try:
        return manifests.rendered(overlay)
    except manifests.ManifestError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def plane(kubectl: str, knative: list[Doc]) -> Iterator[ControlPlane]:
    """A control plane with the CRDs, riposte's namespace and its RBAC (as rendered)."""
    crds = crd_documents()
    try:
        cp = ControlPlane.start()
    except ControlPlaneError as exc:
        pytest.fail(f"the local control plane could not start (DESIGN.md §9): {exc}", pytrace=False)
    try:
        run_kubectl(cp, kubectl, "apply", "-f", "-", stdin=yaml.safe_dump_all(crds))
        for crd in crds:
            run_kubectl(cp, kubectl, "wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}")
        manifests.apply(cp.client(), [doc for doc in knative if doc["kind"] in manifests.BASE_KINDS])
        manifests.apply(
            cp.client(), [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "openfaas-fn"}}]
        )
        yield cp
    finally:
        cp.stop()


@pytest.fixture
def namespace(plane: ControlPlane) -> str:
    """A fresh namespace (never deleted: no namespace controller runs here)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    client.CoreV1Api(plane.client()).create_namespace({"metadata": {"name": name}})
    return name


def run_kubectl(
    cp: ControlPlane, kubectl: str, *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """kubectl against the local control plane as its admin."""
    result = subprocess.run(
        [kubectl, f"--kubeconfig={cp.kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if check and result.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed:\n{result.stderr}", pytrace=False)
    return result


def load(path: Path) -> list[Doc]:
    return list(manifests.documents([path]))
