"""What a function imports is what its cold start pays for (DESIGN §10): notify, which
never talks to the Kubernetes API, must not load the kubernetes client (a quarter of a
second and tens of megabytes). Checked in a fresh interpreter, as functions-framework
loads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("main", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(",".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def top_level_modules(function: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RIPOSTE_TOKEN": "t" * 32}
    source = ROOT / "functions" / function / "main.py"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(source)], env=env, capture_output=True, text=True, check=True
    )
    return set(done.stdout.strip().split(","))


def test_notify_does_not_import_the_kubernetes_client() -> None:
    loaded = top_level_modules("notify")
    assert "flask" in loaded  # the probe did load it
    assert "kubernetes" not in loaded


def test_an_acting_function_does() -> None:
    assert "kubernetes" in top_level_modules("delete_configmap")
