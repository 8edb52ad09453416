"""Scenario inputs from stored rows (polars): complete sessions per asset, the history replay,
the weekly-ledger context. Kept apart from the rules so validating a config stays light."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from typing import Any, NamedTuple, cast

import polars as pl

from common.calendar import end_of_day
from common.records import ASSETS

from .derivatives import Derivatives
from .frames import AssetFrames
from .scenarios import Inputs, Scenario, ScenarioResult, Transition, change_kinds, evaluate, last_week_start


def complete_totals(frames: AssetFrames, as_of: dt.date) -> list[tuple[dt.date, float]]:
    s = frames.sessions.filter((pl.col("date") <= as_of) & ~pl.col("provisional") & pl.col("total").is_not_null())
    return list(s.select("date", "total").iter_rows())


class CompleteTotals:
    """complete_totals(frames, day) for many days from one filter of each asset's sorted frame: a day's totals are
    a prefix of the whole list (filtering once per day made the history replay O(N^2) in sessions)."""

    def __init__(self, frames: dict[str, AssetFrames]) -> None:
        self._all = {a: complete_totals(f, dt.date.max) for a, f in frames.items()}
        self._dates = {a: [d for d, _ in rows] for a, rows in self._all.items()}

    def at(self, day: dt.date) -> dict[str, list[tuple[dt.date, float]]]:
        return {a: rows[: bisect.bisect_right(self._dates[a], day)] for a, rows in self._all.items()}


def session_days(frames: dict[str, AssetFrames], until: dt.date) -> list[dt.date]:
    """The days the history is evaluated at: every stored BTC session up to `until`."""
    return [d for d in frames["btc"].sessions["date"].to_list() if d <= until]


class DayState(NamedTuple):
    """What the history keeps of one scenario on one day: its label and each condition's outcome (marks)."""

    label: str
    marks: str


def day_states(results: tuple[ScenarioResult, ...]) -> dict[str, DayState]:
    return {r.scenario.id: DayState(r.label, r.marks) for r in results}


def transitions(days: list[tuple[dt.date, dict[str, DayState]]], names: dict[str, str]) -> tuple[Transition, ...]:
    """The label changes along a sequence of (day, {scenario id: state}), oldest first, each a scenario transition
    or a data-health one (scenarios.change_kinds); within a day in the scenarios' own order (`names`, as
    configured), whatever order the states were stored in."""
    out: list[Transition] = []
    previous: dict[str, DayState] = {}
    for day, states in days:
        for sid in names:
            state = states[sid]
            before = previous.get(sid)
            if before is not None and before.label != state.label:
                # change_kinds reads only the later result's label and marks, which a DayState carries
                kinds = change_kinds(before.label, before.marks, cast(ScenarioResult, state))
                kind = "scenario" if "scenario" in kinds else "data_health"
                out.append(Transition(day, sid, names[sid], before.label, state.label, kind))
            previous[sid] = state
    return tuple(out)


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
    after `now`) and list the state changes: the straightforward full replay (analytics/cache.py computes the
    same transitions once per day and keeps them)."""
    totals = CompleteTotals(frames)
    days = [
        (day, day_states(evaluate(scenarios, Inputs(day, end_of_day(day, now), totals.at(day), derivatives_at(day), coinshares))))
        for day in session_days(frames, until)
    ]
    return transitions(days, {s.id: s.name for s in scenarios})


def coinshares_prints(store) -> dict[dt.date, float]:
    return {dt.date.fromisoformat(row.week_ending): row.total_usd_m for row in store.coinshares()}


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
