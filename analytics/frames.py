"""Store rows -> polars frames. The only place analytics touches the store (flows).

Each row is checked first (analytics/rows.py): a bad one is set aside and named in `notices`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from common.bounds import identifier
from common.records import TOTAL
from store import Store

from .rows import day, number, screen


@dataclass(frozen=True)
class AssetFrames:
    asset: str
    funds: tuple[str, ...]  # page order, as Farside shows them
    sessions: pl.DataFrame  # date, total, provisional
    flows: pl.DataFrame  # date, fund, usd_m (null = `-`)
    notices: tuple[str, ...] = ()  # bad stored rows set aside


_SESSION_SCHEMA = {"asset": pl.Utf8, "date": pl.Utf8, "total": pl.Float64, "provisional": pl.Boolean}
_FLOW_SCHEMA = {"asset": pl.Utf8, "date": pl.Utf8, "fund": pl.Utf8, "usd_m": pl.Float64}


def _usd_m(value: object, where: str) -> float | None:
    return None if value is None else number(value, where, "flow_usd_m")  # NULL is Farside's `-`


def checked_rows(
    sessions: list[tuple], flows: list[tuple], *, today: dt.date
) -> tuple[list[tuple], list[tuple], tuple[str, ...]]:
    """Sessions and flows rows with a real date (first ETF session .. tomorrow) and a bounded US$m value."""

    def session(row: tuple) -> tuple:
        asset, date, total, provisional = row
        return asset, day(date, "date", today=today), _usd_m(total, "total"), bool(provisional)

    def flow(row: tuple) -> tuple:
        asset, date, fund, usd_m = row
        return asset, day(date, "date", today=today), identifier(fund, "fund"), _usd_m(usd_m, fund)

    good_sessions, bad_sessions = screen("sessions", sessions, session, lambda r: f"{r[0]} session {r[1]}")
    good_flows, bad_flows = screen("flows", flows, flow, lambda r: f"{r[0]} {r[2]} on {r[1]}")
    return good_sessions, good_flows, bad_sessions + bad_flows


def frames_from_rows(
    asset: str, funds: list[str], sessions: list[tuple], flows: list[tuple], *, today: dt.date | None = None
) -> AssetFrames:
    """`today` bounds the dates (tomorrow at the latest); default the real UTC date."""
    sessions, flows, notices = checked_rows(sessions, flows, today=today or dt.datetime.now(dt.UTC).date())
    s = pl.DataFrame(sessions, schema={**_SESSION_SCHEMA, "date": pl.Date}, orient="row")
    f = pl.DataFrame(flows, schema={**_FLOW_SCHEMA, "date": pl.Date}, orient="row")
    f = f.filter(pl.col("fund") != TOTAL)
    known = set(funds)
    extra = sorted(set(f["fund"].unique().to_list()) - known)  # funds no longer on the page keep their history
    return AssetFrames(
        asset, tuple(funds) + tuple(extra), s.drop("asset").sort("date"), f.drop("asset").sort("date", "fund"), notices
    )


def load_asset(store: Store, asset: str) -> AssetFrames:
    # Rows the store set aside for their type join the check, which names them in the notice.
    sessions = store.sessions(asset) + store.set_aside_rows("sessions")
    flows = store.flows(asset) + store.set_aside_rows("flows")
    return frames_from_rows(asset, store.funds(asset), sessions, flows)
