"""Store rows -> polars frames. The only place analytics touches the store (flows).

Each row is checked first (analytics/rows.py): a bad one is set aside and named in `notices`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import polars as pl

from common.bounds import identifier
from common.calendar import from_iso
from common.config import FlowsConfig
from common.records import TOTAL, SourceState, source_id
from store import Store

from .preferred import FARSIDE_FRESH_S, Disagreement, prefer, series_label
from .rows import day, number, screen


@dataclass(frozen=True)
class AssetFrames:
    asset: str
    funds: tuple[str, ...]  # page order, as Farside shows them
    sessions: pl.DataFrame  # date, total, provisional
    flows: pl.DataFrame  # date, fund, usd_m (null = `-`)
    notices: tuple[str, ...] = ()  # bad stored rows set aside
    # The preferred series (analytics/preferred.py): cells (fund TOTAL: a session's total) from a source other
    # than Farside, and where two sources disagree beyond the tolerance. Empty with Farside alone.
    origins: dict[tuple[dt.date, str], str] = field(default_factory=dict)
    disagreements: tuple[Disagreement, ...] = ()

    @property
    def series(self) -> str:
        """Which series records, streaks and months use ("Farside; 3 sessions from SoSoValue")."""
        complete = self.sessions.filter(~pl.col("provisional") & pl.col("total").is_not_null())["date"].to_list()
        return series_label(self.origins, complete)


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


def load_asset(store: Store, asset: str, *, tolerance: FlowsConfig | None = None, now: dt.datetime | None = None) -> AssetFrames:
    # Rows the store set aside for their type join the check, which names them in the notice.
    sessions = store.sessions(asset) + store.set_aside_rows("sessions")
    flows = store.flows(asset) + store.set_aside_rows("flows")
    frames = frames_from_rows(asset, store.funds(asset), sessions, flows)
    others = store.source_flows(asset)
    if not others:
        return frames
    return with_other_sources(
        frames,
        [(r.source, r.asset, r.date, r.fund, r.usd_m) for r in others],
        farside_fresh=farside_fresh(store.status(source_id(asset)), now or dt.datetime.now(dt.UTC)),
        tolerance=tolerance or FlowsConfig(),
    )


def farside_fresh(status: dict, now: dt.datetime) -> bool:
    """Farside's provisional rows will still be completed: not blocked, banned or stale, and a success within
    FARSIDE_FRESH_S."""
    if status.get("state") in (SourceState.BLOCKED, SourceState.BANNED, SourceState.STALE):
        return False
    last = from_iso(status.get("last_success"))
    return last is not None and (now - last).total_seconds() <= FARSIDE_FRESH_S


def with_other_sources(
    frames: AssetFrames, rows: list[tuple], *, farside_fresh: bool, tolerance: FlowsConfig, today: dt.date | None = None
) -> AssetFrames:
    """`frames` as the preferred series over Farside and the other sources' (source, asset, date, fund, usd_m)
    rows; each row is checked as Farside's are (a bad one is set aside and named in `notices`)."""
    today = today or dt.datetime.now(dt.UTC).date()

    def other(row: tuple) -> tuple:
        source, asset, date, fund, usd_m = row
        return identifier(source, "source"), day(date, "date", today=today), identifier(fund, "fund"), _usd_m(usd_m, fund)

    good, bad = screen("source_flows", rows, other, lambda r: f"{r[0]} {r[1]} {r[3]} on {r[2]}")
    series = prefer(frames.sessions, frames.flows, good, farside_fresh=farside_fresh, tolerance=tolerance)
    if series is None:
        return replace(frames, notices=frames.notices + bad)
    return replace(
        frames,
        funds=frames.funds + series.extra_funds,
        sessions=series.sessions,
        flows=series.flows,
        notices=frames.notices + bad,
        origins=series.origins,
        disagreements=series.disagreements,
    )
