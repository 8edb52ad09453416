"""The benchmark's short run must complete and print every row (timings are reported, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_short_benchmark_completes_and_prints_its_table():
    out = subprocess.run([sys.executable, "-m", "bench", "--short"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    for row in (
        "time to first paint",
        "idle CPU",
        "idle bytes",
        "bytes for one update",
        "analytics recompute, 100x",
        "Farside full-history parse",
        "RSS at simulated minute",
    ):
        assert row in out.stdout, out.stdout
    assert "not seen" not in out.stdout  # flowtape painted its screen in the pty
