"""`make manifests`: render every generated file from the specs, or check them (`--check`).

    python -m catalogue.render          write them (and remove generated files no spec
                                        renders any more, say after a function is removed)
    python -m catalogue.render --check  change nothing; exit 1 listing every file that
                                        differs from its rendering, is missing or is stale

The rendering is a pure function of the specs and of the hand-written parts of the files
holding generated blocks (deploy/falco/values.yaml, README.md): the same checkout always
renders the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from catalogue import falco, interact, notify, openfaas, rbac, readme, specs, undo
from catalogue.knative import config, kustomize, services, triggers
from catalogue.yamltext import MARK
from shared.acting.spec import Spec

KNATIVE = "deploy/knative"
# Directories holding one generated file per function: a generated file there that no
# spec renders any more is stale.
PER_FUNCTION = tuple(f"{KNATIVE}/{part}" for part in ("config", "rbac", "services", "triggers"))
OPT_IN = f"{KNATIVE}/opt-in"


def render(specs_: Sequence[Spec[Any]], current: Callable[[str], str]) -> dict[str, str]:
    """Every generated file's text, by path relative to the repository root. `current`
    reads a file's present text (for the files holding generated blocks)."""
    files: dict[str, str] = {}
    for spec in specs_:
        files[f"{KNATIVE}/config/{spec.name}.env"] = config.acting(spec)
        files[f"{KNATIVE}/rbac/{spec.name}.yaml"] = rbac.knative(spec)
        if spec.requires_rules:  # opt-in: a kustomize Component, not part of the base
            files[f"{KNATIVE}/opt-in/{spec.name}/service.yaml"] = services.acting(spec)
            files[f"{KNATIVE}/opt-in/{spec.name}/kustomization.yaml"] = kustomize.opt_in(spec)
        else:
            files[f"{KNATIVE}/services/{spec.name}.yaml"] = services.acting(spec)
        if (rendered := triggers.acting(spec)) is not None:
            files[f"{KNATIVE}/triggers/{spec.name}.yaml"] = rendered
    files[f"{KNATIVE}/config/{notify.NAME}.env"] = config.for_notify()
    files[f"{KNATIVE}/rbac/{notify.NAME}.yaml"] = rbac.knative_notify()
    files[f"{KNATIVE}/services/{notify.NAME}.yaml"] = services.for_notify()
    files[f"{KNATIVE}/triggers/{notify.NAME}.yaml"] = triggers.for_notify()
    files[f"{KNATIVE}/config/{undo.NAME}.env"] = config.for_undo()
    files[f"{KNATIVE}/rbac/{undo.NAME}.yaml"] = rbac.knative(undo.UNDO)
    files[f"{KNATIVE}/services/{undo.NAME}.yaml"] = services.for_undo()
    files[f"{KNATIVE}/triggers/{undo.NAME}.yaml"] = undo.triggers()
    files[f"{KNATIVE}/config/{interact.NAME}.env"] = config.for_interact()
    files[f"{KNATIVE}/rbac/{interact.NAME}.yaml"] = rbac.knative(interact.INTERACT)
    files[f"{KNATIVE}/services/{interact.NAME}.yaml"] = services.for_interact()
    files[interact.SLACK_MANIFEST] = interact.slack_manifest()
    files[f"{KNATIVE}/budget.yaml"] = kustomize.budget(specs_)
    files[f"{KNATIVE}/kustomization.yaml"] = kustomize.kustomization(specs_)
    files["deploy/openfaas/stack.yml"] = openfaas.stack(specs_)
    files["deploy/openfaas/undo-sweep.yaml"] = openfaas.sweep_cronjob()
    holders: list[rbac.Holder] = [*specs_, undo.UNDO, interact.INTERACT]
    files["deploy/openfaas/rbac.yaml"] = rbac.openfaas_ce(holders)
    files["deploy/openfaas/standard/functions.yaml"] = openfaas.standard_functions(specs_)
    files["deploy/openfaas/standard/rbac.yaml"] = rbac.openfaas_standard(holders)
    files[falco.VALUES] = falco.values(current(falco.VALUES), specs_)
    files[readme.README] = readme.render(current(readme.README), specs_)
    return dict(sorted(files.items()))


def stale(root: Path, files: dict[str, str]) -> list[str]:
    """Generated files in the per-function directories that nothing renders any more."""
    found = []
    opt_in = [
        path.relative_to(root).as_posix() for path in sorted((root / OPT_IN).glob("*")) if path.is_dir()
    ]
    for directory in (*PER_FUNCTION, *opt_in):
        for path in sorted((root / directory).glob("*")):
            relative = path.relative_to(root).as_posix()
            if relative not in files and path.is_file() and path.read_text().startswith(MARK):
                found.append(relative)
    return found


def differing(root: Path, files: dict[str, str]) -> list[str]:
    """The rendered files whose committed text is not their rendering (or is missing)."""
    return [
        path
        for path, text in files.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str] | None = None, root: Path = specs.ROOT) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalogue.render", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on any difference")
    args = parser.parse_args(argv)
    files = render(specs.load(root / "functions"), lambda path: (root / path).read_text(encoding="utf-8"))
    changed, old = differing(root, files), stale(root, files)
    if args.check:
        if not changed and not old:
            return 0
        print("Generated files differ from what `make manifests` renders from the specs:", file=sys.stderr)
        for path in changed:
            print(f"  {path}", file=sys.stderr)
        for path in old:
            print(f"  {path} (stale: no spec renders it)", file=sys.stderr)
        print(
            "Run `make manifests` and commit the result. To change a generated file, edit its "
            "source (functions/<name>/main.py, or catalogue/ for the shape), not the file.",
            file=sys.stderr,
        )
        return 1
    for path in changed:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(files[path], encoding="utf-8")
        print(f"rendered {path}")
    for path in old:
        (root / path).unlink()
        print(f"removed {path} (no spec renders it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
