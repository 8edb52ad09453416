"""The benchmark's short run must complete and print every figure (timings are reported, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_short_benchmark_completes_and_prints_every_figure():
    out = subprocess.run([sys.executable, "-m", "bench", "--short"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-2000:]
    for row in (
        "first paint, bare Textual app",
        "first paint, flowtape --demo",
        "first paint, year-sized store (live, no persisted views)",
        "first paint, year-sized store, persisted views",
        "first paint, year-sized store, persisted views, read-only viewer",
        "idle CPU",
        "idle bytes/min while polling",
        "bytes for one changed Farside cell",
        "time travel `[` to the day's views on screen",
        "bytes one time-travel step writes",
        "recompute after a venue poll, 1x",
        "recompute after a venue poll, 10x",
        "recompute after a venue poll, 100x",
        "RSS over a simulated day",
    ):
        assert row in out.stdout, out.stdout
    assert "not seen" not in out.stdout and "not served" not in out.stdout, out.stdout  # every figure was measured
    assert "cores" in out.stdout  # the machine is named beside the figures
