"""Bybit v5 linear tickers: the BTCUSDT perpetual and dated BTC futures (BTC-26DEC25).

Envelope `{"retCode":0,"result":{"list":[...]}}`; all strings. `openInterest` is in BTC,
`openInterestValue` in USD. HTTP 403 "access too frequent" is an IP ban (handled in http.py).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..http import RateLimitedError
from .common import UTC, Quote, VenueDataError, amount, field, millis, price, rate

NAME = "bybit"
DEFAULT_BASE_URL = "https://api.bybit.com"
_DATED = re.compile(r"^BTC-\d{1,2}[A-Z]{3}\d{2}$")
RATE_LIMIT_CODES = {10006, 10018}


def requests(now: dt.datetime) -> list[tuple[str, str]]:
    return [("tickers", "/v5/market/tickers?category=linear")]


def check(key: str, obj: Any, now: dt.datetime) -> None:
    code = obj.get("retCode") if isinstance(obj, dict) else None
    if code in RATE_LIMIT_CODES:
        raise RateLimitedError(f"Bybit retCode {code} rate limit", None)
    if code != 0:
        raise VenueDataError(f"{key}: Bybit retCode {code!r}")


def _delivery(entry: dict, where: str) -> dt.datetime | None:
    raw = entry.get("deliveryTime")
    if isinstance(raw, str) and "T" in raw:  # ISO, as in the docs' examples
        try:
            return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise VenueDataError(f"{where}: bad deliveryTime") from None
    return millis(entry, "deliveryTime", where, optional=True)


def parse_ticker(entry: dict, ts: dt.datetime) -> Quote | None:
    symbol = str(field(entry, "symbol", "tickers"))
    where = f"ticker {symbol}"
    if symbol == "BTCUSDT":
        hours = float(entry.get("fundingIntervalHour") or 8)
        return Quote(NAME, symbol, ts, mark=price(entry, "markPrice", where), index=price(entry, "indexPrice", where),
                     funding_rate=rate(entry, "fundingRate", where), funding_interval_h=hours,
                     oi_btc=amount(entry, "openInterest", where), oi_usd=amount(entry, "openInterestValue", where))
    if _DATED.match(symbol):
        expiry = _delivery(entry, where)
        if expiry is None:
            raise VenueDataError(f"{where}: no deliveryTime")
        return Quote(NAME, symbol, ts, mark=price(entry, "markPrice", where), index=price(entry, "indexPrice", where),
                     expiry=expiry, oi_btc=amount(entry, "openInterest", where),
                     oi_usd=amount(entry, "openInterestValue", where))
    return None


def parse(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    obj = responses["tickers"]
    result = field(obj, "result", "tickers")
    entries = field(result, "list", "tickers.result")
    ts = millis(obj, "time", "tickers", optional=True) or now
    quotes = [q for q in (parse_ticker(e, ts) for e in entries if isinstance(e, dict)) if q]
    if not any(q.perpetual for q in quotes):
        raise VenueDataError("tickers: no BTCUSDT")
    return quotes
