"""Binance futures: USD-M (`binance`, BTCUSDT) and COIN-M (`binance_coinm`, BTCUSD).

All numbers are strings. USD-M open interest is in BTC; COIN-M in contracts of 100 USD each.
Delivery contracts carry `lastFundingRate: ""` and `nextFundingTime: 0` (not perpetuals).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from common import bounds
from common.bounds import shown

from .common import (
    Quote,
    VenueDataError,
    basis_fraction,
    expiry_from_code,
    field,
    instrument_id,
    millis,
    number,
    price,
    quarterly_expiries,
    rate,
    ratio,
    row_id,
    rows,
)

USDM, COINM = "binance", "binance_coinm"
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
        raise VenueDataError(f"{key}: Binance error {shown(obj.get('code'), 20)}")


def funding_interval(info: Any, symbol: str) -> float:
    """`symbol`'s interval from fundingInfo, within bounds; 8 h when it is not listed (Binance lists only
    symbols whose funding parameters were adjusted from the default)."""
    for entry in rows(info, "fundingInfo"):
        if isinstance(entry, Mapping) and entry.get("symbol") == symbol:
            return number(entry, "fundingIntervalHours", f"fundingInfo {symbol}", "funding_interval_h")
    return DEFAULT_INTERVAL_H


def _symbol(obj: Any, want: str, where: str) -> None:
    """The required object names `want` (a response for another symbol is refused, naming both)."""
    got = instrument_id(obj, "symbol", where)
    if got != want:
        raise VenueDataError(f"{where}: symbol {got!r} where {want} was asked for")


def parse_usdm(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    p = responses["premium"]
    where = "premiumIndex BTCUSDT"
    _symbol(p, "BTCUSDT", where)
    mark, index = price(p, "markPrice", where), price(p, "indexPrice", where)
    oi = responses["open_interest"]
    _symbol(oi, "BTCUSDT", "openInterest")
    oi_btc = number(oi, "openInterest", "openInterest BTCUSDT", "oi_btc")
    quotes = [
        Quote(
            USDM,
            "BTCUSDT",
            millis(p, "time", where, now=now),
            mark=mark,
            index=index,
            funding_rate=rate(p, "lastFundingRate", where),
            funding_interval_h=funding_interval(responses["funding_info"], "BTCUSDT"),
            oi_btc=oi_btc,
            oi_usd=bounds.check("oi_usd", oi_btc * mark, f"{where}: openInterest x markPrice"),
        )
    ]
    for n, (key, contract_type) in enumerate((("basis_current", "CURRENT_QUARTER"), ("basis_next", "NEXT_QUARTER"))):
        quote = _basis_quote(responses[key], key, contract_type, n, now)
        if quote is not None:
            quotes.append(quote)
    return quotes


def _basis_quote(obj: Any, key: str, contract_type: str, n: int, now: dt.datetime) -> Quote | None:
    """The newest BTCUSDT row of `contract_type` as a dated quote; None when there is none (rows of another
    pair or contract type are skipped by rule) or its quarter has expired."""
    mine = [
        r
        for r in rows(obj, key)
        if isinstance(r, Mapping) and r.get("pair") == "BTCUSDT" and r.get("contractType") == contract_type
    ]
    if not mine:
        return None
    row, where = mine[-1], f"basis {contract_type}"
    when = millis(row, "timestamp", where, now=now)
    expiry = quarterly_expiries(when, 2)[n]
    if expiry <= now:
        return None
    basis_fraction(row, "annualizedBasisRate", where)  # not stored (analytics derives basis); absurd = lying row
    return Quote(
        USDM,
        f"BTCUSDT_{expiry:%y%m%d}",
        when,
        mark=price(row, "futuresPrice", where),
        index=price(row, "indexPrice", where),
        expiry=bounds.check_expiry(expiry, f"{where}: expiry", now=now),
    )


def parse_coinm(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    entries = rows(responses["premium"], "premiumIndex BTCUSD")
    oi = responses["open_interest"]
    _symbol(oi, "BTCUSD_PERP", "openInterest")
    contracts = number(oi, "openInterest", "openInterest BTCUSD_PERP", "oi_contracts_usd")
    quotes = []
    for e in entries:
        symbol = row_id(e, "symbol", "premiumIndex")
        if symbol is None:
            continue  # not an identifier: out of scope, skipped
        where = f"premiumIndex {symbol}"
        if symbol == "BTCUSD_PERP":
            mark, index, ts = price(e, "markPrice", where), price(e, "indexPrice", where), millis(e, "time", where, now=now)
            oi_usd = bounds.check("oi_usd", contracts * COINM_CONTRACT_USD, f"{where}: openInterest x {COINM_CONTRACT_USD:g} USD")
            quotes.append(
                Quote(
                    COINM,
                    symbol,
                    ts,
                    mark=mark,
                    index=index,
                    funding_rate=rate(e, "lastFundingRate", where),
                    funding_interval_h=DEFAULT_INTERVAL_H,
                    oi_usd=oi_usd,
                    oi_btc=ratio(oi_usd, index, "oi_btc", f"{where}: open interest / indexPrice"),
                )
            )
            continue
        code = symbol[len("BTCUSD_") :] if symbol.startswith("BTCUSD_") else ""
        expiry = expiry_from_code(code) if code.isdigit() else None
        if expiry is None or expiry <= now:  # another symbol, or an expired delivery contract
            continue
        bounds.check_expiry(expiry, f"{where}: expiry", now=now)
        mark, index, ts = price(e, "markPrice", where), price(e, "indexPrice", where), millis(e, "time", where, now=now)
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
    for entry in rows(field(exchange_info, "rateLimits", "exchangeInfo"), "exchangeInfo rateLimits"):
        if isinstance(entry, Mapping) and entry.get("rateLimitType") == "REQUEST_WEIGHT" and entry.get("interval") == "MINUTE":
            per = entry.get("intervalNum", 1)
            if isinstance(per, bool) or not isinstance(per, int) or not 1 <= per <= 60:
                raise VenueDataError(f"exchangeInfo rateLimits: intervalNum {per!r:.20} is not 1-60 minutes")
            return bounds.check(
                "request_weight",
                number(entry, "limit", "exchangeInfo rateLimits", "request_weight") / per,
                "exchangeInfo rateLimits: limit per minute",
            )
    raise VenueDataError("exchangeInfo: no REQUEST_WEIGHT per-minute limit")


def used_weight(headers: dict[str, str]) -> float | None:
    raw = headers.get(WEIGHT_HEADER)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
