"""Scenario inputs from stored rows (polars): complete sessions per asset, the history replay,
the weekly-ledger context. Kept apart from the rules so validating a config stays light."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl

from common.calendar import end_of_day
from common.records import ASSETS

from .derivatives import Derivatives
from .frames import AssetFrames
from .scenarios import Inputs, Scenario, Transition, change_kinds, evaluate, last_week_start


def complete_totals(frames: AssetFrames, as_of: dt.date) -> list[tuple[dt.date, float]]:
    s = frames.sessions.filter((pl.col("date") <= as_of) & ~pl.col("provisional") & pl.col("total").is_not_null())
    return list(s.select("date", "total").iter_rows())


def history(
    scenarios: tuple[Scenario, ...],
    frames: dict[str, AssetFrames],
    derivatives_at: Callable[[dt.date], Derivatives | None],
    coinshares: dict[dt.date, float],
    *,
    until: dt.date,
    now: dt.datetime | None = None,
) -> tuple[Transition, ...]:
    """Evaluate at every stored BTC session up to `until` (each as of the end of its New York day, never
    after `now`) and list the state changes."""
    dates = [d for d in frames["btc"].sessions["date"].to_list() if d <= until]
    out: list[Transition] = []
    previous: dict[str, tuple[str, str]] = {}  # id -> (label, marks)
    for day in dates:
        inputs = Inputs(
            day, end_of_day(day, now), {a: complete_totals(f, day) for a, f in frames.items()}, derivatives_at(day), coinshares
        )
        for r in evaluate(scenarios, inputs):
            label = r.label
            before = previous.get(r.scenario.id)
            if before is not None and before[0] != label:
                kind = "scenario" if "scenario" in change_kinds(*before, r) else "data_health"
                out.append(Transition(day, r.scenario.id, r.scenario.name, before[0], label, kind))
            previous[r.scenario.id] = (label, r.marks)
    return tuple(out)


def coinshares_prints(store) -> dict[dt.date, float]:
    return {dt.date.fromisoformat(w): t for w, t, _, _ in store.coinshares()}


def load_inputs(
    store, frames: dict[str, AssetFrames], as_of: dt.date, now: dt.datetime, derivatives: Derivatives | None
) -> Inputs:
    return Inputs(as_of, now, {a: complete_totals(f, as_of) for a, f in frames.items()}, derivatives, coinshares_prints(store))


def weekly_ledger(inputs: Inputs) -> dict[str, Any]:
    """The context tile's weekly ledger: last full week per asset and together, and the CoinShares print."""
    start = last_week_start(inputs.as_of)
    friday = start + dt.timedelta(days=4)
    per_asset = {}
    for asset in ASSETS:
        values = [t for d, t in inputs.totals.get(asset, []) if start <= d <= friday]
        per_asset[asset] = round(sum(values), 1) if values else None
    present = [v for v in per_asset.values() if v is not None]
    return {
        "week_start": start.isoformat(),
        "week_ending": friday.isoformat(),
        "us_spot_etf_usd_m": {**per_asset, "all": round(sum(present), 1) if present else None},
        "coinshares_print_usd_m": inputs.coinshares.get(friday),
        "used_for_caution": (
            "coinshares (entered by hand)" if friday in inputs.coinshares else "us spot etf weekly sum (btc+eth+sol)"
        ),
    }
