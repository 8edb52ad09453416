"""Coinbase Exchange daily candles for BTC-USD: the series the 50/200-day moving averages come from.

`/products/BTC-USD/candles?granularity=86400&start=...&end=...` returns at most 300 rows of
`[time, low, high, open, close, volume]`, newest first. With too little stored history, a poll
backfills from the cycle start (less 200 days for the long average) in 300-day pages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random

import httpx

from .config import SourceConfig
from .http import BlockedError, fetch_text, looks_like_challenge
from .polling import BodyResult, PollOutcome, run_poll
from .records import DataError
from .store import Store

SOURCE = "coinbase"
PRODUCT = "BTC-USD"
PAGE_DAYS = 300
LONG_WINDOW = 200
BACKFILL_KEY = "coinbase_backfill_from"


class CandleError(DataError):
    pass


def candles_path(start: dt.date, end: dt.date) -> str:
    return f"/products/{PRODUCT}/candles?granularity=86400&start={start.isoformat()}T00:00:00Z&end={end.isoformat()}T00:00:00Z"


def parse_candles(obj: object) -> list[tuple[dt.date, float, float, float, float, float]]:
    """(day, open, high, low, close, volume), oldest first; refuses anything malformed."""
    if not isinstance(obj, list):
        raise CandleError("candles: expected a list of [time, low, high, open, close, volume]")
    out = {}
    for row in obj:
        if not isinstance(row, list) or len(row) < 6 or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in row[:6]):
            raise CandleError("candles: a row is not [time, low, high, open, close, volume]")
        t, low, high, open_, close, volume = (float(x) for x in row[:6])
        if not all(math.isfinite(x) for x in (t, low, high, open_, close, volume)):
            raise CandleError("candles: non-finite value")
        if not (0 < low <= min(open_, close) <= max(open_, close) <= high < 1e8) or volume < 0 or not 1.2e9 < t < 4.1e9:
            raise CandleError(f"candles: implausible row at {int(t)}")
        out[dt.datetime.fromtimestamp(t, dt.timezone.utc).date()] = (open_, high, low, close, volume)
    return [(d, *v) for d, v in sorted(out.items())]


async def poll_coinbase(client: httpx.AsyncClient, store: Store, cfg: SourceConfig, *, cycle_start: dt.date,
                        now: dt.datetime, rng: random.Random | None = None) -> PollOutcome:
    async def get(path: str):
        from .venues.common import loads

        text = await fetch_text(client, cfg.base_url + path, deadline=cfg.deadline, now=now)
        if looks_like_challenge(text):
            raise BlockedError("candles: bot challenge instead of data")
        return parse_candles(await asyncio.to_thread(loads, text))

    async def body() -> BodyResult:
        today = now.astimezone(dt.timezone.utc).date()
        first_needed = cycle_start - dt.timedelta(days=LONG_WINDOW + 10)
        held = store.candle_days()
        # Backfill once per cycle start: remembered, because the upstream may simply have nothing older
        # (re-asking every poll cost five pages an hour). After that, from the last stored day, so a
        # month with flowtape closed leaves no hole.
        backfilled = store.meta(BACKFILL_KEY) == first_needed.isoformat()
        if not held or (held[0] > first_needed + dt.timedelta(days=5) and not backfilled):
            start = first_needed
        else:
            start = min(today - dt.timedelta(days=10), held[-1] - dt.timedelta(days=1))
        backfill = start == first_needed
        rows = []
        while start <= today:
            end = min(start + dt.timedelta(days=PAGE_DAYS - 1), today + dt.timedelta(days=1))
            rows += await get(candles_path(start, end))
            start = end + dt.timedelta(days=1)
        if not rows:
            raise CandleError("candles: empty result")
        written = await asyncio.to_thread(store.write_candles, PRODUCT, rows)
        if backfill:
            store.set_meta(BACKFILL_KEY, first_needed.isoformat())
        newest = max(r[0] for r in rows)
        stale = (today - newest).days > 2
        return BodyResult(written, 0, f"newest candle is {newest}" if stale else None, stale=stale)

    return await run_poll(store, SOURCE, cfg, body, now=now, rng=rng)
