"""The image's command line serves a function under a read-only root filesystem.

No Docker engine exists here, so the Dockerfile's own CMD and ENV are run from the
project's venv, as root, inside a private mount namespace (`unshare -m`) whose root is
remounted read-only (/dev/shm stays a writable tmpfs, as in a container). WORKDIR /app
maps to the checkout. The function then acts on the seed alert against the local
apiserver as its rendered ServiceAccount, and logs no write error. Without TMPDIR the
same command dies (gunicorn needs a writable temp dir), which shows the set-up bites.

Requires root and util-linux's `unshare`; without them these tests fail, saying so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from devcluster.controlplane import ROOT, ControlPlane
from devcluster.functions import FunctionError, FunctionProcess
from tests.helpers import cloudevent_headers, configmap_alert, encode

DOCKERFILE = ROOT / "Dockerfile"
FUNCTION = "delete_configmap"
TOKEN = "image-test-token-0123456789"
READ_ONLY = 'mount -o remount,bind,ro / && exec "$@"'


@dataclass(frozen=True)
class Recipe:
    """The Dockerfile instructions this test relies on."""

    env: dict[str, str]
    command: list[str]
    instructions: dict[str, str]  # the last value of each other instruction


def dockerfile() -> Recipe:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    instructions: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        keyword, rest = line.split(None, 1)
        if keyword == "ENV":
            for pair in rest.split():
                key, value = pair.split("=", 1)
                env[key] = value
        else:
            instructions[keyword] = rest.strip()
    return Recipe(env, json.loads(instructions.pop("CMD")), instructions)


def image_env(**extra: str) -> dict[str, str]:
    """The image's ENV with FUNCTION built in, /app mapped to the checkout, the venv on PATH."""
    env = {key: value.replace("${FUNCTION}", FUNCTION) for key, value in dockerfile().env.items()}
    env["PYTHONPATH"] = env["PYTHONPATH"].replace("/app", str(ROOT))
    return {**env, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", **extra}


def read_only_root(argv: list[str]) -> list[str]:
    """`argv` in a private mount namespace whose root filesystem is read-only."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("util-linux `unshare` is missing: install util-linux (make deps)", pytrace=False)
    if os.geteuid() != 0:
        pytest.fail("the read-only-root test needs root (unshare -m and remount)", pytrace=False)
    return [unshare, "--mount", "--propagation", "private", "--", "sh", "-c", READ_ONLY, "sh", *argv]


def test_dockerfile_is_the_recipe_the_deploy_relies_on() -> None:
    recipe = dockerfile()
    env, found = recipe.env, recipe.instructions
    assert found["FROM"] == "python:3.11-slim"
    assert found["ARG"] == "FUNCTION"
    assert found["WORKDIR"] == "/app"
    user, _, group = found["USER"].partition(":")
    assert user.isdigit() and int(user) != 0 and group.isdigit() and int(group) != 0
    assert env["TMPDIR"] == "/dev/shm" and env["PYTHONPATH"] == "/app" and env["PORT"] == "8080"
    assert env["THREADS"] == "8" and env["WORKERS"] == "1"
    assert recipe.command[:2] == ["/bin/sh", "-c"]
    assert recipe.command[-1] == (
        "exec functions-framework --target handle --source functions/$FUNCTION/main.py --port $PORT"
    )


def test_the_root_filesystem_really_is_read_only_there() -> None:
    probe = ROOT / f".ro-probe-{os.getpid()}"
    result = subprocess.run(
        read_only_root(["touch", str(probe)]), capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "Read-only file system" in result.stderr, result
    assert not probe.exists()
    shm = subprocess.run(
        read_only_root(["sh", "-c", "f=$(mktemp -p /dev/shm) && rm $f"]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert shm.returncode == 0, shm.stderr


def serve(env: dict[str, str], workdir: Path) -> FunctionProcess:
    """The Dockerfile's CMD under a read-only root, with exactly `env` (PORT is added)."""
    return FunctionProcess(
        "delete-configmap", env, workdir=workdir, command=read_only_root(dockerfile().command)
    )


@pytest.fixture(scope="module")
def served(plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FunctionProcess]:
    workdir = tmp_path_factory.mktemp("image")
    (workdir / "token").write_text(f"{TOKEN}\n")
    env = image_env(
        KUBECONFIG=str(plane.serviceaccount_kubeconfig("riposte", "delete-configmap")),
        RIPOSTE_TOKEN_FILE=str(workdir / "token"),
    )
    server = serve(env, workdir)
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def test_the_image_command_answers_the_health_probes(served: FunctionProcess) -> None:
    for path in ("/_/health", "/_/ready"):
        answer = requests.get(served.url + path, timeout=5)
        assert answer.status_code == 200 and answer.json() == {"status": "ok"}, path


def test_the_image_command_acts_and_writes_nothing_outside_dev_shm(
    served: FunctionProcess, plane: ControlPlane, namespace: str
) -> None:
    from kubernetes import client

    core = client.CoreV1Api(plane.client())
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"aws_access_key_id": "AKES20LNOA"}}
    )
    alert = configmap_alert(namespace, "aws-creds")
    headers = cloudevent_headers(alert, authtoken=TOKEN)
    answer = requests.post(served.url, data=encode(alert), headers=headers, timeout=30)
    assert answer.status_code == 200 and answer.json()["outcome"] == "acted", answer.text
    output = served.output()
    assert not re.search(r"Read-only file system|\[ERROR\]|Traceback", output), output


def test_without_a_writable_tmpdir_the_same_command_dies(tmp_path: Path) -> None:
    env = image_env()
    del env["TMPDIR"]
    server = serve(env, tmp_path)
    try:
        with pytest.raises(FunctionError) as died:
            server.wait_ready(timeout=20)
        assert "temporary directory" in str(died.value).lower(), died.value
    finally:
        server.stop()
