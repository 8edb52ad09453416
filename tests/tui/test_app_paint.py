"""What the app sends and when it computes: repaint only what is drawn differently, coalesced analytics,
no alert before the inputs are known since start, polars/httpx loaded after the first frame."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import httpx
from rich.text import Text
from textual.widgets import Sparkline, Static

from demo import demo_transport
from tests.dashboard_fixtures import FROZEN, demo_store, make_app

ROOT = Path(__file__).resolve().parents[2]


async def started(app, pilot):
    await pilot.pause()
    await app.settle()
    await pilot.pause()


def nudged(value, factor: float = 1 + 1e-12, keep: tuple[str, ...] = ()):
    """A copy with every float moved in digits no pane prints (what a fresh computation over the same rows gives)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):  # unless it would tip a printed rounding (24,592.5 shown as 24,592)
        moved = value * factor
        return moved if all(f"{moved:.{k}f}" == f"{value:.{k}f}" for k in range(7)) else value
    if isinstance(value, tuple):
        return tuple(nudged(v, factor) for v in value)
    if isinstance(value, dict):
        return {k: nudged(v, factor) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value,
            **{
                f.name: nudged(getattr(value, f.name), factor) for f in dataclasses.fields(value) if f.init and f.name not in keep
            },
        )
    return value


def label(widget) -> str:
    """'status', or a widget without an id by its classes under the nearest id: 'tile-basis .tile-age'."""
    if widget.id:
        return widget.id
    node = widget.parent
    while node is not None and not node.id:
        node = node.parent
    return f"{node.id if node is not None else '?'} .{' .'.join(sorted(widget.classes))}"


class Sent:
    """Records every Static update and every sparkline data change on the screen."""

    def __init__(self, monkeypatch) -> None:
        self.updates: list[str] = []
        self.spark_data: list[str] = []
        update, setattr_ = Static.update, Sparkline.__setattr__

        def counted(widget, *a, **k):
            self.updates.append(label(widget))
            return update(widget, *a, **k)

        def spark_set(widget, name, value):
            if name == "data" and widget.is_mounted:
                self.spark_data.append(label(widget))
            setattr_(widget, name, value)

        monkeypatch.setattr(Static, "update", counted)
        monkeypatch.setattr(Sparkline, "__setattr__", spark_set)


async def test_a_poll_that_changes_nothing_visible_repaints_nothing(store, monkeypatch):
    """Fresh figures equal to the shown ones but for invisible float digits: no widget is updated."""
    from analytics.dashboard import DashboardViews
    from common.calendar import AsOf
    from tui.app import ViewsComputed
    from tui.panes import Pane

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        assert app.derivatives is not None and app.scenario_results and app.trend is not None
        sent = Sent(monkeypatch)
        renders = {p.id: p.renders for p in app.query(Pane)}
        titles = {p.id: p.border_title for p in app.query(Pane)}
        computed = DashboardViews(
            AsOf.at(None, app.clock()),
            app.views,  # the flow tape's own change detection is the table's (tui/panes.py FlowTapePane)
            app.dates,
            # The sparkline series keep their values: a nudge can tip a bar at an exact step (a real change
            # of glyph, as test_sparkline_is_left_alone_when_its_bars_would_not_change shows).
            nudged(app.derivatives, keep=("basis_history", "funding_history", "oi_history")),
            complete=True,
            scenario_results=nudged(app.scenario_results),
            transitions=app.transitions,
            ledger=nudged(app.ledger),
            trend=nudged(app.trend),
            fed=nudged(app.fed),
        )
        assert computed.derivatives != app.derivatives and computed.scenario_results != app.scenario_results
        message = ViewsComputed(computed)
        app.post_message(message)
        await pilot.pause()
        assert message.applied.is_set() and app.derivatives is computed.derivatives
        app.refresh_status()  # the age tick in the same second: nothing moved either
        await pilot.pause()
        assert sent.updates == [] and sent.spark_data == []
        assert {p.id: p.renders for p in app.query(Pane)} == renders
        assert {p.id: p.border_title for p in app.query(Pane)} == titles
        # A visible change repaints what shows it, and only that tile.
        d = app.derivatives
        app.derivatives = dataclasses.replace(d, headline_basis_pct=(d.headline_basis_pct or 0) + 1.0)
        app.dashboard.render_views()
        await pilot.pause()
        assert sent.updates == ["tile-basis .tile-text"], sent.updates


