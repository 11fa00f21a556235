"""Apply the project's own deploy manifests to the local control plane, as they are.

Integration tests apply exactly what users apply (deploy/knative's RBAC), so a test that
passes as the function's ServiceAccount proves the shipped RBAC suffices.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from devcluster.controlplane import ROOT

KNATIVE = ROOT / "deploy" / "knative"


def documents(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield doc


def kustomization_files(directory: Path = KNATIVE, kinds: tuple[str, ...] = ()) -> list[Path]:
    """The plain-file resources a kustomization lists (no generators/patches needed here)."""
    listed = yaml.safe_load((directory / "kustomization.yaml").read_text())["resources"]
    return [directory / name for name in listed if (directory / name).is_file()]


def apply(api_client: Any, docs: Iterable[dict[str, Any]], kinds: frozenset[str] | None = None) -> list[str]:
    """Create each object (of `kinds`, when given); an existing one is left as it is."""
    from kubernetes import utils
    from kubernetes.client.exceptions import ApiException

    created = []
    for doc in docs:
        if kinds is not None and doc["kind"] not in kinds:
            continue
        try:
            utils.create_from_dict(api_client, doc)
        except utils.FailToCreateError as exc:
            if not all(isinstance(e, ApiException) and e.status == 409 for e in exc.api_exceptions):
                raise
        created.append(f"{doc['kind']}/{doc['metadata']['name']}")
    return created
