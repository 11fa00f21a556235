"""Every acting function's spec, read from functions/<folder>/main.py by path.

A main.py is an acting function when it assigns `SPEC` at top level; the others (notify)
are not imported at all, because importing them reads the environment. Each is loaded
under a module name of its own (they are all `main`), and its folder must be its
deployed name with underscores: the Service, the ServiceAccount and the image's
`FUNCTION` build argument are derived from one name.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from typing import Any

from shared.acting.spec import Spec

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"


class SpecError(Exception):
    """A functions/*/main.py is not a spec the renderer can use; the message says why."""


def defines_spec(source: Path) -> bool:
    """Whether `source` assigns SPEC at top level (read, not imported)."""
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == "SPEC" for target in targets):
            return True
    return False


def folder(name: str) -> str:
    """The folder under functions/ of a deployed name (`isolate-pod` -> `isolate_pod`)."""
    return name.replace("-", "_")


def source(name: str) -> str:
    """The main.py of a deployed name, relative to the repository root."""
    return f"functions/{folder(name)}/main.py"


def load_one(path: Path) -> Spec[Any]:
    """Import one main.py under a unique module name and return its SPEC."""
    module_name = f"riposte_catalogue_{path.parent.name}"
    loader = importlib.util.spec_from_file_location(module_name, path)
    if loader is None or loader.loader is None:
        raise SpecError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(loader)
    sys.modules[module_name] = module  # dataclasses look their module up while it executes
    loader.loader.exec_module(module)
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, Spec):
        raise SpecError(f"{path}: SPEC is a {type(spec).__name__}, not a shared.acting.spec.Spec")
    if folder(spec.name) != path.parent.name:
        raise SpecError(
            f"{path}: SPEC.name {spec.name!r} must be the folder's name with hyphens "
            f"({path.parent.name.replace('_', '-')!r}): Service, ServiceAccount and image share it"
        )
    return spec


def load(functions: Path = FUNCTIONS) -> tuple[Spec[Any], ...]:
    """The specs of every acting function under `functions`, sorted by name."""
    paths = sorted(p for p in functions.glob("*/main.py") if defines_spec(p))
    return tuple(sorted((load_one(p) for p in paths), key=lambda spec: spec.name))
