"""The layering sources -> analytics -> tui holds: checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _loaded(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return {m.split(".")[0] for m in out.stdout.split()}


@pytest.mark.parametrize("module", ["sources.farside", "sources.refresh", "sources.demo", "sources.store", "sources.config"])
def test_sources_import_neither_textual_nor_polars(module):
    loaded = _loaded(f"import {module}")
    assert "textual" not in loaded and "polars" not in loaded and "tui" not in loaded and "analytics" not in loaded


def test_analytics_imports_no_textual_nor_httpx_of_its_own():
    loaded = _loaded("import analytics.flows, analytics.frames")
    assert "textual" not in loaded and "tui" not in loaded and "httpx" not in loaded


def test_snapshot_cli_never_imports_textual():
    loaded = _loaded("from tui.cli import main\nimport contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()): main(['snapshot', '--json', '--demo'])")
    assert "textual" not in loaded
