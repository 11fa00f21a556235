"""Run a riposte function as a real HTTP server (functions-framework + gunicorn).

The command line is the one the README documents and the image runs:
`functions-framework --target handle --source functions/<name>/main.py`, with the
repository root on PYTHONPATH so `import shared` works.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from devcluster.controlplane import ROOT, free_port, spawn, terminate


class FunctionError(RuntimeError):
    """The function process did not start; the message holds its output."""


class FunctionProcess:
    """One function served on a free loopback port; its stdout (JSON log) is kept."""

    def __init__(
        self, name: str, env: Mapping[str, str], *, workdir: Path, command: Sequence[str] | None = None
    ) -> None:
        """Serve `name`; `command`, if given, replaces the command line and serves on $PORT."""
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}-{self.port}.log"
        source = ROOT / "functions" / name.replace("-", "_") / "main.py"
        default = [
            str(Path(sys.executable).with_name("functions-framework")),
            "--target=handle",
            f"--source={source}",
            "--host=127.0.0.1",
            f"--port={self.port}",
        ]
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            **env,
            "PORT": str(self.port),
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the process
        self.process = spawn(
            list(command) if command is not None else default, self._log, env=full_env, cwd=ROOT
        )

    def wait_ready(self, timeout: float = 30.0) -> FunctionProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise FunctionError(f"{self.name} exited ({self.process.returncode}):\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise FunctionError(f"{self.name} not ready in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        terminate(self.process)
        self._log.close()

    def __enter__(self) -> FunctionProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
