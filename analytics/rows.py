"""Store rows checked on the way into analytics: one bad row is set aside with a notice naming it.

The store is written only by our parsers, but a file can be edited, restored from an older build or
damaged: SQLite keeps TEXT in a REAL column, `inf`, 1e300, a date of '0001-01-01'. Any of those used to
raise inside polars and blank every pane. Each reader here checks a row against common/bounds.py
(type, finite, physical bound, parseable date or instant), keeps the good rows and returns a notice per
table ("store: 1 bad row set aside in observations (deribit BTC-PERPETUAL at ...: mark = 'abc' is not a
number)") for the records' `notices`, the status bar and `snapshot --json` `data_notices`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from typing import TypeVar

import polars as pl

from common.bounds import (
    BOUNDS,
    EARLIEST_INSTANT,
    MAX_AHEAD,
    MAX_EXPIRY_AHEAD,
    BoundsError,
    check,
    check_day,
    check_expiry,
    check_time,
)
from common.records import DataError
from common.sanitize import clean

UTC = dt.UTC
NAMED = 3  # rows named in one notice; the rest are counted

R = TypeVar("R")
T = TypeVar("T")


def number(value: object, where: str, kind: str | None = None) -> float:
    """A stored REAL as a float: not TEXT, BLOB or NULL, finite, within BOUNDS[kind] when given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BoundsError(f"{where} = {clean(repr(value), max_len=40)} is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise BoundsError(f"{where} = {value} is not finite")
    return check(kind, value, where) if kind else value


def text(value: object, where: str) -> str:
    """A stored name (venue, instrument, fund): TEXT, not a number, BLOB or NULL."""
    if not isinstance(value, str) or not value:
        raise BoundsError(f"{where} = {clean(repr(value), max_len=40)} is not a name")
    return value


def instant(value: object, where: str, *, now: dt.datetime) -> dt.datetime:
    """A stored ISO timestamp as a UTC instant (naive means UTC, as the store writes), within check_time."""
    try:
        when = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        raise BoundsError(f"{where} = {clean(repr(value), max_len=40)} is not a timestamp")
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return check_time(when, where, now=now)


def day(value: object, where: str, *, today: dt.date, first: dt.date | None = None) -> dt.date:
    """A stored ISO date, between `first` (default: the first US spot ETF session) and tomorrow."""
    try:
        parsed = dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise BoundsError(f"{where} = {clean(repr(value), max_len=40)} is not a date")
    return check_day(parsed, where, today=today, **({"first": first} if first else {}))


def expiry(value: object, where: str, *, quoted: dt.datetime) -> float:
    """A contract's expiry stored as epoch seconds, within check_expiry of the quote that carried it."""
    seconds = number(value, where)
    try:
        when = dt.datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BoundsError(f"{where} = {seconds:g} is not epoch seconds") from None
    check_expiry(when, where, now=quoted)
    return seconds


def screen(
    table: str, rows: Iterable[R], check_row: Callable[[R], T | None], name: Callable[[R], str]
) -> tuple[list[T], tuple[str, ...]]:
    """(checked rows, notices): `check_row` returns the row to keep, None to skip a row that is not
    ours (another metric), or raises DataError saying what is wrong; `name` says which row it was."""
    good: list[T] = []
    bad: list[str] = []
    for row in rows:
        try:
            kept = check_row(row)
        except DataError as exc:
            bad.append(f"{clean(name(row), max_len=80)}: {exc}")
            continue
        if kept is not None:
            good.append(kept)
    return good, notice(table, bad)


def notice(table: str, problems: list[str]) -> tuple[str, ...]:
    """One line naming the first few bad rows of a table (none when nothing was set aside)."""
    if not problems:
        return ()
    n = len(problems)
    named = "; ".join(problems[:NAMED]) + (f"; and {n - NAMED} more" if n > NAMED else "")
    return (f"store: {n} bad row{'s' if n > 1 else ''} set aside in {table} ({named})",)


def observation_name(row: tuple) -> str:
    venue, instrument, _metric, ts, *_ = (*row, None, None, None, None, None)
    return f"{venue} {instrument} at {ts}"


_OBS_SCHEMA = {"venue": pl.Utf8, "instrument": pl.Utf8, "metric": pl.Utf8, "ts": pl.Utf8, "value": pl.Float64}


def observations(rows: list[tuple], kinds: dict[str, str | None], *, now: dt.datetime) -> tuple[list[tuple], tuple[str, ...]]:
    """observation_frame() as (venue, instrument, metric, ISO ts, value) tuples."""
    frame, notices = observation_frame(rows, kinds, now=now)
    return frame.rows(), notices


def observation_frame(
    rows: list[tuple], kinds: dict[str, str | None], *, now: dt.datetime
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """(venue, instrument, metric, ISO ts, value) rows whose metric is in `kinds` (metric -> its BOUNDS
    kind; None for an expiry in epoch seconds), ts as UTC ISO seconds and value a float, as a frame.

    Rows as the store writes them are cleared in bulk (polars, the same bounds); only the others are
    checked one by one, which names the bad ones. Checking every row in Python tripled a derivatives load."""
    rows = [r for r in rows if len(r) == 5 and r[2] in kinds]
    typed = [type(r[0]) is str and type(r[1]) is str and type(r[3]) is str and type(r[4]) is float for r in rows]
    typed_rows = [r for r, t in zip(rows, typed, strict=True) if t]
    frame = _frame(typed_rows)
    cleared = frame.select(_cleared(kinds, now=now))[:, 0].to_list()
    rest = [r for r, t in zip(rows, typed, strict=True) if not t] + [
        r for r, ok in zip(typed_rows, cleared, strict=True) if not ok
    ]
    good = frame.filter(pl.Series(cleared, dtype=pl.Boolean)) if rest else frame
    if not rest:
        return good, ()
    checked, notices = screen("observations", rest, lambda r: check_observation(r, kinds, now=now), observation_name)
    return pl.concat([good, _frame(checked)]), notices


def _frame(rows: list[tuple]) -> pl.DataFrame:
    # by columns: about a third faster than orient="row" on the ~50k rows of a derivatives load
    return pl.DataFrame(dict(zip(_OBS_SCHEMA, zip(*rows, strict=True), strict=True)) if rows else {}, schema=_OBS_SCHEMA)


def _cleared(kinds: dict[str, str | None], *, now: dt.datetime) -> pl.Expr:
    """Per row: True when it is certainly good (the store's own ts format, value within its bound)."""
    low = pl.col("metric").replace_strict(
        {m: BOUNDS[k].low for m, k in kinds.items() if k}, default=None, return_dtype=pl.Float64
    )
    high = pl.col("metric").replace_strict(
        {m: BOUNDS[k].high for m, k in kinds.items() if k}, default=None, return_dtype=pl.Float64
    )
    open_low = pl.col("metric").is_in([m for m, k in kinds.items() if k and BOUNDS[k].low_open])
    when = pl.col("ts").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_zone="UTC", strict=False)
    value = pl.col("value")
    in_bound = pl.when(open_low).then(value > low).otherwise(value >= low) & (value <= high)
    in_expiry = (value >= EARLIEST_INSTANT.timestamp()) & (value <= when.dt.epoch("s") + MAX_EXPIRY_AHEAD.total_seconds())
    ok = (
        (pl.col("venue").str.len_chars() > 0)
        & (pl.col("instrument").str.len_chars() > 0)
        & pl.col("ts").str.ends_with("+00:00")
        & when.is_not_null()
        & (when >= EARLIEST_INSTANT)
        & (when <= now + MAX_AHEAD)
        & value.is_finite()
        & pl.when(low.is_null()).then(in_expiry).otherwise(in_bound)
    )
    return ok.fill_null(False)


def check_observation(row: tuple, kinds: dict[str, str | None], *, now: dt.datetime) -> tuple:
    """One observation row checked, named on failure (DataError); ts normalised to UTC ISO seconds."""
    venue, instrument, metric, ts, value = row
    text(venue, "venue")
    text(instrument, "instrument")
    when = instant(ts, "ts", now=now)
    kind = kinds[metric]
    v = expiry(value, metric, quoted=when) if kind is None else number(value, metric, kind)
    return venue, instrument, metric, when.isoformat(timespec="seconds"), v
