"""SVG snapshots of the expanded flow tape (pytest-textual-snapshot; update with --snapshot-update): the full
history with its pinned rows and the cumulative chart at 120x40, and a fund filter at 80x24."""

from __future__ import annotations

from tests.dashboard_fixtures import make_app


def _expanded(*keys: str):
    async def run(pilot):
        await pilot.pause()
        await pilot.app.settle()
        await pilot.press("1", "enter", *keys)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()  # the chart mounts on the resize that maximizing causes, then plots

    return run


def test_expanded_tape_120x40(snap_compare, store):
    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=_expanded("right"))


def test_expanded_tape_filtered_80x24(snap_compare, store):
    assert snap_compare(make_app(store), terminal_size=(80, 24), run_before=_expanded("slash", "i", "b", "enter"))
