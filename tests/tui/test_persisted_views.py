"""The app and persisted views (issues 14 and 15): a writer persists every complete computation; a start on a store
holding current views draws them in its first frame, before polars loads; a read-only viewer draws them and never
loads polars; views that are not current are never drawn."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from analytics import persisted
from analytics.scenarios import load_rules
from analytics.settings import AnalyticsSettings
from common.calendar import AsOf
from store import Store
from tests.dashboard_fixtures import FROZEN, _defaults, demo_store, make_app

ROOT = Path(__file__).resolve().parents[2]
SETTINGS, RULES = AnalyticsSettings.of(_defaults()), load_rules((), None)


async def started(app, pilot):
    await pilot.pause()
    await app.settle()
    await pilot.pause()


async def test_a_writer_persists_each_complete_computation(store):
    assert store.views(persisted.slot(SETTINGS, RULES)) is None
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        assert app.computations == 1 and not app.persisted_shown
        stored = persisted.load(store, AsOf.at(None, FROZEN), SETTINGS, RULES, now=FROZEN)
        assert stored is not None
        assert (stored.views, stored.derivatives, stored.scenario_results, stored.transitions) == (
            app.views,
            app.derivatives,
            app.scenario_results,
            app.transitions,
        )
        assert (stored.ledger, stored.trend, stored.fed) == (app.ledger, app.trend, app.fed)


async def test_a_pinned_day_is_not_persisted(store):
    app = make_app(store)
    app.as_of_pinned = FROZEN.date() - dt.timedelta(days=7)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        assert app.computations == 1
    assert store.views(persisted.slot(SETTINGS, RULES)) is None


async def test_views_gone_stale_are_not_drawn_at_start(store):
    """Persisted at FROZEN, started a day of venue limits later: the start computes instead."""
    first = make_app(store)
    async with first.run_test(size=(120, 40)) as pilot:
        await started(first, pilot)
    assert store.views(persisted.slot(SETTINGS, RULES)) is not None
    later = FROZEN + dt.timedelta(hours=2)  # same New York day; every venue's quotes older than its limit
    assert persisted.stale_parts(first_views(store), later)
    app = make_app(store, clock=lambda: later)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        assert not app.persisted_shown and app.computations == 1


def first_views(store: Store):
    views = persisted.load(store, AsOf.at(None, FROZEN), SETTINGS, RULES, now=FROZEN)
    assert views is not None
    return views


def first_frame(db: Path, *, readonly: bool) -> str:
    """Start the app on `db` in a fresh process; print what the first painted frame had and what loaded."""
    script = textwrap.dedent(
        f"""
        import sys, asyncio
        sys.path.insert(0, {str(ROOT)!r})
        from store import Store
        from tests.dashboard_fixtures import make_app
        store = Store.open({str(db)!r}, readonly={readonly!r})
        app = make_app(store, mode={"offline" if readonly else "demo"!r})
        seen = {{}}
        real = app._display
        def first_display(screen, update):
            if not seen and update is not None:
                seen.update(data=bool(app.views), polars="polars" in sys.modules)
            return real(screen, update)
        app._display = first_display
        async def main():
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                await app.settle()
                await pilot.pause()
                print(seen, app.persisted_shown, "polars" in sys.modules, "IBIT" in str(app.views["btc"].funds))
        asyncio.run(main())
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def persisted_store(path: Path) -> None:
    """A demo store whose app has run once (its views persisted), closed."""
    import asyncio

    store = demo_store(path)

    async def run() -> None:
        app = make_app(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)

    asyncio.run(run())
    store.close()


def test_a_start_draws_persisted_views_in_its_first_frame_before_polars_loads(tmp_path):
    persisted_store(tmp_path / "demo.db")
    # the first frame has figures, polars not yet loaded; then the writer computes as before (polars loaded)
    assert first_frame(tmp_path / "demo.db", readonly=False) == "{'data': True, 'polars': False} True True True"


def test_a_viewer_with_current_views_never_loads_polars(tmp_path):
    persisted_store(tmp_path / "demo.db")
    assert first_frame(tmp_path / "demo.db", readonly=True) == "{'data': True, 'polars': False} True False True"


def test_a_viewer_without_persisted_views_computes_them(tmp_path):
    demo_store(tmp_path / "demo.db").close()
    assert first_frame(tmp_path / "demo.db", readonly=True) == "{'data': False, 'polars': False} False True True"