async def test_an_age_tick_repaints_the_ages_not_the_tiles(store, monkeypatch):
    now = [FROZEN]
    app = make_app(store, clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        sent = Sent(monkeypatch)
        now[0] = FROZEN + dt.timedelta(seconds=90)  # venue data 5m old: now 6m
        app.refresh_status()  # the age ticker
        await pilot.pause()
        assert "tile-basis .tile-age" in sent.updates and "tile-funding .tile-age" in sent.updates
        # Only the small widgets that carry an age: the tiles' ages, the status bar's parts, the spot's age.
        ages = {"tile-basis .tile-age", "tile-funding .tile-age", "deriv-breakdown", "title-spot"}
        ages |= {f"status-{part}" for part in ("badges", "summary", "detail", "age-btc", "age-eth", "age-sol")}
        assert set(sent.updates) <= ages, sent.updates
        assert sent.spark_data == []


def test_update_if_changed_compares_styles_not_only_characters():
    from tui.paint import drawn

    assert drawn(Text("3.89%", style="bold")) != drawn(Text("3.89%"))
    assert drawn(Text.assemble(("a", "red"), "b")) != drawn(Text.assemble(("a", "green"), "b"))
    assert drawn(Text("x\ny")) == drawn(Text("x\ny"))


async def test_sparkline_is_left_alone_when_its_bars_would_not_change(store):
    from tui.paint import sparkline_if_changed

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        spark = app.query_one("#tile-basis Sparkline", Sparkline)
        series = [float(i % 7) for i in range(48)]
        sparkline_if_changed(spark, series)
        await pilot.pause()
        assert not sparkline_if_changed(spark, [v * (1 + 1e-12) for v in series])
        assert sparkline_if_changed(spark, [*series[:-1], 100.0])  # a new maximum redraws every bar


async def test_recompute_coalesces_at_most_one_running_one_waiting(store, monkeypatch):
    """Many recomputes while one computes: one more computation, of the latest as-of date, never two at once."""
    import analytics.cache as analytics_cache  # the function the app computes through

    real = analytics_cache.market
    gate = threading.Event()
    gate.set()
    lock = threading.Lock()
    calls: list[dt.date] = []
    running, peak = [0], [0]

    def held(store_, as_of, settings, cache, *args):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            calls.append(as_of.date)
        try:
            gate.wait(20)
            return real(store_, as_of, settings, cache, *args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(analytics_cache, "market", held)
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        calls.clear()
        peak[0] = 0
        gate.clear()
        app.recompute()
        for _ in range(200):
            if calls:
                break
            await asyncio.sleep(0.01)
        assert calls, "the first computation started"
        steps = app.dates[-8:-1]
        for day in steps:  # a trader holding [ : one request per press while the first still computes
            app.as_of_pinned = day
            app.recompute()
            await pilot.pause()
        gate.set()
        await app.settle()
        await pilot.pause()
        assert peak[0] == 1, "two computations ran at once"
        assert len(calls) == 2 and calls[-1] == steps[-1], calls
        assert app.views["btc"].tape[-1].date == steps[-1]  # the screen shows the latest request


async def test_a_failed_computation_still_runs_the_one_asked_for_meanwhile(store, monkeypatch):
    import analytics.cache as analytics_cache  # the function the app computes through

    real = analytics_cache.market
    gate = threading.Event()
    seen: list[dt.date] = []

    def first_fails(store_, as_of, settings, cache, *args):
        seen.append(as_of.date)
        if len(seen) == 1:
            gate.wait(20)
            raise ValueError("broken once")
        return real(store_, as_of, settings, cache, *args)

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        monkeypatch.setattr(analytics_cache, "market", first_fails)
        app.recompute()
        await pilot.pause()
        day = app.dates[-3]
        app.as_of_pinned = day
        app.recompute()
        gate.set()
        await app.settle()
        await pilot.pause()
        assert seen == [seen[0], day]
        assert app.analytics_problem is None  # the later one succeeded and cleared it
        assert any("ANALYTICS FAILED" in n.message for n in app._notifications)


async def test_no_alert_until_each_alert_source_has_answered_since_start(store):
    """Back after three days: the stored derivatives are stale only because nothing has polled yet. No alert
    (and no scenario state remembered) until every flows and derivatives source has answered."""
    far = FROZEN + dt.timedelta(days=3)
    store.set_meta("scenario_label:caution", "building (2 of 4)")  # what the last run saw
    release = asyncio.Event()
    upstream = demo_transport(lambda: far)

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return await upstream.handle_async_request(request)

    app = make_app(store, start_sources=True, transport=httpx.MockTransport(held), clock=lambda: far)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        caution = next(r for r in app.scenario_results if r.scenario.id == "caution")
        assert caution.label != "building (2 of 4)"  # what fired an alert before: unknown, not changed
        assert not app.alert_inputs_known()
        assert app.alerts_fired == [] and store.meta("scenario_label:caution") == "building (2 of 4)"
        release.set()
        for _ in range(200):
            await pilot.pause(0.05)
            if app.alert_inputs_known() and app.computations >= 2:
                break
        await app.settle()
        await pilot.pause()
        assert app.alert_inputs_known()
        caution = next(r for r in app.scenario_results if r.scenario.id == "caution")
        assert store.meta("scenario_label:caution") == caution.label  # decided now, on answered inputs


async def test_a_source_known_to_be_failing_is_not_waited_for(store):
    far = FROZEN + dt.timedelta(days=3)

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(60)
        return httpx.Response(200)

    app = make_app(store, start_sources=True, transport=httpx.MockTransport(hang), clock=lambda: far)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        assert not app.alert_inputs_known()
        for sid in app.writer.alert_sources:  # as a previous run left them: every one blocked
            store.set_status(sid, state="blocked", last_error="HTTP 403 bot challenge")
        app.refresh_status()
        assert app.alert_inputs_known()


def test_polars_and_httpx_load_after_the_first_frame(tmp_path):
    """The first frame is painted before polars (analytics) or httpx (the fetch path) is imported."""
    db = tmp_path / "demo.db"
    demo_store(db).close()
    script = textwrap.dedent(
        f"""
        import sys, asyncio
        sys.path.insert(0, {str(ROOT)!r})
        import datetime as dt
        from common.config import SECTIONS, parse_config
        from pathlib import Path
        from store import Store
        from tui.app import FlowtapeApp
        config = parse_config({{}}, Path("<test>"))
        for section in SECTIONS:  # nothing answers there: the polls fail at once, no network
            config = config.with_source(section, base_url="http://127.0.0.1:9", enabled=True)
        loaded = {{}}
        store = Store.open({str(db)!r})
        now = dt.datetime(2025, 11, 24, 22, 5, tzinfo=dt.UTC)
        app = FlowtapeApp(store=store, config=config, mode="live", clock=lambda: now)
        real = app._display
        def first_display(screen, update):
            if not loaded and update is not None:
                loaded.update(polars="polars" in sys.modules, httpx="httpx" in sys.modules)
            return real(screen, update)
        app._display = first_display
        async def main():
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                await app.settle()
        asyncio.run(main())
        print(loaded, "polars" in sys.modules, "httpx" in sys.modules)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "{'polars': False, 'httpx': False} True True", out.stdout


async def test_a_border_title_is_reassigned_only_when_its_text_changes(store):
    from tui.scenarios_pane import ScenariosPane

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        pane = app.query_one(ScenariosPane)
        refreshes: list[int] = []
        refresh = pane.refresh
        pane.refresh = lambda *a, **k: (refreshes.append(1), refresh(*a, **k))[1]  # type: ignore[method-assign]
        pane.set_title(pane.border_title or "")
        assert refreshes == []
        pane.set_title("5 Scenarios · as of 21 Nov")
        assert refreshes == [1] and pane.border_title == "5 Scenarios · as of 21 Nov"
        pane.set_title("5 Scenarios · as of 21 Nov")
        assert refreshes == [1]
