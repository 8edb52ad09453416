"""OKX public API: BTC-USDT-SWAP funding and open interest, BTC-USD dated futures marks and index.

Envelope `{"code":"0","data":[...]}`; all strings. Funding interval = nextFundingTime - fundingTime.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..http import RateLimitedError
from .common import Quote, VenueDataError, amount, expiry_from_code, field, millis, price, rate

NAME = "okx"
DEFAULT_BASE_URL = "https://www.okx.com"
SWAP = "BTC-USDT-SWAP"


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
        raise VenueDataError(f"{key}: OKX code {code!r}")


def _data(obj: Any, key: str) -> list:
    data = field(obj, "data", key)
    if not isinstance(data, list) or not data:
        raise VenueDataError(f"{key}: empty result")
    return data


def parse(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    f = _data(responses["funding"], "funding")[0]
    funding_time = millis(f, "fundingTime", "funding")
    next_time = millis(f, "nextFundingTime", "funding")
    hours = (next_time - funding_time).total_seconds() / 3600.0 if funding_time and next_time else 0.0
    if not 0 < hours <= 24:
        raise VenueDataError("funding: cannot read the funding interval")
    idx = _data(responses["index"], "index")[0]
    index = price(idx, "idxPx", "index")
    oi = _data(responses["open_interest"], "open_interest")[0]
    oi_btc = amount(oi, "oiCcy", "open_interest")
    oi_usd = amount(oi, "oiUsd", "open_interest", optional=True)
    quotes = [Quote(NAME, SWAP, millis(oi, "ts", "open_interest"), index=index,
                    funding_rate=rate(f, "fundingRate", "funding"), funding_interval_h=hours,
                    oi_btc=oi_btc, oi_usd=oi_usd if oi_usd is not None else oi_btc * index)]
    for m in _data(responses["futures"], "futures"):
        inst = str(field(m, "instId", "futures"))
        expiry = expiry_from_code(inst.rsplit("-", 1)[-1])
        if expiry is None:
            raise VenueDataError(f"futures {inst}: cannot read the expiry")
        quotes.append(Quote(NAME, inst, millis(m, "ts", f"futures {inst}"), mark=price(m, "markPx", f"futures {inst}"),
                            index=index, expiry=expiry))
    return quotes
