"""The trend context: 50- and 200-day simple moving averages of BTC-USD daily closes, the latest
death cross (50 crossing below 200) or golden cross, and how many of each since the cycle start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from common.bounds import EARLIEST_INSTANT

from .rows import day, number, screen
from .views import Trend

SHORT, LONG = 50, 200


def checked_candles(rows: Sequence[tuple], *, today: dt.date) -> tuple[list[tuple[dt.date, float]], tuple[str, ...]]:
    """(day, close) rows with a real day (bitcoin's first price .. tomorrow) and a bitcoin price."""
    first = EARLIEST_INSTANT.date()
    return screen(
        "candles",
        rows,
        lambda r: (day(r[0], "day", today=today, first=first), number(r[1], "close", "btc_usd")),
        lambda r: f"BTC-USD candle {r[0]}",
    )


def compute_trend(
    rows: Sequence[tuple[str, float]], as_of: dt.date, cycle_start: dt.date, *, today: dt.date | None = None
) -> Trend | None:
    """None until there are 200 closes up to `as_of`; `today` bounds the days (default the real UTC date)."""
    good, notices = checked_candles(rows, today=today or dt.datetime.now(dt.UTC).date())
    df = pl.DataFrame(good, schema={"day": pl.Date, "close": pl.Float64}, orient="row")
    if not df.height:
        return None
    df = df.filter(pl.col("day") <= as_of).sort("day")
    if df.height < LONG:
        return None
    df = df.with_columns(sma50=pl.col("close").rolling_mean(SHORT), sma200=pl.col("close").rolling_mean(LONG))
    df = df.drop_nulls().with_columns(above=pl.col("sma50") > pl.col("sma200"))
    df = df.with_columns(prev=pl.col("above").shift(1))
    crosses = df.filter(pl.col("prev").is_not_null() & (pl.col("above") != pl.col("prev")))
    crosses = crosses.with_columns(kind=pl.when(pl.col("above")).then(pl.lit("golden")).otherwise(pl.lit("death")))
    since = crosses.filter(pl.col("day") >= cycle_start)
    last = df.row(-1, named=True)
    latest = crosses.row(-1, named=True) if crosses.height else None
    return Trend(
        as_of=last["day"],
        close=last["close"],
        sma50=round(last["sma50"], 2),
        sma200=round(last["sma200"], 2),
        regime="50 above 200" if last["above"] else "50 below 200",
        latest_cross=latest["kind"] if latest else None,
        latest_cross_date=latest["day"] if latest else None,
        death_crosses=since.filter(pl.col("kind") == "death").height,
        golden_crosses=since.filter(pl.col("kind") == "golden").height,
        cycle_start=cycle_start,
        notices=notices,
    )
