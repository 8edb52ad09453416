"""Binance futures: USD-M (`binance`, BTCUSDT) and COIN-M (`binance_coinm`, BTCUSD).

All numbers are strings. USD-M open interest is in BTC; COIN-M in contracts of 100 USD each.
Delivery contracts carry `lastFundingRate: ""` and `nextFundingTime: 0` (not perpetuals).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .common import Quote, VenueDataError, amount, expiry_from_code, field, millis, price, quarterly_expiries, rate

USDM, COINM = "binance", "binance_coinm"
USDM_BASE_URL, COINM_BASE_URL = "https://fapi.binance.com", "https://dapi.binance.com"
COINM_CONTRACT_USD = 100.0  # BTCUSD COIN-M contract size
DEFAULT_INTERVAL_H = 8.0  # Binance lists only symbols whose interval differs in fundingInfo


def usdm_requests(now: dt.datetime) -> list[tuple[str, str]]:
    return [
        ("premium", "/fapi/v1/premiumIndex?symbol=BTCUSDT"),
        ("open_interest", "/fapi/v1/openInterest?symbol=BTCUSDT"),
        ("funding_info", "/fapi/v1/fundingInfo"),
        ("basis_current", "/futures/data/basis?pair=BTCUSDT&contractType=CURRENT_QUARTER&period=1h&limit=1"),
        ("basis_next", "/futures/data/basis?pair=BTCUSDT&contractType=NEXT_QUARTER&period=1h&limit=1"),
    ]


def coinm_requests(now: dt.datetime) -> list[tuple[str, str]]:
    return [
        ("premium", "/dapi/v1/premiumIndex?pair=BTCUSD"),
        ("open_interest", "/dapi/v1/openInterest?symbol=BTCUSD_PERP"),
    ]


def check(key: str, obj: Any, now: dt.datetime) -> None:
    if isinstance(obj, dict) and "code" in obj and "msg" in obj and obj.get("code") not in (0, 200):
        raise VenueDataError(f"{key}: Binance error {obj.get('code')}")


def funding_interval(info: Any, symbol: str) -> float:
    if not isinstance(info, list):
        raise VenueDataError("funding_info: expected a list")
    for entry in info:
        if isinstance(entry, dict) and entry.get("symbol") == symbol:
            hours = entry.get("fundingIntervalHours")
            if isinstance(hours, (int, float)) and not isinstance(hours, bool) and 0 < hours <= 24:
                return float(hours)
            raise VenueDataError(f"funding_info {symbol}: bad fundingIntervalHours")
    return DEFAULT_INTERVAL_H


def parse_usdm(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    p = responses["premium"]
    where = "premiumIndex BTCUSDT"
    mark, index = price(p, "markPrice", where), price(p, "indexPrice", where)
    oi_btc = amount(responses["open_interest"], "openInterest", "openInterest BTCUSDT")
    ts = millis(p, "time", where)
    quotes = [Quote(USDM, "BTCUSDT", ts, mark=mark, index=index, funding_rate=rate(p, "lastFundingRate", where),
                    funding_interval_h=funding_interval(responses["funding_info"], "BTCUSDT"),
                    oi_btc=oi_btc, oi_usd=oi_btc * mark)]
    for n, key in enumerate(("basis_current", "basis_next")):
        rows = responses[key]
        if not isinstance(rows, list) or not rows:
            raise VenueDataError(f"{key}: empty result")
        row = rows[-1]
        where = f"basis {key}"
        when = millis(row, "timestamp", where)
        expiry = quarterly_expiries(when, 2)[n]
        quotes.append(Quote(USDM, f"BTCUSDT_{expiry:%y%m%d}", when, mark=price(row, "futuresPrice", where),
                            index=price(row, "indexPrice", where), expiry=expiry))
    return quotes


def parse_coinm(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    entries = responses["premium"]
    if not isinstance(entries, list) or not entries:
        raise VenueDataError("premiumIndex BTCUSD: empty result")
    contracts = amount(responses["open_interest"], "openInterest", "openInterest BTCUSD_PERP")
    quotes = []
    for e in entries:
        symbol = str(field(e, "symbol", "premiumIndex"))
        where = f"premiumIndex {symbol}"
        mark, index, ts = price(e, "markPrice", where), price(e, "indexPrice", where), millis(e, "time", where)
        if symbol.endswith("_PERP"):
            oi_usd = contracts * COINM_CONTRACT_USD
            quotes.append(Quote(COINM, symbol, ts, mark=mark, index=index, funding_rate=rate(e, "lastFundingRate", where),
                                funding_interval_h=DEFAULT_INTERVAL_H, oi_usd=oi_usd, oi_btc=oi_usd / index))
        else:
            expiry = expiry_from_code(symbol.rsplit("_", 1)[-1])
            if expiry is None:
                raise VenueDataError(f"{where}: cannot read the expiry")
            quotes.append(Quote(COINM, symbol, ts, mark=mark, index=index, expiry=expiry))
    if not any(q.perpetual for q in quotes):
        raise VenueDataError("premiumIndex BTCUSD: no BTCUSD_PERP")
    return quotes


# ---- request weights -------------------------------------------------------------------------
WEIGHT_HEADER = "x-mbx-used-weight-1m"
WEIGHT_SHARE = 0.8  # stop for the rest of the minute beyond this share of the limit
USDM_LIMITS_PATH, COINM_LIMITS_PATH = "/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo"


def weight_limit(exchange_info: Any) -> float:
    """The REQUEST_WEIGHT per-minute limit from exchangeInfo's `rateLimits` (never hard-coded)."""
    for entry in field(exchange_info, "rateLimits", "exchangeInfo"):
        if isinstance(entry, dict) and entry.get("rateLimitType") == "REQUEST_WEIGHT" and entry.get("interval") == "MINUTE":
            per = entry.get("intervalNum") or 1
            limit = amount(entry, "limit", "exchangeInfo rateLimits")
            if limit and isinstance(per, (int, float)) and per > 0:
                return limit / per
    raise VenueDataError("exchangeInfo: no REQUEST_WEIGHT per-minute limit")


def used_weight(headers: dict[str, str]) -> float | None:
    raw = headers.get(WEIGHT_HEADER)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
