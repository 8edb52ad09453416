"""One flow series per asset from several sources (issue 16): Farside first, then SoSoValue, then issuer-derived.

The rules, per (asset, date):
- A complete Farside session is taken whole (its Total and its cells, `-` included): a published final figure
  stays the figure, even while Farside is blocked now.
- A provisional Farside session while Farside is fresh keeps Farside's values; a fund Farside has not reported
  yet is filled from the next source (marked), and the running total grows by what was filled. It stays
  provisional: Farside will complete it.
- Otherwise (no Farside session, or a provisional one while Farside is stale: blocked, banned, stale or no
  success for FARSIDE_FRESH_S) the session comes from the other sources: each cell is Farside's value where it
  has one, else the first source by PREFERENCE that has one; the total is the first source's TOTAL (complete),
  or, when no source has a TOTAL for that day, the sum of the cells (provisional).
Every cell not from Farside carries its origin (FlowSeries.origins; fund TOTAL for the session total). Two sources
whose figures for one cell differ beyond the [flows] tolerance (common/config.FlowsConfig) are a Disagreement.
With Farside alone nothing changes: the frames are returned as they came.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from common.config import FlowsConfig
from common.records import TOTAL

FARSIDE = "farside"
SOSOVALUE = "sosovalue"
NAMES = {FARSIDE: "Farside", SOSOVALUE: "SoSoValue"}
FARSIDE_FRESH_S = 36 * 3600.0  # no success for this long: Farside's provisional rows will not be completed


def rank(source: str) -> tuple[int, str]:
    """Preference order: Farside, SoSoValue, then the issuers' files (issuer_*) by name, then anything else."""
    if source == FARSIDE:
        return 0, source
    if source == SOSOVALUE:
        return 1, source
    return (2 if source.startswith("issuer_") else 3), source


def name(source: str) -> str:
    if source in NAMES:
        return NAMES[source]
    if source.startswith("issuer_"):
        return f"issuer-derived ({source.removeprefix('issuer_')})"
    return source


@dataclass(frozen=True)
class Disagreement:
    date: dt.date
    fund: str  # or TOTAL
    shown_source: str  # the preferred figure's source
    shown_usd_m: float
    other_source: str
    other_usd_m: float


@dataclass(frozen=True)
class FlowSeries:
    sessions: pl.DataFrame  # date, total, provisional (as AssetFrames.sessions)
    flows: pl.DataFrame  # date, fund, usd_m
    origins: dict[tuple[dt.date, str], str]  # cells (and TOTALs) not from Farside -> their source
    disagreements: tuple[Disagreement, ...]
    extra_funds: tuple[str, ...]  # funds only the other sources name


def prefer(
    sessions: pl.DataFrame,
    flows: pl.DataFrame,
    others: Iterable[tuple[str, dt.date, str, float | None]],
    *,
    farside_fresh: bool,
    tolerance: FlowsConfig,
) -> FlowSeries | None:
    """The preferred series from Farside's frames and the other sources' (source, date, fund, usd_m) rows;
    None when there are no other rows (Farside's frames stand as they are)."""
    by_cell: dict[tuple[dt.date, str], dict[str, float]] = {}
    for source, day, fund, value in others:
        if value is not None:
            by_cell.setdefault((day, fund), {})[source] = value
    if not by_cell:
        return None
    farside_sessions = {d: (t, bool(p)) for d, t, p in sessions.select("date", "total", "provisional").iter_rows()}
    cells: dict[tuple[dt.date, str], float | None] = {(d, f): v for d, f, v in flows.iter_rows()}
    out_sessions = dict(farside_sessions)
    origins: dict[tuple[dt.date, str], str] = {}
    funds_of: dict[dt.date, set[str]] = {}
    for day, fund in by_cell:
        if fund != TOTAL:
            funds_of.setdefault(day, set()).add(fund)

    def best(day: dt.date, fund: str) -> tuple[str, float] | None:
        found = by_cell.get((day, fund))
        return min(found.items(), key=lambda kv: rank(kv[0])) if found else None

    for day in sorted({d for d, _ in by_cell}):
        held = farside_sessions.get(day)
        if held is not None and not held[1]:
            continue  # a complete Farside session is taken whole
        filled = 0.0
        for fund in sorted(funds_of.get(day, ())):
            if cells.get((day, fund)) is not None:
                continue
            pick = best(day, fund)
            if pick is not None:
                cells[(day, fund)] = pick[1]
                origins[(day, fund)] = pick[0]
                filled += pick[1]
        if held is not None and farside_fresh:
            total = held[0]
            out_sessions[day] = ((total or 0.0) + filled if filled or total is not None else None, True)
            continue
        total_pick = best(day, TOTAL)
        if total_pick is not None:
            out_sessions[day] = (total_pick[1], False)
            origins[(day, TOTAL)] = total_pick[0]
        else:
            values = [v for (d, _), v in cells.items() if d == day and v is not None]
            out_sessions[day] = (sum(values) if values else None, True)
            if values:
                origins[(day, TOTAL)] = min((origins[k] for k in origins if k[0] == day), key=rank, default=FARSIDE)
    known = set(flows["fund"].unique().to_list())
    extra = tuple(sorted({f for fs in funds_of.values() for f in fs} - known))
    s = pl.DataFrame(
        [(d, t, p) for d, (t, p) in sorted(out_sessions.items())],
        schema={"date": pl.Date, "total": pl.Float64, "provisional": pl.Boolean},
        orient="row",
    )
    f = pl.DataFrame(
        [(d, fund, v) for (d, fund), v in sorted(cells.items())],
        schema={"date": pl.Date, "fund": pl.Utf8, "usd_m": pl.Float64},
        orient="row",
    )
    return FlowSeries(s, f, origins, _disagreements(by_cell, farside_sessions, cells, origins, tolerance), extra)


def _disagreements(
    by_cell: dict[tuple[dt.date, str], dict[str, float]],
    farside_sessions: dict[dt.date, tuple[float | None, bool]],
    cells: dict[tuple[dt.date, str], float | None],
    origins: dict[tuple[dt.date, str], str],
    tolerance: FlowsConfig,
) -> tuple[Disagreement, ...]:
    """Each cell's shown figure against every other source's figure for it (Farside's provisional totals are
    running sums, not figures: left out)."""
    found = []
    for (day, fund), values in sorted(by_cell.items()):
        every = dict(values)
        if fund == TOTAL:
            held = farside_sessions.get(day)
            if held is not None and held[0] is not None and not held[1]:
                every[FARSIDE] = held[0]
        elif (day, fund) not in origins and cells.get((day, fund)) is not None:
            every[FARSIDE] = cells[(day, fund)]  # type: ignore[assignment]  # checked not None
        shown_source = min(every, key=rank)
        shown = every[shown_source]
        for source, value in sorted(every.items(), key=lambda kv: rank(kv[0])):
            if source != shown_source and tolerance.disagree(shown, value):
                found.append(Disagreement(day, fund, shown_source, shown, source, value))
    return tuple(found)


def series_label(origins: dict[tuple[dt.date, str], str], complete_days: Iterable[dt.date]) -> str:
    """Which series the records, streaks and months use: "Farside", or "Farside; 3 sessions from SoSoValue"."""
    days = set(complete_days)
    counts: dict[str, int] = {}
    for (day, fund), source in origins.items():
        if fund == TOTAL and day in days:
            counts[source] = counts.get(source, 0) + 1
    parts = [f"{n} session{'s' if n != 1 else ''} from {name(s)}" for s, n in sorted(counts.items(), key=lambda kv: rank(kv[0]))]
    return "; ".join(["Farside", *parts])
