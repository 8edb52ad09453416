"""Farside fetchers: one poll of one asset = (history backfill while the store lacks it) + recent table.

A poll is bounded by the source's deadline, parses off the event loop, validates the table's shape
against what is stored (a page that would shrink history is refused), writes one transaction, and
records the outcome in the source status. A failure never touches stored history.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random

import httpx

from common.calendar import is_trading_day, new_york_today, previous_trading_day
from common.config import SourceConfig
from common.records import TOTAL, FlowTable, source_id
from store import Store

from . import registry
from .farside_parse import ParseError, parse_farside
from .http import FetchError, fetch_text
from .polling import BodyResult, PollOutcome, run_poll

# The pages are declared with the sources in the registry: (recent table, full history). The SOL history
# page is unverified upstream: a 404 just means "no history page".
RECENT_PATHS = {s.asset: s.endpoints[0] for s in registry.REGISTRY if s.kind == registry.FLOWS and s.asset}
HISTORY_PATHS = {s.asset: s.endpoints[1] for s in registry.REGISTRY if s.kind == registry.FLOWS and s.asset}


def history_key(asset: str) -> str:
    return f"farside_history:{asset}"


# A renamed fund: the new ticker repeats the old one's flows exactly. Not checked between two columns of
# one page: the demo's illustrative HODL and BTC columns are equal on all 34 sessions.
SAME_FUND_MIN_SESSIONS = 3  # identical non-zero flows on this many sessions: one fund under two tickers


async def poll_farside(
    client: httpx.AsyncClient,
    store: Store,
    cfg: SourceConfig,
    asset: str,
    *,
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> PollOutcome:
    """Poll one asset once and persist the outcome. Never raises for upstream or parse faults."""
    now = now or dt.datetime.now(dt.UTC)
    return await run_poll(store, source_id(asset), cfg, lambda: _poll(client, store, cfg, asset, now), now=now, rng=rng)


async def _fetch_table(client: httpx.AsyncClient, url: str, asset: str, cfg: SourceConfig, now: dt.datetime) -> FlowTable:
    text = await fetch_text(client, url, deadline=cfg.deadline, now=now)
    return await asyncio.to_thread(parse_farside, text, asset, today=new_york_today(now))


async def _poll(client, store: Store, cfg: SourceConfig, asset: str, now: dt.datetime) -> BodyResult:
    written = revisions = 0
    notes: list[str] = []
    if store.meta(history_key(asset)) is None:
        try:
            history = await _fetch_table(client, cfg.base_url + HISTORY_PATHS[asset], asset, cfg, now)
        except FetchError as exc:
            if str(exc) == "HTTP 404":
                store.set_meta(history_key(asset), "none")  # no all-data page for this asset: recent only
            else:
                notes.append(f"history backfill failed ({exc}); will retry")
        else:
            notes.extend(history.warnings)
            result = await _store_table(store, history, now)
            written, revisions = written + result[0], revisions + result[1]
            store.set_meta(history_key(asset), "complete")
    table = await _fetch_table(client, cfg.base_url + RECENT_PATHS[asset], asset, cfg, now)
    notes.extend(table.warnings)
    notes.extend(renamed_funds(store, table))
    result = await _store_table(store, table, now)
    written, revisions = written + result[0], revisions + result[1]
    if store.meta(history_key(asset)) == "complete":
        notes.extend(footer_mismatches(store, table))
    stale = _staleness(table, now)
    if stale:
        notes.insert(0, stale)
    return BodyResult(written, revisions, "; ".join(notes) or None, stale=bool(stale))


async def _store_table(store: Store, table: FlowTable, now: dt.datetime) -> tuple[int, int]:
    if table.rows:
        first, last = table.rows[0].date.isoformat(), table.rows[-1].date.isoformat()
        held = store.session_count(table.asset, first, last)
        if held > len(table.rows):
            raise ParseError(f"page has {len(table.rows)} sessions from {first} to {last}, the store holds {held}: refused")
    result = await asyncio.to_thread(store.write_table, table, source=source_id(table.asset), fetched_at=now)
    return result.sessions, result.revisions


def _staleness(table: FlowTable, now: dt.datetime) -> str | None:
    """A successful fetch whose newest row is more than one session behind is suspect, not ok."""
    if not table.rows:
        return "newest row: none (empty table)"
    today = new_york_today(now)
    expected = today if is_trading_day(today) else previous_trading_day(today)
    newest = table.rows[-1].date
    if newest < previous_trading_day(expected):
        return f"newest row is {newest.isoformat()}, expected {previous_trading_day(expected).isoformat()} or later"
    return None


def renamed_funds(store: Store, table: FlowTable) -> list[str]:
    """A ticker new to the store whose flows repeat a stored fund missing from the page: the fund was
    renamed, and both names now hold the same sessions. Said in the status (the page is still what
    Farside publishes; refusing it would stop the source for weeks, until the old sessions leave the page)."""
    held = set(store.funds(table.asset))
    new, gone = [t for t in table.tickers if t not in held], held - set(table.tickers)
    if not new or not gone or not table.rows:
        return []
    first = table.rows[0].date.isoformat()
    stored: dict[str, dict[dt.date, float | None]] = {}
    for _, day, fund, value in store.flows(table.asset):
        if fund in gone and day >= first:
            stored.setdefault(fund, {})[dt.date.fromisoformat(day)] = value
    problems = []
    for ticker in new:
        page = {r.date: r.funds.get(ticker) for r in table.rows}
        for old, series in sorted(stored.items()):
            if same_fund(page, series) is not None:
                problems.append(f"{ticker} repeats stored {old} (renamed?): per-fund sums count it twice")
    return problems


def same_fund(a: dict[dt.date, float | None], b: dict[dt.date, float | None]) -> dt.date | None:
    """The first of SAME_FUND_MIN_SESSIONS+ sessions on which two series carry the same non-zero flow
    with no session where both are non-zero and differ (one fund under two tickers), else None."""
    shared = [d for d in sorted(a.keys() & b.keys()) if a[d] and b[d]]
    if len(shared) < SAME_FUND_MIN_SESSIONS or any(a[d] != b[d] for d in shared):
        return None
    return shared[0]


def footer_mismatches(store: Store, table: FlowTable) -> list[str]:
    """Compare the page's all-history footer (Total/Maximum/Minimum) with the store's own aggregates."""
    if not table.footer:
        return []
    by_fund: dict[str, list[float]] = {}
    for _, _, fund, value in store.flows(table.asset):
        if value is not None:
            by_fund.setdefault(fund, []).append(value)
    by_fund[TOTAL] = [t for _, _, t, _ in store.sessions(table.asset) if t is not None]
    problems = []
    for label, values in table.footer.items():
        for fund, published in values.items():
            ours = by_fund.get(fund)
            if published is None or not ours:
                continue
            if label == "Total":
                mine, tol = sum(ours), 1.0 + 0.15 * math.sqrt(len(ours))  # footer totals are whole millions
            elif label == "Maximum":
                mine, tol = max(ours), 0.051
            elif label == "Minimum":
                mine, tol = min(ours), 0.051
            else:
                continue
            if abs(mine - published) > tol:
                problems.append(f"footer {label} {fund} {published:,.1f} vs stored {mine:,.1f}")
    if problems:
        extra = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        return ["cross-check: " + "; ".join(problems[:3]) + extra]
    return []
