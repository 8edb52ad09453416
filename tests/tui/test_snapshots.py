"""SVG snapshots of the dashboard (pytest-textual-snapshot). Update with: pytest --snapshot-update.

Fixed store paths (the help screen shows the path) and a frozen clock keep them deterministic.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import shutil
import tempfile
from pathlib import Path

import pytest

from common.records import source_id
from tests.dashboard_fixtures import FROZEN, demo_store, make_app

SNAP_DIR = Path(tempfile.gettempdir()) / "flowtape-snapshot-stores"


@pytest.fixture
def store():
    # The path is fixed (help shows it), so two checkouts testing at once on one machine would share it:
    # a lock beside it makes them take turns.
    with open(Path(tempfile.gettempdir()) / "flowtape-snapshot-stores.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(SNAP_DIR, ignore_errors=True)
        SNAP_DIR.mkdir(parents=True)
        s = demo_store(SNAP_DIR / "flowtape.db")
        yield s
        s.close()
        shutil.rmtree(SNAP_DIR, ignore_errors=True)


async def _settled(pilot):
    await pilot.pause()
    await pilot.app.settle()
    await pilot.pause()


def test_dashboard_120x40(snap_compare, store):
    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=_settled)


def test_dashboard_80x24(snap_compare, store):
    assert snap_compare(make_app(store), terminal_size=(80, 24), run_before=_settled)


def test_help_screen(snap_compare, store):
    async def open_help(pilot):
        await _settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=open_help)


def test_stale_and_blocked(snap_compare, store):
    store.set_status(
        source_id("btc"),
        state="blocked",
        last_error="HTTP 403 bot challenge",
        failures=2,
        next_attempt=(FROZEN + dt.timedelta(minutes=4)).isoformat(),
    )
    store.set_status(
        source_id("eth"), state="rate-limited", last_error="HTTP 429", ban_until=(FROZEN + dt.timedelta(minutes=37)).isoformat()
    )
    assert snap_compare(make_app(store, mode="live"), terminal_size=(120, 40), run_before=_settled)


@pytest.mark.parametrize("theme", ["dark", "light", "colorblind", "monochrome"])
def test_theme_120x40(snap_compare, store, theme):
    """Each theme as the palette picks it: every figure recoloured in place (tui/theme.py)."""

    async def pick(pilot):
        await _settled(pilot)
        pilot.app.theme = theme
        await _settled(pilot)

    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=pick)
