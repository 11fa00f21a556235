"""HTTP load with wrk (Debian package `wrk`, a C load generator): never a Python client
for throughput, which saturates these two cores before the server does.

One request, repeated: method, headers and body set in wrk's Lua (`wrk.method`,
`wrk.headers`, `wrk.body`; the body read from a file), and wrk's own summary and latency
histogram printed as one JSON line by the script's `done`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MARK = "BENCH-JSON "
SCRIPT = """\
local file = assert(io.open({body}, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{mark}{{"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Load:
    """What wrk measured over one run."""

    connections: int
    requests: int
    seconds: float
    errors: int  # socket errors and timeouts
    status_errors: int  # answers >= 400
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: run `make bench` (it installs Debian's wrk)")
    return found


def lua_string(text: str) -> str:
    """A Lua string literal for `text` (ASCII header values, a file path)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def script(body: bytes, headers: dict[str, str], workdir: Path) -> Path:
    """A wrk Lua script sending `body` with `headers`, in `workdir`."""
    body_file = workdir / "body.json"
    body_file.write_bytes(body)
    lines = [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()]
    path = workdir / "request.lua"
    path.write_text(SCRIPT.format(body=lua_string(str(body_file)), headers="\n".join(lines), mark=MARK))
    return path


def run(url: str, body: bytes, headers: dict[str, str], *, connections: int, seconds: float) -> Load:
    """`connections` keep-alive connections from one wrk thread (the second core is the
    server's) for `seconds`."""
    with tempfile.TemporaryDirectory(prefix="riposte-wrk-") as tmp:
        lua = script(body, headers, Path(tmp))
        result = subprocess.run(
            [
                binary(),
                "--threads=1",
                f"--connections={connections}",
                f"--duration={max(1, round(seconds))}s",
                "--timeout=10s",
                f"--script={lua}",
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith(MARK)]
    if result.returncode != 0 or not lines:
        raise RuntimeError(
            f"wrk failed ({result.returncode}): {result.stderr.strip()} {result.stdout[-500:]}"
        )
    data = json.loads(lines[-1][len(MARK) :])
    return Load(
        connections=connections,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["errors"],
        status_errors=data["status_errors"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )
