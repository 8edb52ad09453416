"""The store's tables as polars frames for `flowtape export`: the stored numbers, never rescaled, each numeric
column naming its unit (`flow_usd_m` is US$ millions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import polars as pl

from common.bounds import BOUNDS
from common.records import ASSETS, TOTAL

if TYPE_CHECKING:
    from store import Store

    from .scenarios import Transition

Table = pl.DataFrame  # what cli/ handles without importing polars itself


def flows_frame(store: Store, first: dt.date | None, last: dt.date | None) -> pl.DataFrame:
    """One row per fund per session (and the session's published total as fund TOTAL, when the flows table
    does not already hold it), with the session's provisional flag, source and fetch time."""

    def within(day: str) -> bool:
        return (first is None or day >= first.isoformat()) and (last is None or day <= last.isoformat())

    # Source and fetch time have no public Store reader yet (store/sqlite.py is being reworked for named rows).
    origin = {(a, d): (s, f) for a, d, s, f in store._query("SELECT asset, date, source, fetched_at FROM sessions")}
    sessions = {(a, d): (t, p) for a, d, t, p in store.sessions() if within(d)}
    rows: list[tuple[Any, ...]] = []
    seen_total: set[tuple[str, str]] = set()
    for a, d, fund, usd_m in store.flows():
        if (a, d) in sessions:
            rows.append((a, d, fund, usd_m))
            if fund == TOTAL:
                seen_total.add((a, d))
    rows += [(a, d, TOTAL, t) for (a, d), (t, _) in sessions.items() if (a, d) not in seen_total]
    rows.sort(key=lambda r: (ASSETS.index(r[0]) if r[0] in ASSETS else len(ASSETS), r[1], r[2] == TOTAL, r[2]))
    return pl.DataFrame(
        {
            "asset": [r[0] for r in rows],
            "date": [dt.date.fromisoformat(r[1]) for r in rows],
            "fund": [r[2] for r in rows],
            "flow_usd_m": [r[3] for r in rows],
            "provisional": [sessions[(r[0], r[1])][1] for r in rows],
            "source": [origin.get((r[0], r[1]), (None, None))[0] for r in rows],
            "fetched_at": [origin.get((r[0], r[1]), (None, None))[1] for r in rows],
        },
        schema={
            "asset": pl.String,
            "date": pl.Date,
            "fund": pl.String,
            "flow_usd_m": pl.Float64,
            "provisional": pl.Boolean,
            "source": pl.String,
            "fetched_at": pl.String,
        },
    )


def derivatives_frame(store: Store, first: dt.date | None, last: dt.date | None) -> pl.DataFrame:
    """Every stored venue observation (UTC) in the range; `unit` is the bounds table's unit for the metric."""
    since = first.isoformat() if first else None
    # Not store.observations(until=...): that leaves out instruments dead by then, and an export wants them.
    end = (last + dt.timedelta(days=1)).isoformat() if last else None
    rows = [r for r in store.observations(since) if end is None or r[3] < end]
    return pl.DataFrame(
        {
            "ts_utc": [r[3] for r in rows],
            "venue": [r[0] for r in rows],
            "instrument": [r[1] for r in rows],
            "metric": [r[2] for r in rows],
            "value": [r[4] for r in rows],
            "unit": [BOUNDS[r[2]].unit if r[2] in BOUNDS else None for r in rows],
        },
        schema={
            "ts_utc": pl.String,
            "venue": pl.String,
            "instrument": pl.String,
            "metric": pl.String,
            "value": pl.Float64,
            "unit": pl.String,
        },
    )


def scenarios_frame(timeline: Iterable[Transition], first: dt.date | None, last: dt.date | None) -> pl.DataFrame:
    """Each scenario state change; `kind` data_health marks a change made by data going stale or missing."""
    rows = [t for t in timeline if (first is None or t.date >= first) and (last is None or t.date <= last)]
    return pl.DataFrame(
        {
            "date": [t.date for t in rows],
            "scenario": [t.scenario for t in rows],
            "name": [t.name for t in rows],
            "from_state": [t.before for t in rows],
            "to_state": [t.after for t in rows],
            "kind": [t.kind for t in rows],
        },
        schema={
            "date": pl.Date,
            "scenario": pl.String,
            "name": pl.String,
            "from_state": pl.String,
            "to_state": pl.String,
            "kind": pl.String,
        },
    )
