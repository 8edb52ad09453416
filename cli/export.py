"""`flowtape export` and `snapshot --format csv`: what the store holds, as files a spreadsheet or a notebook reads.

The tables are built in analytics/export.py (polars lives there); this writes them. Export only reads: the
caller opens the store read-only (the demo's temporary store excepted).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analytics.export import Table

WHAT = ("flows", "derivatives", "scenarios")
FORMATS = ("csv", "parquet")


def write(frame: Table, target: Path | None, fmt: str) -> None:
    """CSV to a file or stdout (target None); Parquet to a file only (the caller refuses it on stdout)."""
    import sys

    if fmt == "parquet":
        assert target is not None
        frame.write_parquet(target)
    elif target is None:
        sys.stdout.write(frame.write_csv())
    else:
        frame.write_csv(target)


def export_all(builders: dict[str, Callable[[], Table]], what: tuple[str, ...], out: Path | None, fmt: str) -> list[Path]:
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
