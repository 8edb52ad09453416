"""SoSoValue OpenAPI: the second, sanctioned route to US spot ETF flows (keyed, optional; issue 16).

`POST /openapi/v2/etf/currentEtfDataMetrics {"type": "us-btc-spot"}` gives each fund's latest-day net inflow and
net assets, every figure wrapped as `{"value": <JSON number, USD>, "lastUpdateDate": "YYYY-MM-DD"}` (the docs'
sample; a per-fund `status` may ride along); `POST /openapi/v2/etf/historicalInflowChart` gives about 300 days of the
aggregate (`data.list[]` of `date`, `totalNetInflow` in USD, ...), stored as fund TOTAL. Values are stored in US$
millions in `source_flows` under source "sosovalue"; Farside's own tables are never touched.

The key travels in the `x-soso-api-key` header only: never in a URL, a message, a log line or the status.
Limits (free plan): 20 calls a minute and 1,000 a month per key. One poll makes one call per ETF type, spaced
CALL_SPACING_S apart, plus one history call per type once a New York day. HTTP 429, or a body with code 42901,
is the RATE_LIMITED state until its `retry_after` (sources/http.py reads the body's `details.retry_after`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import random
import re
from dataclasses import dataclass
from typing import Any

import httpx

from common.bounds import check, check_day, identifier, shown
from common.calendar import is_trading_day, new_york_today, previous_trading_day
from common.config import KEY_HELP, FlowsConfig, SourceConfig
from common.records import TOTAL, DataError
from common.sanitize import clean
from store import Store

from .http import RateLimitedError, body_retry_after, fetch_text, parse_retry_after
from .polling import BodyResult, PollOutcome, run_poll

SOURCE = "sosovalue"
CURRENT_PATH = "/openapi/v2/etf/currentEtfDataMetrics"
HISTORY_PATH = "/openapi/v2/etf/historicalInflowChart"
KEY_HEADER = "x-soso-api-key"
# The ETF types SoSoValue names; SOL is offered on newer plans only ("where offered": a refusal is a note).
TYPES = {"btc": "us-btc-spot", "eth": "us-eth-spot", "sol": "us-sol-spot"}
RATE_LIMITED_CODE = 42901
CALL_SPACING_S = 3.1  # 20 calls a minute per key, with a margin


def history_key(asset: str) -> str:
    return f"sosovalue_history:{asset}"


class SosoValueError(DataError):
    """A SoSoValue body that cannot be used; the message names the field."""


@dataclass(frozen=True)
class FundFigure:
    fund: str  # ticker, or TOTAL for all funds
    date: dt.date  # the session the figure belongs to (its lastUpdateDate)
    net_inflow_usd_m: float | None  # None: no figure
    net_assets_usd: float | None


def _doc(text: str, now: dt.datetime, secret: str | None = None) -> dict[str, Any]:
    """The `data` object of a success body; a rate-limit body raises RateLimitedError, any other code a named error.
    An upstream message that echoes the key (`secret`) says [key] instead."""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise SosoValueError("body nests too deeply") from None
    except ValueError:
        raise SosoValueError("body is not JSON") from None
    if not isinstance(doc, dict):
        raise SosoValueError(f"body: expected an object, got {type(doc).__name__}")
    code = doc.get("code")
    if code == RATE_LIMITED_CODE:
        raise RateLimitedError(f"code {RATE_LIMITED_CODE} rate limited", parse_retry_after(body_retry_after(text), now))
    if code != 0 or isinstance(code, bool):
        message = doc.get("msg") or doc.get("message")
        if isinstance(message, str) and secret:
            message = message.replace(secret, "[key]")
        said = f": {clean(message, max_len=80)}" if isinstance(message, str) else ""
        raise SosoValueError(f"code {shown(code)}{said}")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise SosoValueError(f"data: expected an object, got {shown(data)}")
    return data


# A plain decimal (what a JSON number prints as, without exponent): the documented samples carry JSON numbers, but
# public clients of the same API type these fields as strings, and no live capture settles it; so a string holding
# exactly a plain decimal is read as that number, and anything else in a string (exponent, spaces, "NaN") is refused.
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,20})?")


def _usd(value: object, where: str) -> float | None:
    """A number of USD (None stays None): a JSON number, or a string holding a plain decimal (see _DECIMAL)."""
    if value is None:
        return None
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SosoValueError(f"{where}: expected a number of USD, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise SosoValueError(f"{where}: {shown(value)} is not a finite number") from None
    if not math.isfinite(number):
        raise SosoValueError(f"{where}: {shown(value)} is not a finite number")
    return number


def _day(value: object, where: str, today: dt.date) -> dt.date:
    if not isinstance(value, str) or len(value) != 10:
        raise SosoValueError(f"{where}: expected a date YYYY-MM-DD, got {shown(value)}")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise SosoValueError(f"{where}: expected a date YYYY-MM-DD, got {shown(value)}") from None
    return check_day(day, where, today=today)


def _usd_m(usd: float | None, where: str) -> float | None:
    return None if usd is None else round(check("flow_usd_m", usd / 1e6, where), 6)


def _wrapped(parent: dict[str, Any], key: str, where: str, today: dt.date) -> tuple[float | None, dt.date | None]:
    """A `{"value": ..., "lastUpdateDate": ...}` figure: (USD or None, its date or None when absent)."""
    box = parent.get(key)
    if box is None:
        return None, None
    if not isinstance(box, dict):
        raise SosoValueError(f"{where}.{key}: expected an object with value and lastUpdateDate, got {shown(box)}")
    value = _usd(box.get("value"), f"{where}.{key}.value")
    day = box.get("lastUpdateDate")
    return value, (None if day is None else _day(day, f"{where}.{key}.lastUpdateDate", today))


def parse_current(text: str, asset: str, *, today: dt.date, now: dt.datetime, secret: str | None = None) -> list[FundFigure]:
    """currentEtfDataMetrics -> one figure per fund (`data.list[]`) and the aggregate as TOTAL."""
    data = _doc(text, now, secret)
    figures: list[FundFigure] = []

    def figure(parent: dict[str, Any], fund: str, where: str, inflow_key: str, assets_key: str) -> None:
        inflow, day = _wrapped(parent, inflow_key, where, today)
        assets, assets_day = _wrapped(parent, assets_key, where, today)
        day = day or assets_day
        if day is None:
            return  # no dated figure at all: nothing to store
        net_assets = None if assets is None else check("etf_net_assets_usd", assets, f"{where}.{assets_key}.value")
        figures.append(FundFigure(fund, day, _usd_m(inflow, f"{asset} {fund} {day} net inflow"), net_assets))

    figure(data, TOTAL, "data", "dailyNetInflow", "totalNetAssets")
    funds = data.get("list", [])
    if not isinstance(funds, list):
        raise SosoValueError(f"data.list: expected a list of funds, got {shown(funds)}")
    if len(funds) > 40:  # the bound of funds_per_table; a page of hundreds is not this endpoint
        check("funds_per_table", float(len(funds)), "data.list")
    seen: set[str] = set()
    for i, row in enumerate(funds):
        where = f"data.list[{i}]"
        if not isinstance(row, dict):
            raise SosoValueError(f"{where}: expected an object, got {shown(row)}")
        ticker = identifier(row.get("ticker"), f"{where}.ticker").upper()
        if ticker == TOTAL or ticker in seen:
            raise SosoValueError(f"{where}.ticker: {ticker} appears twice (or is the reserved TOTAL)")
        seen.add(ticker)
        figure(row, ticker, where, "dailyNetInflow", "netAssets")
    return figures


def parse_history(
    text: str, asset: str, *, today: dt.date, now: dt.datetime, secret: str | None = None
) -> list[tuple[dt.date, str, float | None]]:
    """historicalInflowChart -> (date, TOTAL, US$m) per day, oldest first; one date twice is refused."""
    data = _doc(text, now, secret)
    rows = data.get("list")
    if not isinstance(rows, list):
        raise SosoValueError(f"data.list: expected a list of days, got {shown(rows)}")
    out: dict[dt.date, float | None] = {}
    for i, row in enumerate(rows):
        where = f"data.list[{i}]"
        if not isinstance(row, dict):
            raise SosoValueError(f"{where}: expected an object, got {shown(row)}")
        day = _day(row.get("date"), f"{where}.date", today)
        if day in out:
            raise SosoValueError(f"{where}.date: {day.isoformat()} appears twice")
        out[day] = _usd_m(_usd(row.get("totalNetInflow"), f"{where}.totalNetInflow"), f"{asset} TOTAL {day} net inflow")
    return sorted((d, TOTAL, v) for d, v in out.items())


async def poll_sosovalue(
    client: httpx.AsyncClient,
    store: Store,
    cfg: SourceConfig,
    assets: tuple[str, ...] = tuple(TYPES),
    *,
    tolerance: FlowsConfig | None = None,
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> PollOutcome:
    """One poll of every ETF type; never raises for upstream or parse faults (run_poll records them)."""
    now = now or dt.datetime.now(dt.UTC)
    return await run_poll(
        store, SOURCE, cfg, lambda: _poll(client, store, cfg, assets, tolerance or FlowsConfig(), now), now=now, rng=rng
    )


async def _poll(
    client: httpx.AsyncClient, store: Store, cfg: SourceConfig, assets: tuple[str, ...], tolerance: FlowsConfig, now: dt.datetime
) -> BodyResult:
    if not cfg.api_key:
        raise SosoValueError("no API key (" + KEY_HELP[SOURCE] + ")")
    headers = {KEY_HEADER: cfg.api_key, "Accept": "application/json"}
    today = new_york_today(now)
    written, notes, newest, calls = 0, [], [], 0

    async def call(path: str, asset: str) -> str:
        nonlocal calls
        if calls:
            await asyncio.sleep(CALL_SPACING_S)
        calls += 1
        return await fetch_text(
            client, cfg.base_url + path, deadline=cfg.deadline, now=now, post_json={"type": TYPES[asset]}, headers=headers
        )

    for asset in assets:
        try:
            current = parse_current(await call(CURRENT_PATH, asset), asset, today=today, now=now, secret=cfg.api_key)
        except SosoValueError as exc:
            if asset == "sol":  # not offered on every plan: the others still count
                notes.append(f"sol: {exc}")
                continue
            raise
        rows = [(f.date, f.fund, f.net_inflow_usd_m) for f in current]
        if store.meta(history_key(asset)) != today.isoformat():
            rows = parse_history(await call(HISTORY_PATH, asset), asset, today=today, now=now, secret=cfg.api_key) + [
                r for r in rows if r[1] != TOTAL
            ]  # the chart's TOTAL and the metrics' TOTAL are one figure: the chart is the longer record
            rows += [(f.date, TOTAL, f.net_inflow_usd_m) for f in current if f.fund == TOTAL]
            store.set_meta(history_key(asset), today.isoformat())
        written += await asyncio.to_thread(store.write_source_flows, SOURCE, asset, rows, fetched_at=now)
        newest += [f.date for f in current if f.fund == TOTAL]
        notes += disagreements_note(store, asset, tolerance)
    expected = today if is_trading_day(today) else previous_trading_day(today)
    stale = bool(newest) and max(newest) < previous_trading_day(expected)
    if stale:
        notes.insert(
            0, f"newest day is {max(newest).isoformat()}, expected {previous_trading_day(expected).isoformat()} or later"
        )
    return BodyResult(written, 0, "; ".join(notes) or None, stale=stale)


def disagreements_note(store: Store, asset: str, tolerance: FlowsConfig) -> list[str]:
    """How many of this asset's SoSoValue cells disagree with Farside's beyond the tolerance (the status says so)."""
    farside = {(d, f): v for _, d, f, v in store.flows(asset) if v is not None}
    farside.update({(d, TOTAL): t for _, d, t, provisional in store.sessions(asset) if t is not None and not provisional})
    clash = [
        r
        for r in store.source_flows(asset, SOURCE)
        if r.usd_m is not None and (other := farside.get((r.date, r.fund))) is not None and tolerance.disagree(r.usd_m, other)
    ]
    if not clash:
        return []
    last = max(clash, key=lambda r: r.date)
    return [f"{asset}: {len(clash)} figures disagree with Farside (latest {last.fund} {last.date})"]
