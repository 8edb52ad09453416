"""Flow analytics for one asset as of a date: latest session, month to date, records, streaks, weeks.

Only rows dated <= as_of count. Aggregates (month, week, records, streaks, cumulative) use complete
sessions only: a provisional "today" row is a running sum of whatever funds have reported and would
otherwise look like a real number. Results are frozen dataclasses of Python scalars for the UI/JSON.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import polars as pl

from common.calendar import month_trading_days, week_bounds

from .frames import AssetFrames
from .views import AssetReport, DayRecord, FundRecords, Latest, MonthRecord, MonthToDate, Streak, Week


def _r(x: float | None) -> float | None:
    """Sums of one-decimal values carry float noise; Farside publishes one decimal."""
    return None if x is None else round(x, 1) + 0.0


def asset_report(frames: AssetFrames, as_of: dt.date, *, streak_size_usd_m: float = 200.0) -> AssetReport:
    sessions = frames.sessions.filter(pl.col("date") <= as_of)
    flows = frames.flows.filter(pl.col("date") <= as_of)
    complete = sessions.filter(~pl.col("provisional") & pl.col("total").is_not_null())
    complete_flows = flows.join(complete.select("date"), on="date", how="semi")

    latest = _latest(sessions, flows, frames.funds)
    latest_complete = cast(dt.date, complete["date"].max()) if complete.height else None  # a Date column's max
    mtd = _month_to_date(complete, as_of)
    month_start = as_of.replace(day=1)
    out_month, in_month = _record_months(complete.filter(pl.col("date") < month_start))
    out_day, in_day = _record_days(complete)
    latest_total = complete["total"][-1] if complete.height else None

    month_flows = complete_flows.filter(pl.col("date") >= month_start)
    fund_mtd = _sum_by_fund(month_flows, frames.funds)
    share = {f: (_r(v / mtd.total_usd_m * 100.0) if v is not None and mtd.total_usd_m else None) for f, v in fund_mtd.items()}
    cumulative_by_fund = _sum_by_fund(complete_flows, frames.funds)
    wk_start, _ = week_bounds(as_of)
    last_start = wk_start - dt.timedelta(days=7)
    return AssetReport(
        asset=frames.asset,
        as_of=as_of,
        funds=frames.funds,
        latest=latest,
        latest_complete=latest_complete,
        month_to_date=mtd,
        record_outflow_month=out_month,
        record_inflow_month=in_month,
        mtd_passed_record_outflow=bool(out_month and mtd.total_usd_m is not None and mtd.total_usd_m < out_month.total_usd_m),
        mtd_passed_record_inflow=bool(in_month and mtd.total_usd_m is not None and mtd.total_usd_m > in_month.total_usd_m),
        record_outflow_day=out_day,
        record_inflow_day=in_day,
        latest_sets_record_outflow_day=bool(out_day and latest_total is not None and latest_total <= out_day.usd_m),
        latest_sets_record_inflow_day=bool(in_day and latest_total is not None and latest_total >= in_day.usd_m),
        fund_records=_fund_records(complete_flows, frames.funds, latest_complete),
        streak=_streak(complete, streak_size_usd_m),
        week_to_date=_week(complete, wk_start, as_of),
        last_week=_week(complete, last_start, last_start + dt.timedelta(days=4)),
        cumulative_usd_m=_r(float(complete["total"].sum())) if complete.height else None,
        cumulative_by_fund=cumulative_by_fund,
        fund_mtd_usd_m=fund_mtd,
        fund_share_mtd_pct=share,
    )


def _latest(sessions: pl.DataFrame, flows: pl.DataFrame, funds: tuple[str, ...]) -> Latest | None:
    if not sessions.height:
        return None
    row = sessions.row(-1, named=True)
    day = row["date"]
    values = dict(flows.filter(pl.col("date") == day).select("fund", "usd_m").iter_rows())
    by_fund = {f: values[f] for f in funds if f in values}
    provisional = bool(row["provisional"])
    missing = tuple(f for f, v in by_fund.items() if v is None) if provisional else ()
    total = row["total"]
    if provisional and all(v is None for v in by_fund.values()):
        total = None  # Farside shows 0.0 before any fund reports: that is not a flow of zero
    return Latest(day, total, provisional, by_fund, missing)


def _month_to_date(complete: pl.DataFrame, as_of: dt.date) -> MonthToDate:
    month = complete.filter((pl.col("date").dt.year() == as_of.year) & (pl.col("date").dt.month() == as_of.month))
    n = month.height
    days = month_trading_days(as_of.year, as_of.month)
    last = cast(dt.date, month["date"].max()) if n else None
    left = sum(1 for d in days if (last is None or d > last))
    total = _r(float(month["total"].sum())) if n else None
    projected = _r(total + total / n * left) if n and total is not None else None
    return MonthToDate(f"{as_of:%Y-%m}", total, n, left, projected)


def _record_months(before: pl.DataFrame) -> tuple[MonthRecord | None, MonthRecord | None]:
    if not before.height:
        return None, None
    months = (
        before.group_by(pl.col("date").dt.strftime("%Y-%m").alias("month"))
        .agg(pl.col("total").sum())
        .sort("month")
        .with_columns(pl.col("total").round(1))
    )
    low = months.sort(["total", "month"]).row(0, named=True)
    high = months.sort(["total", "month"], descending=[True, False]).row(0, named=True)
    out = MonthRecord(low["month"], low["total"] + 0.0) if low["total"] < 0 else None
    inn = MonthRecord(high["month"], high["total"] + 0.0) if high["total"] > 0 else None
    return out, inn


def _record_days(complete: pl.DataFrame) -> tuple[DayRecord | None, DayRecord | None]:
    if not complete.height:
        return None, None
    low = complete.sort(["total", "date"]).row(0, named=True)
    high = complete.sort(["total", "date"], descending=[True, False]).row(0, named=True)
    return (
        DayRecord(low["date"], low["total"]) if low["total"] < 0 else None,
        DayRecord(high["date"], high["total"]) if high["total"] > 0 else None,
    )


def _fund_records(flows: pl.DataFrame, funds: tuple[str, ...], latest: dt.date | None) -> dict[str, FundRecords | None]:
    out: dict[str, FundRecords | None] = {}
    valued = flows.filter(pl.col("usd_m").is_not_null())
    for fund in funds:
        f = valued.filter(pl.col("fund") == fund)
        if not f.height:
            out[fund] = None
            continue
        low = f.sort(["usd_m", "date"]).row(0, named=True)
        high = f.sort(["usd_m", "date"], descending=[True, False]).row(0, named=True)
        mx_out = DayRecord(low["date"], low["usd_m"]) if low["usd_m"] < 0 else None
        mx_in = DayRecord(high["date"], high["usd_m"]) if high["usd_m"] > 0 else None
        today = f.filter(pl.col("date") == latest)["usd_m"] if latest else pl.Series([], dtype=pl.Float64)
        v = today[0] if today.len() else None
        out[fund] = FundRecords(
            mx_out,
            mx_in,
            bool(mx_out and v is not None and v <= mx_out.usd_m),
            bool(mx_in and v is not None and v >= mx_in.usd_m),
        )
    return out


def _streak(complete: pl.DataFrame, size: float) -> Streak:
    totals = complete["total"].to_list()
    if not totals:
        return Streak("flat", 0, size, 0, 0)

    def run(pred) -> int:
        n = 0
        for t in reversed(totals):
            if not pred(t):
                break
            n += 1
        return n

    last = totals[-1]
    if last < 0:
        direction, n = "red", run(lambda t: t < 0)
    elif last > 0:
        direction, n = "green", run(lambda t: t > 0)
    else:
        direction, n = "flat", run(lambda t: t == 0)
    return Streak(direction, n, size, run(lambda t: t >= size), run(lambda t: t <= -size))


def _week(complete: pl.DataFrame, start: dt.date, end: dt.date) -> Week:
    w = complete.filter(pl.col("date").is_between(start, end))
    return Week(start, end, _r(float(w["total"].sum())) if w.height else None, w.height)


def _sum_by_fund(flows: pl.DataFrame, funds: tuple[str, ...]) -> dict[str, float | None]:
    sums = dict(flows.filter(pl.col("usd_m").is_not_null()).group_by("fund").agg(pl.col("usd_m").sum()).iter_rows())
    return {f: _r(sums[f]) if f in sums else None for f in funds}
