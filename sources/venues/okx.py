"""OKX public API: BTC-USDT-SWAP funding and open interest, BTC-USD dated futures marks and index.

Envelope `{"code":"0","data":[...]}`; all strings. Funding interval = nextFundingTime - fundingTime.
Scope: the swap's funding and open interest and the BTC-USD index are required (missing or bad refuses
the response, naming it); rows for other instruments and expired dated futures are skipped by rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from common import bounds
from common.bounds import shown

from ..http import RateLimitedError
from .common import Quote, VenueDataError, expiry_from_code, field, millis, number, price, rate, row_id, rows

NAME = "okx"
SWAP = "BTC-USDT-SWAP"
INDEX = "BTC-USD"
FUTURES_PREFIX = "BTC-USD-"  # dated inverse futures: BTC-USD-251226


def requests(now: dt.datetime) -> list[tuple[str, str]]:
    return [
        ("funding", f"/api/v5/public/funding-rate?instId={SWAP}"),
        ("open_interest", f"/api/v5/public/open-interest?instType=SWAP&instId={SWAP}"),
        ("index", "/api/v5/market/index-tickers?instId=BTC-USD"),
        ("futures", "/api/v5/public/mark-price?instType=FUTURES&instFamily=BTC-USD"),
    ]


def check(key: str, obj: Any, now: dt.datetime) -> None:
    code = obj.get("code") if isinstance(obj, dict) else None
    if code == "50011":
        raise RateLimitedError("OKX 50011 rate limit", None)
    if code != "0":
        raise VenueDataError(f"{key}: OKX code {shown(code, 20)}")


def _data(obj: Any, key: str) -> list:
    data = rows(field(obj, "data", key), f"{key}: data")
    if not data:
        raise VenueDataError(f"{key}: empty result")
    return data


def _row(obj: Any, key: str, inst_id: str) -> Mapping:
    """The required row for `inst_id` (rows for other instruments are skipped; none refuses, naming it)."""
    for row in _data(obj, key):
        if row_id(row, "instId", key) == inst_id:
            return row
    raise VenueDataError(f"{key}: no {inst_id}")


def funding_interval(f: Mapping, where: str, now: dt.datetime) -> float:
    """nextFundingTime - fundingTime in hours, within bounds (OKX documents no default: it varies 1-8 h)."""
    start = millis(f, "fundingTime", where, now=now)
    end = millis(f, "nextFundingTime", where, now=now)
    return bounds.check("funding_interval_h", (end - start).total_seconds() / 3600.0, f"{where}: nextFundingTime - fundingTime")


def parse(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    f = _row(responses["funding"], "funding", SWAP)
    index = price(_row(responses["index"], "index", INDEX), "idxPx", "index")
    oi = _row(responses["open_interest"], "open_interest", SWAP)
    oi_btc = number(oi, "oiCcy", "open_interest", "oi_btc")
    oi_usd = number(oi, "oiUsd", "open_interest", "oi_usd", optional=True)
    quotes = [
        Quote(
            NAME,
            SWAP,
            millis(oi, "ts", "open_interest", now=now),
            index=index,
            funding_rate=rate(f, "fundingRate", "funding"),
            funding_interval_h=funding_interval(f, "funding", now),
            oi_btc=oi_btc,
            oi_usd=oi_usd if oi_usd is not None else bounds.check("oi_usd", oi_btc * index, "open_interest: oiCcy x idxPx"),
        )
    ]
    for m in _data(responses["futures"], "futures"):
        inst = row_id(m, "instId", "futures")
        code = inst[len(FUTURES_PREFIX) :] if inst and inst.startswith(FUTURES_PREFIX) else ""
        expiry = expiry_from_code(code) if code.isdigit() else None
        if inst is None or expiry is None or expiry <= now:  # another instrument, or expired: skipped by rule
            continue
        where = f"futures {inst}"
        quotes.append(
            Quote(
                NAME,
                inst,
                millis(m, "ts", where, now=now),
                mark=price(m, "markPx", where),
                index=index,
                expiry=bounds.check_expiry(expiry, f"{where}: expiry", now=now),
            )
        )
    return quotes
