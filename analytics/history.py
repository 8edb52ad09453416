"""The flow tape's full history for one asset as of a date: every stored session, per-fund totals rows
(cumulative and month to date) and the cumulative-flow series the charts draw.

Rules shared with analytics/flows.py: only sessions dated <= as_of; totals count complete sessions only (a
provisional session is a running sum of whichever funds reported, so it is shown and marked, never summed);
a fund with no reported value in the counted sessions totals None (missing), never 0.
Frozen dataclasses of Python scalars: the UI compares them with == to decide whether to repaint.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from .frames import AssetFrames
from .views import CumulativeSeries, FundTotals, HistoryRow, TapeHistory


def _r(x: float | None) -> float | None:
    """Sums of one-decimal values carry float noise; Farside publishes one decimal."""
    return None if x is None else round(x, 1) + 0.0


def _totals(label: str, wide: pl.DataFrame, funds: tuple[str, ...]) -> FundTotals:
    """Sum each fund column over the complete rows of `wide` (date, total, provisional, one column per fund)."""
    complete = wide.filter(~pl.col("provisional") & pl.col("total").is_not_null())
    sums = complete.select(
        [pl.when(pl.col(f).count() > 0).then(pl.col(f).sum()).alias(f) for f in funds]
        + [pl.when(pl.col("total").count() > 0).then(pl.col("total").sum()).alias("total")]
    ).row(0, named=True)
    return FundTotals(
        label,
        tuple(_r(sums[f]) for f in funds),
        _r(sums["total"]),
        complete.height,
        int(wide["provisional"].sum()),
    )


def tape_history(frames: AssetFrames, as_of: dt.date) -> TapeHistory:
    sessions = frames.sessions.filter(pl.col("date") <= as_of)
    flows = frames.flows.filter((pl.col("date") <= as_of) & pl.col("fund").is_in(list(frames.funds)))
    # A fund gets a column once it has a value (a fund launched later, or listed but never reporting, has none).
    reported = set(flows.filter(pl.col("usd_m").is_not_null())["fund"].unique().to_list())
    funds = tuple(f for f in frames.funds if f in reported)
    wide = sessions.select("date", "total", "provisional")
    if funds:
        pivot = flows.filter(pl.col("fund").is_in(list(funds))).pivot(
            on="fund", index="date", values="usd_m", aggregate_function="first"
        )
        wide = wide.join(pivot, on="date", how="left")
    wide = wide.with_columns([pl.lit(None, dtype=pl.Float64).alias(f) for f in funds if f not in wide.columns])
    none_reported = pl.all_horizontal([pl.col(f).is_null() for f in funds]) if funds else pl.lit(True)
    wide = wide.with_columns(
        pl.when(pl.col("provisional") & none_reported).then(None).otherwise(pl.col("total")).alias("total")
    ).sort("date")

    rows = tuple(
        HistoryRow(r[0], tuple(r[3:]), r[1], bool(r[2])) for r in wide.select("date", "total", "provisional", *funds).iter_rows()
    )
    month = wide.filter(pl.col("date") >= as_of.replace(day=1))
    complete = wide.filter(~pl.col("provisional") & pl.col("total").is_not_null())
    running = complete.select(
        "date",
        pl.col("total").cum_sum().round(1).alias("total"),
        *[pl.col(f).cum_sum().fill_null(strategy="forward").round(1).alias(f) for f in funds],
    )
    series = CumulativeSeries(
        tuple(running["date"].to_list()),
        tuple(v + 0.0 for v in running["total"].to_list()),
        tuple(tuple(None if v is None else v + 0.0 for v in running[f].to_list()) for f in funds),
    )
    return TapeHistory(
        frames.asset,
        as_of,
        funds,
        rows,
        _totals("Cumulative", wide, funds),
        _totals(f"{as_of:%b %Y} MTD", month, funds),
        series,
    )
