"""Time travel and the recompute after a venue poll on a year-sized store, the app's own analytics path.

Run: `python -m bench.compute_once [--sessions 470]`. It builds a randomized store (tests/compute_once_fixtures.py:
BTC sessions with ETH for the last ~70 % of them, three venues polled five times a session and every minute
for the last 48 h, thinned as they go), then times, with the code on the path:
- a time-travel step: the as-of date pinned one session earlier, from the store to complete DashboardViews;
- a recompute after a venue poll: one poll written, then the same.
With analytics/cache.py present it runs the app's path (`market` + `complete` through one AnalyticsCache); without
it (an older checkout on PYTHONPATH) the old path (`compute_market` + `complete_views` with the full replay the
app ran when the as-of date moved, and its hour-keyed copy after a poll). Figures: median of the steps, ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import random
import statistics
import tempfile
import time
from pathlib import Path

from analytics.dashboard import AnalyticsSettings
from analytics.scenarios import load_rules
from common.calendar import AsOf, end_of_day
from tests.compute_once_fixtures import build, quotes

RULES = load_rules((), None)
SETTINGS = AnalyticsSettings()


def old_path(store, as_of, now, history_cache: dict):
    from analytics.dashboard import complete_views, compute_market
    from analytics.derivatives import load_derivatives
    from analytics.scenario_inputs import coinshares_prints, history

    frames, market = compute_market(store, as_of, SETTINGS)

    def replay(frames):
        key = (as_of.date, tuple(len(store.sessions(a)) for a in ("btc", "eth", "sol")), len(store.coinshares()))
        if history_cache.get("key") != key:

            def derivatives_at(day):
                d = load_derivatives(store, end_of_day(day, now), band_edges=SETTINGS.band_edges, trend_pct=SETTINGS.oi_trend_pct)
                return None if d.empty else d

            history_cache["value"] = history(RULES, frames, derivatives_at, coinshares_prints(store), until=as_of.date, now=now)
            history_cache["key"] = key
        return history_cache["value"]

    return complete_views(store, frames, market, SETTINGS, RULES, now, replay)


def new_path(store, as_of, now, cache):
    from analytics.cache import complete, market

    frames, computed = market(store, as_of, SETTINGS, cache)
    return complete(store, frames, computed, SETTINGS, RULES, now, cache)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=470)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    new = importlib.util.find_spec("analytics.cache") is not None
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        store, now, days = build(Path(folder) / "year.db", n_sessions=args.sessions, seed=1)
        rng = random.Random(2)
        for n in range(48 * 60):  # the last 48 h at full resolution, a poll a minute
            when = now - dt.timedelta(minutes=48 * 60 - n)
            store.write_observation_rows(quotes(when, rng, 5.0), fetched_at=when)
        built = time.perf_counter() - t0
        size_mb = Path(store.path).stat().st_size / 1e6
        if new:
            from analytics.cache import AnalyticsCache

            state = AnalyticsCache()

            def run(as_of):
                return new_path(store, as_of, now, state)
        else:
            history_cache: dict = {}

            def run(as_of):
                return old_path(store, as_of, now, history_cache)

        t = time.perf_counter()
        run(AsOf.at(None, now))
        first = time.perf_counter() - t
        travel = []
        for k in range(1, args.steps + 1):
            t = time.perf_counter()
            run(AsOf.at(days[-1 - k], now))
            travel.append(time.perf_counter() - t)
        run(AsOf.at(None, now))
        poll = []
        for k in range(args.steps):
            store.write_observation_rows(quotes(now - dt.timedelta(seconds=30 - k), rng, 5.0), fetched_at=now)
            t = time.perf_counter()
            run(AsOf.at(None, now))
            poll.append(time.perf_counter() - t)
        print(
            f"{'new' if new else 'old'} path: {len(days)} BTC sessions, store {size_mb:.0f} MB built in {built:.0f} s; "
            f"first compute {first * 1000:.0f} ms; time-travel step median {statistics.median(travel) * 1000:.0f} ms "
            f"(max {max(travel) * 1000:.0f}); recompute after a venue poll median {statistics.median(poll) * 1000:.0f} ms "
            f"(max {max(poll) * 1000:.0f})"
        )


if __name__ == "__main__":
    main()
