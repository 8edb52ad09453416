"""The demo holds the history a user has, enters it through the real store path, says where it came from,
and builds it once: later starts copy the cached store."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path

import pytest

import demo
from common.bounds import BOUNDS
from common.calendar import trading_days
from common.config import parse_config
from store import Store
from tests.dashboard_fixtures import demo_store

D = dt.date


def test_flow_history_spans_each_family_since_launch_on_trading_days_only():
    for asset, launch, sessions in (("btc", D(2024, 1, 11), 470), ("eth", D(2024, 7, 23), 337)):
        _, rows = demo.load_dataset(asset)
        days = [d for d, _, _ in rows]
        assert days[0] == launch and len(days) == sessions
        complete = [d for d in days if d < demo.DEMO_NOW.date()]  # BTC also has the half-reported "today"
        assert complete == trading_days(launch, D(2025, 11, 21))  # no gap, no holiday row
        bound = BOUNDS["flow_usd_m"]
        assert all(bound.low <= v <= bound.high for _, values, _ in rows for v in values if v is not None)


def test_published_figures_survive_the_fill_in():
    _, btc = demo.load_dataset("btc")
    totals = {d: t for d, _, t in btc}
    assert totals[D(2024, 1, 11)] == 655.3 and totals[D(2025, 2, 25)] == -1113.7 and totals[D(2025, 11, 18)] == -372.7
    assert round(sum(t for d, t in totals.items() if (d.year, d.month) == (2025, 2)), 1) == -3560.4


def test_demo_store_holds_a_year_of_venue_observations_at_the_store_retention(tmp_path):
    store = Store.open(tmp_path / "d.db")
    asyncio.run(demo.replay_history(store, demo.demo_config(parse_config({}, Path("<t>"))), [demo.DEMO_NOW], compact=False))
    try:
        stamps = sorted({r[3] for r in store.observations()})
        oldest, newest = dt.datetime.fromisoformat(stamps[0]), dt.datetime.fromisoformat(stamps[-1])
        assert newest - oldest >= dt.timedelta(days=360)
        month_ago = (demo.DEMO_NOW - dt.timedelta(days=31)).isoformat()
        assert sum(1 for s in stamps if s < month_ago) < 400  # thinned to about one a day, as the store keeps it
        assert len(store.sessions("btc")) == 470 and len(store.sessions("eth")) == 337
    finally:
        store.close()


def test_a_second_start_copies_the_cached_store_and_notes_the_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWTAPE_DEMO_CACHE", str(tmp_path / "cache"))
    calls = []
    real = demo._replay_into

    async def counted(*args, **kwargs):
        calls.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(demo, "poll_times", lambda now=demo.DEMO_NOW, compact=False: [now - dt.timedelta(hours=1)])  # small
    monkeypatch.setattr(demo, "_replay_into", counted)
    config = demo.demo_config(parse_config({}, Path("<t>")))
    stores = []
    for name in ("a.db", "b.db"):
        store = Store.open(tmp_path / name)
        asyncio.run(demo.replay_history(store, config, [demo.DEMO_NOW], compact=False))
        stores.append(store)
    try:
        assert calls == [1]  # built once
        a, b = (s.observations() for s in stores)
        assert a and a == b and len(stores[1].sessions("btc")) == 470
        assert any("illustrative" in n and "published" in n for n in stores[1].notices)
    finally:
        for s in stores:
            s.close()


def test_the_cache_key_follows_the_demo_data_and_code_not_the_config_path(monkeypatch, tmp_path):
    config = demo.demo_config(parse_config({}, Path("<t>")))
    before = demo.cache_key(config)
    assert before == demo.cache_key(demo.demo_config(parse_config({}, Path("<other path>"))))
    root = Path(demo.__file__).resolve().parent.parent
    for package in ("demo", "sources", "store", "common"):  # the same tree elsewhere: the same key
        shutil.copytree(root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(demo, "__file__", str(tmp_path / "demo" / "__init__.py"))
    assert demo.cache_key(config) == before
    csv = tmp_path / "demo" / "data" / "eth.csv"
    csv.write_text(csv.read_text().replace("2025-11-18,", "2025-11-18,1"), encoding="utf-8")
    assert demo.cache_key(config) != before


@pytest.mark.parametrize("asset", ["btc", "eth", "sol"])
def test_demo_pages_parse_back_to_the_dataset(asset):
    from sources.farside import RECENT_PATHS
    from sources.farside_parse import parse_farside

    table = parse_farside(demo.farside_pages()[RECENT_PATHS[asset]], asset)
    _, rows = demo.load_dataset(asset)
    assert [r.date for r in table.rows] == [d for d, _, _ in rows[-demo.RECENT_ROWS :]]


def test_the_test_suites_compact_demo_is_the_seed_sessions(tmp_path):
    store = demo_store(tmp_path / "d.db")  # tests/dashboard_fixtures.py: compact, quick to compute
    try:
        btc = [d for _, d, _, _ in store.sessions("btc")]
        assert len(btc) == 36 and btc[0] == "2024-01-11" and len(store.sessions("eth")) == 15
    finally:
        store.close()


def test_a_first_start_shows_the_compact_demo_at_once_and_builds_the_year_in_the_background(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWTAPE_DEMO_CACHE", str(tmp_path / "cache"))  # nothing cached yet
    monkeypatch.delenv("FLOWTAPE_DEMO_COMPACT", raising=False)  # as a user starts it
    started = []
    monkeypatch.setattr(demo, "_build_in_background", lambda config: started.append(config))

    async def no_year_here(*args, **kwargs):
        raise AssertionError("a first start must not wait for the year-sized build")

    monkeypatch.setattr(demo, "_build_cache", no_year_here)
    store = Store.open(tmp_path / "d.db")
    try:
        asyncio.run(demo.replay_history(store, demo.demo_config(parse_config({}, Path("<t>"))), [demo.DEMO_NOW]))
        assert len(started) == 1  # the builder was started
        assert store.sessions("btc") and len(store.sessions("btc")) < 470  # the compact demo, there at once
        assert any("background" in n for n in store.notices)  # and the screen says so
    finally:
        store.close()


def test_the_background_builder_fills_the_cache_once(tmp_path, monkeypatch):
    from demo import build_cache

    monkeypatch.setenv("FLOWTAPE_DEMO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FLOWTAPE_DEMO_COMPACT", raising=False)  # as a user starts it
    monkeypatch.setattr(demo, "poll_times", lambda now=demo.DEMO_NOW, compact=False: [now - dt.timedelta(hours=1)])  # small
    assert build_cache.main([]) == 0
    cached = list((tmp_path / "cache").glob("demo-*.db"))
    assert len(cached) == 1 and not list((tmp_path / "cache").glob("scratch.db*"))
    store = Store.open(tmp_path / "next.db")  # the next start copies it
    try:
        asyncio.run(demo.replay_history(store, demo.demo_config(parse_config({}, Path("<t>"))), [demo.DEMO_NOW]))
        assert len(store.sessions("btc")) == 470
    finally:
        store.close()
