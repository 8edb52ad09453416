"""Viewers that follow the store (issue 15): a read-only flowtape beside a writer sees its commits after its next
check, shows the collector's health from the heartbeat, marks every figure stale while it is silent, and
recovers when it beats again. `r` re-reads at once; `p` stops following (the writer carries on)."""

from __future__ import annotations

import datetime as dt

from common.desk import SILENT_AFTER_S
from common.records import FlowRow, FlowTable
from store import Store
from tests.dashboard_fixtures import FROZEN, make_app
from tui.app import FOLLOW_S
from tui.bars import StatusBar
from tui.panes import Pane, TapeTable

DAY = dt.date(2025, 11, 12)  # the demo store's IBIT that day: -210.4


def ibit(value: float) -> FlowTable:
    return FlowTable("btc", ("IBIT",), (FlowRow(DAY, {"IBIT": value}, None),))


class Clock:
    def __init__(self) -> None:
        self.now = FROZEN

    def __call__(self) -> dt.datetime:
        return self.now


def status(app) -> str:
    return app.query_one(StatusBar).text


def ibit_cell(app) -> str:
    return app.query_one(TapeTable).get_cell(DAY.isoformat(), "f:IBIT").plain


def stale_notes(app) -> set[str]:
    return {str(p.border_subtitle) for p in app.query(Pane)}


async def started(app, pilot):
    await pilot.pause()
    await app.settle()
    await pilot.pause()


async def next_check(app, pilot) -> None:
    """Until the follow loop has checked the store once more (about FOLLOW_S), and what it asked for is on screen."""
    checks = app.follow_checks
    for _ in range(int(FOLLOW_S * 3 / 0.05)):
        await pilot.pause(0.05)
        if app.follow_checks > checks:
            break
    assert app.follow_checks > checks, "the viewer did not check the store within 3 follow intervals"
    await app.settle()
    await pilot.pause()


def viewer_app(store: Store, clock: Clock):
    viewer = Store.open(store.path, readonly=True)
    assert viewer.readonly
    app = make_app(viewer, mode="live", clock=clock)
    app.beat_clock = clock  # beats are judged in wall time: here the test's clock is the wall
    return app, viewer


async def test_a_viewer_shows_a_new_value_after_its_next_check_and_recomputes_only_for_data(store):
    clock = Clock()
    store.beat("collector", now=FROZEN, started_at=FROZEN)
    app, viewer = viewer_app(store, clock)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            assert ibit_cell(app) == "▼-210.4"
            assert "collector ok" in status(app)
            assert app.check_action("refresh_now", ()) and app.check_action("toggle_pause", ())  # enabled in a viewer

            store.write_table(ibit(-199.9), source="test", fetched_at=FROZEN)
            await next_check(app, pilot)
            assert ibit_cell(app) == "▼-199.9"

            computed = app.computations
            probe = Store.open(store.path, readonly=True)
            probe.changed()
            store.beat("collector", now=FROZEN + dt.timedelta(seconds=1), started_at=FROZEN)  # moves no data version
            assert probe.changed()  # but it is a commit, which the viewer's next check sees
            probe.close()
            await next_check(app, pilot)
            assert app.computations == computed
    finally:
        viewer.close()


async def test_a_silent_collector_marks_every_figure_stale_and_a_beat_recovers(store):
    clock = Clock()
    store.beat("collector", now=FROZEN, started_at=FROZEN)
    app, viewer = viewer_app(store, clock)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            assert not any("collector" in note for note in stale_notes(app))

            clock.now = FROZEN + dt.timedelta(seconds=SILENT_AFTER_S + 1)  # three beats missed
            await next_check(app, pilot)
            silent = f"collector silent since {FROZEN:%H:%M} UTC"
            assert silent in status(app)
            assert stale_notes(app) == {f"STALE: {silent}"}  # every pane, saying why

            store.beat("collector", now=clock.now, started_at=FROZEN)
            await next_check(app, pilot)
            assert "collector ok" in status(app) and "silent" not in status(app)
            assert not any("collector" in note for note in stale_notes(app))
    finally:
        viewer.close()


async def test_with_no_collector_the_viewer_says_so_and_marks_the_figures_stale(store):
    app, viewer = viewer_app(store, Clock())
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            assert "no collector: figures as stored" in status(app)
            assert all(note.startswith("STALE: no collector") for note in stale_notes(app))
            assert ibit_cell(app) == "▼-210.4"  # what is stored, shown
    finally:
        viewer.close()


async def test_pause_stops_following_and_r_reads_at_once(store):
    clock = Clock()
    store.beat("collector", now=FROZEN, started_at=FROZEN)
    app, viewer = viewer_app(store, clock)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            await pilot.press("p")
            assert app.paused and "PAUSED" in status(app)
            store.write_table(ibit(-150.0), source="test", fetched_at=FROZEN)
            checks = app.follow_checks
            await pilot.pause(FOLLOW_S * 1.5)  # the viewer would have checked by now: it is paused
            await app.settle()
            assert app.follow_checks == checks and ibit_cell(app) == "▼-210.4"
            await pilot.press("p")  # resumed: it catches up at once
            await app.settle()
            await pilot.pause()
            assert ibit_cell(app) == "▼-150.0" and "PAUSED" not in status(app)

            store.write_table(ibit(-140.0), source="test", fetched_at=FROZEN)
            await pilot.press("r")  # no waiting for the next check
            await app.settle()
            await pilot.pause()
            assert ibit_cell(app) == "▼-140.0"
    finally:
        viewer.close()


async def test_the_collecting_screen_beats(tmp_path):
    from demo import demo_transport

    store = Store.open(tmp_path / "live.db")
    app = make_app(store, mode="live", start_sources=True, transport=demo_transport(compact=True))
    app.beat_clock = app.clock
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                if store.heartbeat() is not None:
                    break
            await app.settle()
            beat = store.heartbeat()
            assert beat is not None and beat.role == "collector" and beat.beat_at == FROZEN.isoformat(timespec="seconds")
            assert not app.following and app.collector_words() is None
    finally:
        store.close()


async def test_a_viewer_of_a_store_the_demo_wrote_says_demo(store):
    """`flowtape collect --demo` marks its store: a viewer of it shows demo figures, and says so."""
    from common.records import DEMO_STORE_MARK

    clock = Clock()
    store.beat("collector", now=FROZEN, started_at=FROZEN)
    app, viewer = viewer_app(store, clock)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            assert "DEMO" not in status(app)
    finally:
        viewer.close()
    store.set_meta(DEMO_STORE_MARK, "1")
    app, viewer = viewer_app(store, clock)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            assert status(app).lstrip().startswith("DEMO") and app.following  # still a viewer, following
    finally:
        viewer.close()
