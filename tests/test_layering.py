"""The layering common/store -> sources -> analytics -> cli/tui holds: checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _loaded(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return {m.split(".")[0] for m in out.stdout.split()}


def _modules(package: str) -> list[str]:
    return sorted(
        ".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for f in (ROOT / package).rglob("*.py")
    )


@pytest.mark.parametrize("module", _modules("common") + _modules("store"))
def test_common_and_store_stand_on_the_stdlib(module):
    """The shared package and the store sit under every layer: no fetch path, no polars, no UI, no upper layer."""
    loaded = _loaded(f"import {module}")
    assert not loaded & {"httpx", "polars", "textual", "sources", "analytics", "demo", "cli", "tui"}, module


@pytest.mark.parametrize("module", _modules("sources") + _modules("demo"))
def test_sources_import_neither_textual_nor_polars(module):
    loaded = _loaded(f"import {module}")
    assert not loaded & {"textual", "polars", "tui", "cli", "analytics"}, module


@pytest.mark.parametrize("module", _modules("analytics"))
def test_analytics_imports_neither_textual_nor_the_fetch_path(module):
    """Analytics read the store and the shared package; of sources only the declarative registry (staleness)."""
    code = (
        f"import {module}\nimport sys\n"
        "print(' '.join(m for m in sys.modules if m.startswith('sources.') and m != 'sources.registry'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "", (module, out.stdout, out.stderr)
    loaded = _loaded(f"import {module}")
    assert not loaded & {"textual", "tui", "cli", "httpx", "demo"}, module


@pytest.mark.parametrize("module", _modules("collector"))
def test_the_collector_imports_neither_textual_nor_the_screen(module):
    """`flowtape collect` runs headless: the store's writer never loads the UI; and importing it loads neither the
    fetch path nor polars (the dashboard builds its Writer before the first frame)."""
    loaded = _loaded(f"import {module}")
    assert not loaded & {"textual", "tui", "cli", "demo", "httpx", "polars"}, module


def test_snapshot_cli_never_imports_textual():
    loaded = _loaded(
        "from cli.main import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['snapshot', '--json', '--demo'])"
    )
    assert "textual" not in loaded
