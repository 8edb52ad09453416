"""Issuer holdings files: one poll of one issuer = each of its funds' current file (+ iShares' previous-session
file by `asOfDate` when the store lacks it) -> holdings kept in the store's meta -> issuer-derived flows written to
`source_flows` under the source id (`issuer_ishares`), never into Farside's `flows`.

A poll parses every file before it writes anything; a refused file fails the poll (the source's state says why)
and leaves what is stored as it was. Funds no real file covers (BITB, ARKB, BTCO, ...) are not polled: they stay
missing, never 0.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from common.bounds import BoundsError, check
from common.calendar import NEW_YORK, is_trading_day, new_york_today, previous_trading_day
from common.config import SourceConfig
from store import Store

from . import registry
from .http import BlockedError, FetchError, fetch_text, looks_like_challenge
from .issuers_derive import (
    DAILY_CLOSE,
    SPOT_1600,
    Calibration,
    DerivedFlow,
    Price,
    calibrate_offset,
    derive_flows,
    price_near_close,
    shift,
)
from .issuers_parse import Holdings, IssuerError, parse_ishares_csv, parse_vaneck_json
from .polling import BodyResult, PollOutcome, run_poll

KEEP_FILES = 60  # holdings kept per fund (about three months of sessions): the calibration's window
BACKFILL_SESSIONS = 10  # past files asked for on a fund's first poll (iShares' asOfDate), one request each
SPOT_VENUE, PRODUCT = "coinbase_spot", "BTC-USD"


def _vaneck(text: str, fund: str, asset: str, *, today: dt.date) -> Holdings:
    from .venues.common import loads  # names its DataErrors (NaN, 5,000-digit integers, depth)

    try:
        obj = loads(text)
    except IssuerError:
        raise
    except ValueError as exc:  # VenueDataError, or a bare ValueError from Python's integer-digit limit
        raise IssuerError(f"{fund} statistics: {exc}") from None
    return parse_vaneck_json(obj, fund, asset, today=today)


@dataclass(frozen=True)
class IssuerFile:
    fund: str
    asset: str
    parse: Callable[..., Holdings]  # (text, fund, asset, *, today) -> Holdings
    dated: bool = False  # the same file for a past day with &asOfDate=YYYYMMDD (iShares)


# Per registry entry, its funds in the order of the entry's endpoints (tests/sources/test_issuers.py keeps them equal).
FILES: dict[str, tuple[IssuerFile, ...]] = {
    "issuer_ishares": (
        IssuerFile("IBIT", "btc", parse_ishares_csv, dated=True),
        IssuerFile("ETHA", "eth", parse_ishares_csv, dated=True),
    ),
    "issuer_vaneck": (IssuerFile("HODL", "btc", _vaneck), IssuerFile("ETHV", "eth", _vaneck)),
}


def history_key(source: str, fund: str) -> str:
    return f"issuer_holdings:{source}:{fund}"


def load_history(store: Store, source: str, fund: str, asset: str) -> list[Holdings]:
    """The holdings this source's polls kept for `fund`, oldest first (our own JSON; unreadable -> none)."""
    try:
        rows = json.loads(store.meta(history_key(source, fund)) or "[]")
        return [Holdings(fund, asset, dt.date.fromisoformat(d), float(c), s, n) for d, c, s, n in rows]
    except (ValueError, TypeError):
        return []


def window(history: list[Holdings]) -> list[Holdings]:
    """One file a date (the later of `history` wins: a re-published file replaces its day), oldest first,
    the newest KEEP_FILES."""
    return sorted({h.as_of: h for h in history}.values(), key=lambda h: h.as_of)[-KEEP_FILES:]


def reference_prices(store: Store, days: list[dt.date]) -> dict[dt.date, Price]:
    """BTC's reference price per session: the stored Coinbase trade nearest 16:00 New York, else the stored
    Coinbase daily close (issuers_derive says why in that order)."""
    closes = {row.day: row.close for row in store.candles(PRODUCT)}
    out = {}
    for day in days:
        target = dt.datetime.combine(day, dt.time(16), NEW_YORK).astimezone(dt.UTC)
        since, until = ((target + k * dt.timedelta(minutes=15)).isoformat(timespec="seconds") for k in (-1, 1))
        trades = [
            (dt.datetime.fromisoformat(row.ts), row.value)
            for row in store.observations(since, until, venues=(SPOT_VENUE,))
            if row.instrument == PRODUCT and row.metric == "last"
        ]
        spot = price_near_close(trades, day)
        if spot is not None:
            out[day] = Price(spot, SPOT_1600)
        elif day.isoformat() in closes:
            out[day] = Price(closes[day.isoformat()], DAILY_CLOSE)
    return out


