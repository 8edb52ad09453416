"""The app's own compute path, run headless in its own process (so its RSS is the app's, not the bench's).

`python -m bench.app_path recompute DB N`: the time from `FlowtapeApp.recompute()` (what the app runs after a
poll writes) to the views applied on screen, after each of N real venue polls; median and max in ms, after a first
poll reported apart (`first_ms`: a process's first write also thins the store, as it does once an hour/day live).
`python -m bench.app_path travel DB N`: `[` pressed N times, each timed to the views of that day on screen.
`python -m bench.app_path day DB MINUTES`: a simulated day on DB: venues polled every simulated minute, the
flows, odds and candles every 15, the app recomputing after each poll batch as it does live; RSS samples.
`python -m bench.app_path persist DB CONFIG`: the app run once on DB under the live run's config file, headless at
the bench's clock, so that DB holds its persisted views (analytics/persisted.py) for a warm first paint.
`python -m bench.app_path densify DB FACTOR`: the newest 48 h of venue observations (the store's
full-resolution window) made FACTOR times as dense, as if polled FACTOR times as often (10x/100x history).

Whatever tui/app.py and analytics do on the branch is what is timed: only `FlowtapeApp(...)`, `recompute()`
and Textual's worker API are assumed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

from common.config import parse_config
from demo import DEMO_NOW, RECENT_STEP, demo_config, demo_transport
from sources import registry
from sources.refresh import refresh_once, refresh_venues
from store import Store

FROZEN = DEMO_NOW + dt.timedelta(minutes=5)
WARM_NOW = DEMO_NOW  # the store's newest quotes are 10 min old: fresh for 5 more (first paint, persisted views)
DENSE_WINDOW = dt.timedelta(hours=48)  # store.sqlite RETENTION's full-resolution window


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _config():
    return demo_config(parse_config({}, Path("<bench>")))


def _app(store: Store, config, clock):
    from analytics.scenarios import load_rules
    from tui.app import FlowtapeApp

    return FlowtapeApp(
        scenarios=load_rules((), None),
        store=store,
        config=config,
        mode="live",
        transport=None,
        clock=clock,
        notice=None,
        start_sources=False,  # the bench polls; the app computes and paints
    )


async def _settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def recompute(db: Path, polls: int) -> dict:
    store, config, clock = Store.open(db), _config(), [FROZEN]
    transport = demo_transport(lambda: clock[0])
    app = _app(store, config, lambda: clock[0])
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        for n in range(polls + 1):
            clock[0] = FROZEN + dt.timedelta(seconds=12 * (n + 1))  # venues answer anew: the inputs changed
            await refresh_venues(store, config, transport=transport, now=clock[0])
            t0 = time.perf_counter()
            app.recompute()
            await _settle(app, pilot)
            times.append((time.perf_counter() - t0) * 1000)
    store.close()
    # The first poll of a process also thins the store (both tiers: the daily one drops the labels of the ~16
    # sessions whose window held the day thinned, once a day live): reported apart, not in the median.
    steady = times[1:]
    return {"median_ms": statistics.median(steady), "max_ms": max(steady), "first_ms": times[0], "rows": _count(db)}


async def travel(db: Path, presses: int) -> dict:
    """`[` (a day back) to the views of that day applied, as the app handles the key."""
    store, config = Store.open(db), _config()
    app = _app(store, config, lambda: FROZEN)
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        for _ in range(presses):
            t0 = time.perf_counter()
            await pilot.press("left_square_bracket")
            await _settle(app, pilot)
            times.append((time.perf_counter() - t0) * 1000)
    store.close()
    return {"median_ms": statistics.median(times), "max_ms": max(times)}


def _count(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]


async def day(db: Path, minutes: int) -> dict:
    store, config, clock = Store.open(db), _config(), [FROZEN]
    transport = demo_transport(lambda: clock[0])
    app = _app(store, config, lambda: clock[0])
    samples: list[tuple[int, float]] = []
    marks = {minutes * k // 4 for k in (1, 2, 3, 4)} | ({60} if minutes >= 240 else set())
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        samples.append((0, rss_mb()))
        for minute in range(1, minutes + 1):
            clock[0] = FROZEN + dt.timedelta(minutes=minute)
            quarter = minute % 15 == 0
            kinds = None if quarter else (registry.DERIVATIVES,)  # every source each quarter hour
            await refresh_once(store, config, transport=transport, now=clock[0], kinds=kinds)
            if quarter:  # live, it recomputes after every poll; a quarter hour keeps the day within minutes
                app.recompute()
                await _settle(app, pilot)
            if minute in marks:
                samples.append((minute, rss_mb()))
    store.close()
    return {"samples": samples, "store_mb": db.stat().st_size / 1e6}


def densify(db: Path, factor: int) -> dict:
    """Copies of the full-resolution window's rows at evenly spaced offsets inside each original poll
    interval, written through the store's own write path."""
    store = Store.open(db)
    since = (DEMO_NOW - DENSE_WINDOW).isoformat(timespec="seconds")
    rows = store.observations(since=since)
    step = RECENT_STEP  # the demo's replayed poll interval in that window
    for k in range(1, factor):
        shift = step * k / factor
        batch = [
            (v, i, m, (dt.datetime.fromisoformat(ts) + shift).isoformat(timespec="seconds"), value) for v, i, m, ts, value in rows
        ]
        store.write_observation_rows(batch, fetched_at=DEMO_NOW)
    store.close()
    return {"rows": _count(db)}


async def persist(db: Path, config_path: Path) -> dict:
    """One complete computation by the app under the live run's configuration and rules (as cli.main loads
    them), which persists its views in DB: what a start finds after the app last ran with nothing written since."""
    from analytics.persisted import slot
    from analytics.scenarios import load_rules
    from analytics.settings import AnalyticsSettings
    from common.config import load_config
    from tui.app import FlowtapeApp

    config = load_config(config_path)
    rules = load_rules(config.scenarios, config.path, streak_size_usd_m=config.streak_size_usd_m)
    store = Store.open(db)
    now = dt.datetime.fromisoformat(os.environ.get("FLOWTAPE_BENCH_NOW", FROZEN.isoformat()))
    app = FlowtapeApp(store=store, config=config, mode="live", clock=lambda: now, scenarios=rules, start_sources=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
    row = store.views(slot(AnalyticsSettings.of(config), rules))
    store.close()
    return {"payload_chars": len(row.payload) if row else None}


def main(argv: list[str]) -> int:
    logging.getLogger("sources.polling").setLevel(logging.ERROR)  # the bench's own polls are not news
    if argv[0] == "persist":
        print("BENCH_JSON " + json.dumps(asyncio.run(persist(Path(argv[1]), Path(argv[2])))), flush=True)
        return 0
    what, db, n = argv[0], Path(argv[1]), int(argv[2])
    if what == "recompute":
        out = asyncio.run(recompute(db, n))
    elif what == "day":
        out = asyncio.run(day(db, n))
    elif what == "travel":
        out = asyncio.run(travel(db, n))
    else:
        out = densify(db, n)
    print("BENCH_JSON " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
