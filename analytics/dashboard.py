"""What the dashboard shows for an asset as of a date: the report plus the tape and chart series.

Frozen dataclasses of Python scalars: the UI compares them with == to decide whether to repaint.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import polars as pl

from common.calendar import AsOf
from common.fomc import calendar
from common.records import ASSETS, TOTAL
from store import Store

from .derivatives import load_derivatives
from .fed import load_fed
from .flows import asset_report
from .frames import AssetFrames, load_asset
from .history import tape_history
from .scenario_inputs import load_inputs, weekly_ledger
from .scenarios import Scenario, evaluate
from .settings import AnalyticsSettings
from .trend import compute_trend
from .views import AssetView, DashboardViews, TapeRow

TAPE_SESSIONS = 10


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
        total_origin = frames.origins.get((day, TOTAL))
        if provisional and all(v is None for v in values) and total_origin is None:
            total = None
        origins = tuple(frames.origins.get((day, f)) for f in funds)
        clash = {d.fund for d in frames.disagreements if d.date == day}
        disputed = tuple(f in clash for f in funds)
        extra = (origins, disputed) if any(origins) or any(disputed) or total_origin or TOTAL in clash else ((), ())
        tape.append(TapeRow(day, values, total, bool(provisional), missing, *extra, total_origin=total_origin))
    complete = frames.sessions.filter((pl.col("date") <= as_of) & ~pl.col("provisional") & pl.col("total").is_not_null())
    monthly = complete.group_by(pl.col("date").dt.strftime("%Y-%m").alias("m")).agg(pl.col("total").sum().round(1)).sort("m")
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
        history=tape_history(frames, as_of),
        series=frames.series,
        disagreements=sum(1 for d in frames.disagreements if d.date <= as_of),
    )


def flow_views(
    frames: dict[str, AssetFrames], as_of: dt.date, *, streak_size_usd_m: float
) -> tuple[dict[str, AssetView], tuple[dt.date, ...]]:
    """Every asset's view and the union of stored session dates (for stepping the as-of date)."""
    views = {a: asset_view(f, as_of, streak_size_usd_m=streak_size_usd_m) for a, f in frames.items()}
    dates = sorted({d for f in frames.values() for d in session_dates(f)})
    return views, tuple(dates)


def load_views(
    store: Store, assets, as_of: dt.date, *, streak_size_usd_m: float
) -> tuple[dict[str, AssetView], tuple[dt.date, ...]]:
    return flow_views({a: load_asset(store, a) for a in assets}, as_of, streak_size_usd_m=streak_size_usd_m)


def compute_market(
    store: Store, as_of: AsOf, settings: AnalyticsSettings, assets: tuple[str, ...] = ASSETS
) -> tuple[dict[str, AssetFrames], DashboardViews]:
    """The flow views and the derivatives, reading each asset's rows once; the frames are handed on to
    `complete_views` so the scenario pass does not read them again."""
    frames = {a: load_asset(store, a, tolerance=settings.flows) for a in assets}
    views, dates = flow_views(frames, as_of.date, streak_size_usd_m=settings.streak_size_usd_m)
    derivatives = load_derivatives(store, as_of.until, band_edges=settings.band_edges, trend_pct=settings.oi_trend_pct)
    return frames, DashboardViews(as_of, views, dates, derivatives)


def complete_views(
    store: Store,
    frames: dict[str, AssetFrames],
    market: DashboardViews,
    settings: AnalyticsSettings,
    scenarios: tuple[Scenario, ...],
    now: dt.datetime,
    history: Callable[[dict[str, AssetFrames]], tuple],
) -> DashboardViews:
    """The market views completed with the scenarios (states and their history), the context (ledger, trend, Fed)."""
    derivs = None if market.derivatives.empty else market.derivatives
    inputs = load_inputs(store, frames, market.as_of.date, now, derivs)
    return dataclasses.replace(
        market,
        complete=True,
        scenario_results=tuple(evaluate(scenarios, inputs)),
        transitions=tuple(history(frames)),
        ledger=weekly_ledger(inputs),
        trend=compute_trend(store.candles(), market.as_of.date, settings.cycle_start),
        fed=load_fed(store, market.as_of.until, settings.fed_days or calendar()),
    )
