"""The benchmark keeps working: a tiny run against this server only (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_generator_is_deterministic_and_sized(tmp_path):
    sys.path.insert(0, str(ROOT))
    try:
        from bench.generate import generate, parse_size
    finally:
        sys.path.remove(str(ROOT))
    assert parse_size("10k") == 10_000 and parse_size("1m") == 1_000_000
    first, second = tmp_path / "a.nt", tmp_path / "b.nt"
    assert generate(2_000, first) == 2_000
    generate(2_000, second)
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_text().splitlines()) == 2_000


def test_runner_smoke(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "bench", "--sizes", "600", "--seconds", "1"]
    command += ["--connections", "2", "--systems", "ours-memory", "--tool", "python"]
    command += ["--workers", "1", "--workdir", str(tmp_path / "work"), "--out", str(out)]
    command += ["--repeats", "2"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((out / "report.json").read_text())
    ours = report["sizes"]["600"]["systems"]["ours-memory"]
    assert ours["mismatches"] == []
    assert ours["rows"]["aggregate"] > 0 and ours["rows"]["point"] > 0
    assert {"point@2", "catalog@2", "catalog_repeated@2"} <= set(ours["runs"])
    assert all(run["requests"] > 0 for run in ours["runs"].values())
    # Two starts: each figure is the median of two runs, and the spread is reported.
    assert ours["starts"] == 2
    point = ours["runs"]["point@2"]
    assert len(point["rps_each"]) == 2
    assert min(point["rps_each"]) <= point["rps"] <= max(point["rps_each"])
    table = (out / "report.md").read_text()
    assert "| point@2 |" in table and "(starts: " in table


def test_runner_compares_with_the_bare_floor(tmp_path):
    """The reference floors answer every shape and catalog question with our rows."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "bench", "--sizes", "600", "--seconds", "0.5"]
    command += ["--connections", "2"]
    command += ["--systems", "ours-memory,bare-pyoxigraph,bare-pyoxigraph-workers"]
    command += ["--tool", "python", "--workers", "1", "--workdir", str(tmp_path / "work")]
    command += ["--out", str(out)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    systems = json.loads((out / "report.json").read_text())["sizes"]["600"]["systems"]
    assert list(systems) == ["ours-memory", "bare-pyoxigraph", "bare-pyoxigraph-workers"]
    for name in ("bare-pyoxigraph", "bare-pyoxigraph-workers"):
        bare = systems[name]
        assert bare["mismatches"] == []
        assert bare["rows"] == systems["ours-memory"]["rows"]
        assert all(run["requests"] > 0 and run["errors"] == 0 for run in bare["runs"].values())
