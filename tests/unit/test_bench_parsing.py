"""The benchmark's parsing and rendering (bench/), checked on real output, not on timings:
`-X importtime` of a real interpreter run, and the wrk Lua script it writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.cold import parse_importtime
from bench.common import median, percentile
from bench.wrk import lua_string, script


def test_importtime_reads_the_top_level_main_and_sees_nested_imports(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("import email.message\n")
    (tmp_path / "main.py").write_text("import helper\n")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import main"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    found = parse_importtime(result.stderr)
    assert found is not None
    total, kubernetes = found
    assert total > 0
    assert not kubernetes
    fake = result.stderr + "import time:       120 |        340 |     kubernetes\n"
    assert parse_importtime(fake) == (total, True)


def test_importtime_without_main_is_none() -> None:
    assert parse_importtime("import time: self [us] | cumulative | imported package\n") is None


def test_lua_strings_escape_quotes_backslashes_and_newlines() -> None:
    assert lua_string('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


def test_the_wrk_script_sets_every_header_and_reads_the_body_file(tmp_path: Path) -> None:
    lua = script(b'{"rule":"x"}', {"Ce-Rule": 'Say "hi"', "Content-Type": "application/json"}, tmp_path)
    text = lua.read_text()
    assert 'wrk.headers["Ce-Rule"] = "Say \\"hi\\""' in text
    assert 'wrk.headers["Content-Type"] = "application/json"' in text
    assert (tmp_path / "body.json").read_bytes() == b'{"rule":"x"}'
    assert lua_string(str(tmp_path / "body.json")) in text
    assert 'wrk.method = "POST"' in text


def test_median_and_nearest_rank_percentiles() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