def farside_flows(store: Store, asset: str, fund: str) -> dict[dt.date, float | None]:
    return {dt.date.fromisoformat(c.date): c.usd_m for c in store.flows(asset) if c.fund == fund}


async def poll_issuer(
    client: httpx.AsyncClient,
    store: Store,
    cfg: SourceConfig,
    source: str,
    *,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> PollOutcome:
    """Poll one issuer's files once and persist the outcome. Never raises for upstream or parse faults."""
    return await run_poll(store, source, cfg, lambda: _poll(client, store, cfg, source, now), now=now, rng=rng)


async def _fetch(client: httpx.AsyncClient, url: str, f: IssuerFile, cfg: SourceConfig, now: dt.datetime) -> Holdings:
    text = await fetch_text(client, url, deadline=cfg.deadline, now=now)
    if looks_like_challenge(text):
        raise BlockedError(f"{f.fund}: bot challenge instead of the holdings file")
    return await asyncio.to_thread(f.parse, text, f.fund, f.asset, today=new_york_today(now))


async def _poll(client: httpx.AsyncClient, store: Store, cfg: SourceConfig, source: str, now: dt.datetime) -> BodyResult:
    spec = registry.spec(source)
    notes: list[str] = []
    held: list[tuple[IssuerFile, list[Holdings]]] = []
    for f, path in zip(FILES[source], spec.endpoints, strict=True):
        url = cfg.base_url + path
        current = await _fetch(client, url, f, cfg, now)
        stored = load_history(store, source, f.fund, f.asset)
        history = [*stored, current]
        if f.dated:
            # Past files by date: BACKFILL_SESSIONS on a fund's first poll (enough to calibrate its offset at
            # once), then only the previous session's when a poll missed it.
            held_days = {h.as_of for h in history}
            wanted = sessions_before(current.as_of, 1 if stored else BACKFILL_SESSIONS)
            for day in (d for d in wanted if d not in held_days):
                try:
                    past = await _fetch(client, f"{url}&asOfDate={day:%Y%m%d}", f, cfg, now)
                except (FetchError, IssuerError) as exc:
                    notes.append(f"{f.fund} {day.isoformat()} file: {exc}")
                    break  # a host failing on past files is not asked again this poll
                if past.as_of != day:
                    notes.append(f"{f.fund}: asked for the {day.isoformat()} file, got {past.as_of.isoformat()}'s")
                    break
                history.append(past)
        held.append((f, history))
    # Derive everything before writing anything: a file whose flow breaks physics is refused, never kept.
    plans = []
    stale: list[str] = []
    for f, history in held:
        kept = window(history)
        late = staleness(kept[-1].as_of, now)
        if late:
            stale.append(f"{f.fund}: {late}")
        prices = reference_prices(store, [h.as_of for h in kept]) if f.asset == "btc" else {}
        flows = derive_flows(kept, prices)
        cal = calibrate_offset(farside_flows(store, f.asset, f.fund), {d.date: d.usd_m for d in flows})
        for d in flows:
            try:
                check("flow_usd_m", d.usd_m, f"{f.fund} issuer-derived flow {d.date.isoformat()}")
            except BoundsError as exc:
                raise IssuerError(str(exc)) from None
        notes.append(describe(f.fund, flows, cal))
        plans.append((f, kept, [(shift(d.date, cal.offset), d.fund, d.usd_m) for d in flows]))
    written = 0
    for f, kept, rows in plans:
        store.set_meta(
            history_key(source, f.fund), json.dumps([[h.as_of.isoformat(), h.coins, h.shares, h.net_assets_usd] for h in kept])
        )
        written += await asyncio.to_thread(store.write_source_flows, source, f.asset, rows, fetched_at=now)
    return BodyResult(written, 0, "; ".join(stale + notes) or None, stale=bool(stale))


def sessions_before(day: dt.date, n: int) -> list[dt.date]:
    """The `n` sessions before `day`, newest first."""
    out: list[dt.date] = []
    for _ in range(n):
        day = previous_trading_day(day)
        out.append(day)
    return out


def describe(fund: str, flows: list[DerivedFlow], cal: Calibration) -> str:
    """One fund's line in the source status: how many sessions, by which method, at which offset."""
    if not flows:
        return f"{fund}: no session yet (needs two consecutive sessions' files)"
    methods = sorted({d.method for d in flows})
    return f"{fund}: {len(flows)} sessions ({', '.join(methods)}), {cal.describe()}"


def staleness(newest: dt.date, now: dt.datetime) -> str | None:
    """A file more than one session behind the last finished session is suspect, not ok (the same rule as Farside)."""
    today = new_york_today(now)
    expected = today if is_trading_day(today) else previous_trading_day(today)
    if newest < previous_trading_day(expected):
        return f"newest file is {newest.isoformat()}, expected {previous_trading_day(expected).isoformat()} or later"
    return None
