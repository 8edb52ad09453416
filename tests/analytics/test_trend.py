"""Coinbase candles -> 50/200-day averages and crosses."""

from __future__ import annotations

import datetime as dt
import json
import random
from itertools import pairwise

import httpx
import pytest

from analytics.trend import compute_trend
from common.config import SourceConfig
from sources.coinbase import CandleError, parse_candles, poll_coinbase
from sources.http import make_client
from store import Store
from tests.conftest import sample

D = dt.date


def test_real_candle_sample_parses():
    rows = parse_candles(json.loads(sample("coinbase_exchange_products_BTC-USDT_candles_1h__ccxt_static.json")))
    assert rows == [(D(2024, 3, 13), 73243.33, 73402.47, 73241.5, 73370.65, 1.56794406)]


@pytest.mark.parametrize(
    "obj",
    [
        {"message": "rate limited"},
        [[1710327600, 1, 2, 3]],
        [[1710327600, "73241.5", 73402.47, 73243.33, 73370.65, 1.5]],
        [[1710327600, 73500, 73402.47, 73243.33, 73370.65, 1.5]],  # low above high
        [[1710327600, -1, 73402.47, 73243.33, 73370.65, 1.5]],
        [[True, 1, 2, 1, 1, 1]],
    ],
)
def test_hostile_candles_are_refused(obj):
    with pytest.raises(CandleError):
        parse_candles(obj)


_START = D(2024, 1, 1)


def series(closes, start=_START):
    return [((start + dt.timedelta(days=i)).isoformat(), c) for i, c in enumerate(closes)]


def test_death_and_golden_crosses_are_found_and_counted_since_the_cycle_start():
    # 300 days rising, 150 falling hard, 200 rising: the 50-day crosses the 200-day down, then up.
    # (+1000: closes are bitcoin prices, bounded below at $100 like every stored price)
    closes = [
        1000 + c
        for c in [100 + i for i in range(300)] + [400 - 3 * i for i in range(150)] + [-50 + 4 * i + 100 for i in range(200)]
    ]
    rows = series(closes)
    t = compute_trend(rows, D(2030, 1, 1), D(2024, 1, 1))
    assert t.death_crosses == 1 and t.golden_crosses == 1 and t.latest_cross == "golden"
    assert t.regime == "50 above 200"
    end_of_fall = D(2024, 1, 1) + dt.timedelta(days=449)
    mid = compute_trend(rows, end_of_fall, D(2024, 1, 1))
    assert mid.latest_cross == "death" and mid.regime == "50 below 200"
    assert mid.sma50 == pytest.approx(sum(closes[400:450]) / 50)
    assert compute_trend(rows, D(2030, 1, 1), D(2029, 1, 1)).death_crosses == 0  # counted from the cycle start only
    assert compute_trend(rows[:150], D(2030, 1, 1), D(2024, 1, 1)) is None  # fewer than 200 closes


async def test_poll_backfills_in_300_day_pages_then_polls_recent(tmp_path):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.params["start"])[:10])
        start = dt.date.fromisoformat(request.url.params["start"][:10])
        end = dt.date.fromisoformat(request.url.params["end"][:10])
        rows, day = [], end
        while day >= start:
            ts = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
            rows.append([int(ts), 90_000.0, 110_000.0, 100_000.0, 100_000.0, 1.0])
            day -= dt.timedelta(days=1)
        return httpx.Response(200, json=rows)

    store = Store.open(tmp_path / "c.db")
    now = dt.datetime(2025, 11, 24, 22, tzinfo=dt.UTC)
    cfg = SourceConfig("coinbase", "https://coinbase.test", 3600, deadline=10)
    async with make_client(httpx.MockTransport(handler)) as client:
        out = await poll_coinbase(client, store, cfg, cycle_start=D(2024, 6, 1), now=now, rng=random.Random(0))
        assert out.state == "ok"
        first = D(2024, 6, 1) - dt.timedelta(days=200 + 10)  # the cycle start less the long window (and a margin)
        assert len(seen) == 3 and seen[0] == first.isoformat()  # 300-day pages
        assert store.candle_days()[0] == first and store.candle_days()[-1] == D(2025, 11, 25)
        seen.clear()
        await poll_coinbase(client, store, cfg, cycle_start=D(2024, 6, 1), now=now, rng=random.Random(0))
        assert seen == ["2025-11-14"]  # afterwards only the last days
    store.close()


async def test_backfill_is_not_repeated_when_upstream_has_nothing_older_and_a_gap_is_filled(tmp_path):
    seen, floor = [], D(2024, 1, 1)  # the upstream's first day: later than the backfill asks for

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.params["start"])[:10])
        start = max(dt.date.fromisoformat(request.url.params["start"][:10]), floor)
        day, rows = dt.date.fromisoformat(request.url.params["end"][:10]), []
        while day >= start:
            rows.append(
                [
                    int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()),
                    90_000.0,
                    110_000.0,
                    100_000.0,
                    100_000.0,
                    1.0,
                ]
            )
            day -= dt.timedelta(days=1)
        return httpx.Response(200, json=rows)

    store = Store.open(tmp_path / "c.db")
    cfg = SourceConfig("coinbase", "https://coinbase.test", 3600, deadline=10)
    first_poll = dt.datetime(2025, 10, 1, 22, tzinfo=dt.UTC)
    async with make_client(httpx.MockTransport(handler)) as client:
        assert (await poll_coinbase(client, store, cfg, cycle_start=D(2024, 6, 1), now=first_poll)).state == "ok"
        assert len(seen) == 3 and store.candle_days()[0] == floor
        seen.clear()
        await poll_coinbase(client, store, cfg, cycle_start=D(2024, 6, 1), now=first_poll + dt.timedelta(hours=1))
        assert seen == ["2025-09-21"]  # not the whole backfill again
        seen.clear()
        later = dt.datetime(2025, 11, 24, 22, tzinfo=dt.UTC)  # flowtape closed for seven weeks
        await poll_coinbase(client, store, cfg, cycle_start=D(2024, 6, 1), now=later)
        assert seen == ["2025-10-01"]  # from the last stored day: no hole
        days = store.candle_days()
        assert all((b - a).days == 1 for a, b in pairwise(days))
    store.close()


def test_cycle_start_config(tmp_path):
    from pathlib import Path

    from common.config import ConfigError, parse_config

    assert parse_config({"analytics": {"cycle_start": D(2024, 4, 20)}}, Path("c")).cycle_start == D(2024, 4, 20)
    with pytest.raises(ConfigError, match="analytics.cycle_start"):
        parse_config({"analytics": {"cycle_start": "2024-04-20"}}, Path("c"))
