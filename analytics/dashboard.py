"""What the dashboard shows for an asset as of a date: the report plus the tape and chart series.

Frozen dataclasses of Python scalars: the UI compares them with == to decide whether to repaint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from store import Store

from .flows import AssetReport, asset_report
from .frames import AssetFrames, load_asset

TAPE_SESSIONS = 10


@dataclass(frozen=True)
class TapeRow:
    date: dt.date
    funds: tuple[float | None, ...]  # in AssetView.funds order
    total: float | None
    provisional: bool
    missing: tuple[str, ...]


@dataclass(frozen=True)
class AssetView:
    asset: str
    as_of: dt.date
    funds: tuple[str, ...]
    report: AssetReport
    tape: tuple[TapeRow, ...]  # oldest first, the last TAPE_SESSIONS sessions up to as_of
    monthly: tuple[tuple[str, float], ...]  # (YYYY-MM, total) of complete sessions, up to the as-of month
    month_daily: tuple[tuple[dt.date, float], ...]  # the as-of month's complete sessions
    notices: tuple[str, ...] = ()  # bad stored rows set aside (analytics/rows.py)


def session_dates(frames: AssetFrames) -> tuple[dt.date, ...]:
    return tuple(frames.sessions["date"].to_list())


def asset_view(frames: AssetFrames, as_of: dt.date, *, streak_size_usd_m: float, tape_sessions: int = TAPE_SESSIONS) -> AssetView:
    report = asset_report(frames, as_of, streak_size_usd_m=streak_size_usd_m)
    sessions = frames.sessions.filter(pl.col("date") <= as_of).tail(tape_sessions)
    flows = frames.flows.filter(pl.col("date").is_in(sessions["date"].implode()))
    by_day: dict[dt.date, dict[str, float | None]] = {}
    for day, fund, value in flows.iter_rows():
        by_day.setdefault(day, {})[fund] = value
    # Show only funds that exist in the window (a fund launched later has no column yet).
    funds = tuple(f for f in frames.funds if any(f in by_day.get(d, {}) for d in sessions["date"]))
    tape = []
    for day, total, provisional in sessions.select("date", "total", "provisional").iter_rows():
        values = tuple(by_day.get(day, {}).get(f) for f in funds)
        missing = tuple(f for f, v in zip(funds, values, strict=True) if v is None) if provisional else ()
        if provisional and all(v is None for v in values):
            total = None
        tape.append(TapeRow(day, values, total, bool(provisional), missing))
    complete = frames.sessions.filter((pl.col("date") <= as_of) & ~pl.col("provisional") & pl.col("total").is_not_null())
    monthly = (
        complete.group_by(pl.col("date").dt.strftime("%Y-%m").alias("m")).agg(pl.col("total").sum().round(1)).sort("m")
    )
    month_start = as_of.replace(day=1)
    daily = complete.filter(pl.col("date") >= month_start).select("date", "total")
    return AssetView(
        asset=frames.asset,
        as_of=as_of,
        funds=funds,
        report=report,
        tape=tuple(tape),
        monthly=tuple((m, t + 0.0) for m, t in monthly.iter_rows()),
        month_daily=tuple(daily.iter_rows()),
        notices=frames.notices,
    )


def load_views(store: Store, assets, as_of: dt.date, *,
               streak_size_usd_m: float) -> tuple[dict[str, AssetView], tuple[dt.date, ...]]:
    """Every asset's view and the union of stored session dates (for stepping the as-of date)."""
    views: dict[str, AssetView] = {}
    dates: set[dt.date] = set()
    for asset in assets:
        frames = load_asset(store, asset)
        dates.update(session_dates(frames))
        views[asset] = asset_view(frames, as_of, streak_size_usd_m=streak_size_usd_m)
    return views, tuple(sorted(dates))
