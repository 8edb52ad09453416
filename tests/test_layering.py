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


def _modules(package: str) -> list[str]:
    return sorted(".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for f in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("module", _modules("sources"))
def test_sources_import_neither_textual_nor_polars(module):
    loaded = _loaded(f"import {module}")
    assert not loaded & {"textual", "polars", "tui", "analytics"}, module


@pytest.mark.parametrize("module", _modules("analytics"))
def test_analytics_imports_neither_textual_nor_the_fetch_path(module):
    loaded = _loaded(f"import {module}")
    assert not loaded & {"textual", "tui", "httpx"}, module


def test_snapshot_cli_never_imports_textual():
    loaded = _loaded("from tui.cli import main\nimport contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()): main(['snapshot', '--json', '--demo'])")
    assert "textual" not in loaded
