"""Coinbase Exchange for BTC-USD: daily candles (the series the 50/200-day moving averages come from) and,
at the end of this file, spot (ticker and 24 h stats, the title line's price).

`/products/BTC-USD/candles?granularity=86400&start=...&end=...` returns at most 300 rows of
`[time, low, high, open, close, volume]`, newest first. With too little stored history, a poll
backfills from the cycle start (less 200 days for the long average) in 300-day pages.

Every candle is checked at the boundary: time is epoch seconds within bounds.check_time, prices
within `btc_usd` with low <= open, close <= high, volume within `volume`. One bad candle refuses the
whole response naming its index and field: a partial series would bend the 200-day average silently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
import re
from dataclasses import dataclass

import httpx

from common.bounds import BoundsError, check, check_time
from common.config import SourceConfig
from common.records import DataError
from common.sanitize import clean
from store import Store

from .http import BlockedError, fetch_text, looks_like_challenge
from .polling import BodyResult, PollOutcome, run_poll

SOURCE = "coinbase"
PRODUCT = "BTC-USD"
PAGE_DAYS = 300
LONG_WINDOW = 200
BACKFILL_KEY = "coinbase_backfill_from"


class CandleError(DataError):
    pass


def candles_path(start: dt.date, end: dt.date) -> str:
    return f"/products/{PRODUCT}/candles?granularity=86400&start={start.isoformat()}T00:00:00Z&end={end.isoformat()}T00:00:00Z"


FIELDS = ("time", "low", "high", "open", "close", "volume")


def parse_candles(obj: object, *, now: dt.datetime | None = None) -> list[tuple[dt.date, float, float, float, float, float]]:
    """(day, open, high, low, close, volume), oldest first. Raises CandleError naming the candle's index
    and field for anything else; never another exception. Fields after the sixth are ignored (additive drift)."""
    try:
        return _parse(obj, now or dt.datetime.now(dt.UTC))
    except BoundsError as exc:  # one error class for the response, still naming the field
        raise CandleError(str(exc)) from None


def _parse(obj: object, now: dt.datetime) -> list[tuple[dt.date, float, float, float, float, float]]:
    if not isinstance(obj, list):
        raise CandleError("candles: expected a list of [time, low, high, open, close, volume]")
    out: dict[dt.date, tuple[float, float, float, float, float]] = {}
    for i, row in enumerate(obj):
        where = f"candles[{i}]"
        if not isinstance(row, list) or len(row) < len(FIELDS):
            raise CandleError(f"{where}: not [time, low, high, open, close, volume]")
        t, low, high, open_, close, volume = (_number(row[k], f"{where}.{name}") for k, name in enumerate(FIELDS))
        if not 0 < t < 1e11:  # fromtimestamp overflows far beyond check_time's range; milliseconds land here too
            raise CandleError(f"{where}.time = {t:g} is not epoch seconds")
        when = check_time(dt.datetime.fromtimestamp(t, dt.UTC), f"{where}.time", now=now)
        for name, value in (("low", low), ("high", high), ("open", open_), ("close", close)):
            check("btc_usd", value, f"{where}.{name}")
        check("volume", volume, f"{where}.volume")
        for name, value in (("open", open_), ("close", close)):
            if not low <= value <= high:
                raise CandleError(f"{where}.{name} = {value:g} is outside its candle's low {low:g} .. high {high:g}")
        candle = (open_, high, low, close, volume)
        if out.setdefault(when.date(), candle) != candle:
            raise CandleError(f"{where}.time: a second, different candle for {when.date().isoformat()}")
    return [(d, *v) for d, v in sorted(out.items())]


def _number(value: object, where: str, error: type[DataError] = CandleError) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(f"{where}: expected a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an integer past float range
        raise error(f"{where}: number out of range") from None
    if not math.isfinite(number):
        raise error(f"{where}: non-finite number")
    return number


async def poll_coinbase(
    client: httpx.AsyncClient,
    store: Store,
    cfg: SourceConfig,
    *,
    cycle_start: dt.date,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> PollOutcome:
    async def get(path: str):
        from .venues.common import loads

        text = await fetch_text(client, cfg.base_url + path, deadline=cfg.deadline, now=now)
        if looks_like_challenge(text):
            raise BlockedError("candles: bot challenge instead of data")
        try:
            obj = await asyncio.to_thread(loads, text)
        except ValueError as exc:  # loads names its DataErrors; Python's int-digit limit raises a bare ValueError
            raise exc if isinstance(exc, DataError) else CandleError(f"candles: {exc}") from None
        return parse_candles(obj, now=now)

    async def body() -> BodyResult:
        today = now.astimezone(dt.UTC).date()
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


# ---- spot: the ticker and its 24 h stats, for the title line ------------------------------------------------
# `GET /products/BTC-USD/ticker` -> {"price": "73367.8", "bid", "ask", "volume", "size", "trade_id", "time": ISO};
# `GET /products/BTC-USD/stats` -> {"open", "high", "low", "last", "volume", "volume_30day", ...}: numbers as
# decimal strings. Stored as observations of venue SPOT_VENUE at the ticker's time (analytics/spot.py reads them).
SPOT_SOURCE = SPOT_VENUE = "coinbase_spot"
TICKER_PATH = f"/products/{PRODUCT}/ticker"
STATS_PATH = f"/products/{PRODUCT}/stats"
_NANOS = re.compile(r"(\.\d{6})\d+")  # Coinbase stamps nanoseconds at times; Python reads at most microseconds


class SpotError(DataError):
    pass


@dataclass(frozen=True)
class SpotQuote:
    product: str
    price: float  # the last trade, USD
    ts: dt.datetime  # the last trade's time
    bid: float | None
    ask: float | None
    open_24h: float
    high_24h: float
    low_24h: float
    volume_24h: float | None  # BTC

    def rows(self) -> list[tuple[str, str, str, str, float]]:
        """(venue, instrument, metric, ISO ts, value) for Store.write_observation_rows; None values are left out."""
        ts = self.ts.astimezone(dt.UTC).isoformat(timespec="seconds")
        metrics = {
            "last": self.price,
            "bid": self.bid,
            "ask": self.ask,
            "open_24h": self.open_24h,
            "high_24h": self.high_24h,
            "low_24h": self.low_24h,
            "volume_24h": self.volume_24h,
        }
        return [(SPOT_VENUE, self.product, m, ts, v) for m, v in metrics.items() if v is not None]


def parse_spot(ticker: object, stats: object, *, now: dt.datetime) -> SpotQuote:
    """The ticker and stats responses as one SpotQuote, or SpotError naming the response and field; never
    another exception. Unknown keys are ignored (additive drift); bid/ask/volume may be absent (None)."""
    try:
        return _parse_spot(ticker, stats, now)
    except BoundsError as exc:
        raise SpotError(str(exc)) from None


def _parse_spot(ticker: object, stats: object, now: dt.datetime) -> SpotQuote:
    if not isinstance(ticker, dict):
        raise SpotError("ticker: expected an object")
    if not isinstance(stats, dict):
        raise SpotError("stats: expected an object")
    price = check("btc_usd", _decimal(ticker, "price", "ticker"), "ticker.price")
    raw_time = ticker.get("time")
    if not isinstance(raw_time, str):
        raise SpotError("ticker.time: expected an ISO time string")
    try:
        when = dt.datetime.fromisoformat(_NANOS.sub(r"\1", clean(raw_time, max_len=40)).replace("Z", "+00:00"))
    except ValueError:
        raise SpotError(f"ticker.time: not an ISO time: {clean(raw_time, max_len=40)!r}") from None
    if when.tzinfo is None:
        raise SpotError("ticker.time: no time zone")
    when = check_time(when.astimezone(dt.UTC), "ticker.time", now=now)
    bid, ask = (_optional(ticker, k, "ticker", "btc_usd") for k in ("bid", "ask"))
    if bid is not None and ask is not None and bid > ask:
        raise SpotError(f"ticker.bid = {bid:g} is above ticker.ask = {ask:g}")
    open_, high, low = (check("btc_usd", _decimal(stats, k, "stats"), f"stats.{k}") for k in ("open", "high", "low"))
    if not low <= open_ <= high:
        raise SpotError(f"stats.open = {open_:g} is outside stats.low {low:g} .. stats.high {high:g}")
    return SpotQuote(PRODUCT, price, when, bid, ask, open_, high, low, _optional(ticker, "volume", "ticker", "volume"))


def _decimal(obj: dict, key: str, where: str) -> float:
    """A required decimal string (or number): finite, else SpotError naming the field."""
    if key not in obj:
        raise SpotError(f"{where}.{key}: missing")
    value = obj[key]
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"-?\d{1,15}(\.\d{1,18})?", text):
            raise SpotError(f"{where}.{key}: not a decimal number: {clean(value, max_len=30)!r}")
        return float(text)
    return _number(value, f"{where}.{key}", SpotError)


def _optional(obj: dict, key: str, where: str, bound: str) -> float | None:
    if obj.get(key) is None:
        return None
    return check(bound, _decimal(obj, key, where), f"{where}.{key}")


async def poll_coinbase_spot(
    client: httpx.AsyncClient, store: Store, cfg: SourceConfig, *, now: dt.datetime, rng: random.Random | None = None
) -> PollOutcome:
    async def get(path: str, what: str) -> object:
        from .venues.common import loads

        text = await fetch_text(client, cfg.base_url + path, deadline=cfg.deadline, now=now)
        if looks_like_challenge(text):
            raise BlockedError(f"{what}: bot challenge instead of data")
        try:
            return loads(text)
        except ValueError as exc:
            raise exc if isinstance(exc, DataError) else SpotError(f"{what}: {exc}") from None

    async def body() -> BodyResult:
        quote = parse_spot(await get(TICKER_PATH, "ticker"), await get(STATS_PATH, "stats"), now=now)
        from .registry import stale_after_s

        written = await asyncio.to_thread(store.write_observation_rows, quote.rows(), fetched_at=now)
        age = (now - quote.ts).total_seconds()
        stale = age > (stale_after_s(SPOT_SOURCE) or math.inf)  # BTC-USD trades every second: an old last trade is suspect
        return BodyResult(written, 0, f"last trade {age / 60:.0f} min old" if stale else None, stale=stale)

    return await run_poll(store, SPOT_SOURCE, cfg, body, now=now, rng=rng)
