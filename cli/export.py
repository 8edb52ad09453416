"""`flowtape export` and `snapshot --format csv`: what the store holds, as tables a spreadsheet or a notebook reads.

Exported numbers are the stored numbers, never rescaled; each numeric column names its unit (`flow_usd_m` is
US$ millions). Export only reads: the caller opens the store read-only (the demo's temporary store excepted).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.bounds import BOUNDS
from common.records import ASSETS, TOTAL

if TYPE_CHECKING:
    import polars as pl

    from analytics.scenarios import Transition
    from store import Store

WHAT = ("flows", "derivatives", "scenarios")
FORMATS = ("csv", "parquet")


def flows_frame(store: Store, first: dt.date | None, last: dt.date | None) -> pl.DataFrame:
    """One row per fund per session (and the session's published total as fund TOTAL, when the flows table
    does not already hold it), with the session's provisional flag, source and fetch time."""
    import polars as pl

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
    import polars as pl

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
    import polars as pl

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


def write(frame: pl.DataFrame, target: Path | None, fmt: str) -> None:
    """CSV to a file or stdout (target None); Parquet to a file only (the caller refuses it on stdout)."""
    import sys

    if fmt == "parquet":
        assert target is not None
        frame.write_parquet(target)
    elif target is None:
        sys.stdout.write(frame.write_csv())
    else:
        frame.write_csv(target)


def export_all(builders: dict[str, Callable[[], pl.DataFrame]], what: tuple[str, ...], out: Path | None, fmt: str) -> list[Path]:
    """Write each table asked for: one file (or stdout) for one table, `<out>/<table>.<fmt>` for several."""
    if len(what) == 1 and (out is None or not out.is_dir()):
        write(builders[what[0]](), out, fmt)
        return [out] if out else []
    assert out is not None
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in what:
        target = out / f"{name}.{fmt}"
        write(builders[name](), target, fmt)
        written.append(target)
    return written


SNAPSHOT_COLUMNS = ("section", "asset", "item", "value", "unit", "date", "note")


def snapshot_rows(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The snapshot as one flat table a trader pastes into a sheet, one figure per row: per asset the as-of
    session's flow per fund and its total, then the headline figures (week, month, record, streak), the
    derivatives headline and each scenario's state. Columns: SNAPSHOT_COLUMNS."""
    rows: list[tuple[Any, ...]] = []
    for asset, a in (doc.get("assets") or {}).items():
        if not a:
            continue
        latest = a.get("latest")
        if latest:
            note = "provisional" if latest["provisional"] else ""
            for fund, usd_m in latest["funds"].items():
                rows.append(("flows", asset, fund, usd_m, "US$m", latest["date"], note))
            rows.append(("flows", asset, "Total", latest["total_usd_m"], "US$m", latest["date"], note))
        wtd, last, mtd = a["week_to_date"], a["last_week"], a["month_to_date"]
        rows += [
            ("headline", asset, "week to date", wtd["total_usd_m"], "US$m", wtd["start"], f"{wtd['sessions']} sessions"),
            ("headline", asset, "last week", last["total_usd_m"], "US$m", last["start"], f"{last['sessions']} sessions"),
            ("headline", asset, "month to date", mtd["total_usd_m"], "US$m", mtd["month"], f"{mtd['sessions']} sessions"),
            ("headline", asset, "month-end projection", mtd["projected_usd_m"], "US$m", mtd["month"], "not data"),
            ("headline", asset, "cumulative", a["cumulative_usd_m"], "US$m", a["latest_complete_date"], ""),
        ]
        for label, key in (("record outflow day", "record_outflow_day"), ("record inflow day", "record_inflow_day")):
            if rec := a.get(key):
                rows.append(("headline", asset, label, rec["total_usd_m"], "US$m", rec["date"], ""))
        streak = a["streak"]
        rows.append(
            ("headline", asset, f"{streak['direction']} streak", streak["sessions"], "sessions", a["latest_complete_date"], "")
        )
    d = doc.get("derivatives")
    if d:
        rows += [
            ("derivatives", "btc", "3-month basis, annualized", d["basis_3m"]["headline_pct"], "%", d["as_of"], ""),
            (
                "derivatives",
                "btc",
                "funding, OI-weighted, annualized",
                d["funding"]["oi_weighted_annualized_pct"],
                "%",
                d["as_of"],
                "",
            ),
            ("derivatives", "btc", "open interest offshore", d["open_interest"]["offshore_usd"], "US$", d["as_of"], ""),
            ("derivatives", "btc", "open interest trend", d["open_interest"]["trend"], "", d["as_of"], ""),
        ]
    for s in doc.get("scenarios") or ():
        rows.append(("scenarios", "", s["name"], s["label"], "", doc["as_of"], s.get("data_health") or ""))
    return rows


def snapshot_csv(doc: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SNAPSHOT_COLUMNS)
    w.writerows(("" if v is None else v for v in row) for row in snapshot_rows(doc))
    return buf.getvalue()
