"""shared/log.py: concurrent requests' lines never interleave on a pipe (a container's
stdout), short ones written without a lock, long ones under it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITERS = """
import sys, threading
from shared import log
def write(n):
    for i in range(300):
        size = (n * 977 + i * 131) % 9000  # below and above PIPE_BUF
        log.line({"writer": n, "i": i, "pad": "x" * size})
threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
"""


def test_lines_from_eight_threads_arrive_whole_through_a_pipe() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WRITERS],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        check=True,
    )
    lines = done.stdout.decode().splitlines()
    entries = [json.loads(text) for text in lines]
    assert len(entries) == 8 * 300
    assert sorted((e["writer"], e["i"]) for e in entries) == [(n, i) for n in range(8) for i in range(300)]
    assert max(len(text) for text in lines) > 4096  # the long path was taken too
