"""Bybit v5 linear tickers: the BTCUSDT perpetual and dated BTC futures (BTC-26DEC25).

Envelope `{"retCode":0,"result":{"list":[...]}}`; all strings. `openInterest` is in BTC,
`openInterestValue` in USD. HTTP 403 "access too frequent" is an IP ban (handled in http.py).

Scope: the list holds every linear contract. BTCUSDT is required (missing or bad refuses the response);
dated BTC futures are read when live; every other row (other symbols, names that are not identifiers,
expired contracts) is skipped by rule without reading its values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from common.bounds import check_expiry, shown

from ..http import RateLimitedError
from .common import (
    DATED_BTC,
    UTC,
    Quote,
    VenueDataError,
    basis_fraction,
    expiry_millis,
    field,
    millis,
    number,
    price,
    rate,
    row_id,
    rows,
)

NAME = "bybit"
PERPETUAL = "BTCUSDT"
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
RATE_LIMIT_CODES = {10006, 10018}


def requests(now: dt.datetime) -> list[tuple[str, str]]:
    return [("tickers", "/v5/market/tickers?category=linear")]


def check(key: str, obj: Any, now: dt.datetime) -> None:
    code = obj.get("retCode") if isinstance(obj, dict) else None
    if isinstance(code, int) and code in RATE_LIMIT_CODES:
        raise RateLimitedError(f"Bybit retCode {code} rate limit", None)
    if code != 0 or isinstance(code, bool):
        raise VenueDataError(f"{key}: Bybit retCode {shown(code, 20)}")


def _delivery(entry: Mapping, where: str, now: dt.datetime) -> dt.datetime:
    """deliveryTime: ISO in the docs' examples ("2025-12-26T08:00:00Z"), epoch ms in REST."""
    raw = field(entry, "deliveryTime", where)
    if isinstance(raw, str) and _ISO.fullmatch(raw):
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
        return check_expiry(when, f"{where}: deliveryTime", now=now)
    return expiry_millis(entry, "deliveryTime", where, now=now)


def _interval(entry: Mapping, where: str) -> float | None:
    """fundingIntervalHour within bounds ("0" would divide by zero downstream, "-8" is no interval);
    absent (older API versions) is None: Bybit documents no default, and intervals differ by symbol."""
    return number(entry, "fundingIntervalHour", where, "funding_interval_h", optional=True)


def parse_ticker(entry: Mapping, symbol: str, ts: dt.datetime, now: dt.datetime) -> Quote | None:
    where = f"ticker {symbol}"
    if symbol == PERPETUAL:
        return Quote(
            NAME,
            symbol,
            ts,
            mark=price(entry, "markPrice", where),
            index=price(entry, "indexPrice", where),
            funding_rate=rate(entry, "fundingRate", where),
            funding_interval_h=_interval(entry, where),
            oi_btc=number(entry, "openInterest", where, "oi_btc"),
            oi_usd=number(entry, "openInterestValue", where, "oi_usd"),
        )
    if not DATED_BTC.fullmatch(symbol):
        return None  # another contract: out of scope
    expiry = _delivery(entry, where, now)
    if expiry <= now:
        return None  # expired: out of scope
    basis_fraction(entry, "basisRateYear", where)  # not stored (analytics derives basis), but absurd = lying row
    return Quote(
        NAME,
        symbol,
        ts,
        mark=price(entry, "markPrice", where),
        index=price(entry, "indexPrice", where),
        expiry=expiry,
        oi_btc=number(entry, "openInterest", where, "oi_btc"),
        oi_usd=number(entry, "openInterestValue", where, "oi_usd"),
    )


def parse(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    obj = responses["tickers"]
    entries = rows(field(field(obj, "result", "tickers"), "list", "tickers.result"), "tickers.result.list")
    ts = millis(obj, "time", "tickers", now=now, optional=True) or now
    quotes = []
    for entry in entries:
        symbol = row_id(entry, "symbol", "tickers")
        quote = None if symbol is None else parse_ticker(entry, symbol, ts, now)
        if quote is not None:
            quotes.append(quote)
    if not any(q.perpetual for q in quotes):
        raise VenueDataError(f"tickers: no {PERPETUAL}")
    return quotes
