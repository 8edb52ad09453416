"""Deribit (JSON-RPC over HTTP): perpetual ticker, futures book summary, instruments with expiries.

Inverse BTC futures and BTC-PERPETUAL report open interest in USD; BTC = USD / index.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..http import RateLimitedError
from .common import Quote, VenueDataError, amount, expiry_from_code, field, millis, price, rate

NAME = "deribit"
DEFAULT_BASE_URL = "https://www.deribit.com/api/v2"
PERPETUAL = "BTC-PERPETUAL"


def requests(now: dt.datetime) -> list[tuple[str, str]]:
    return [
        ("ticker", f"/public/ticker?instrument_name={PERPETUAL}"),
        ("book", "/public/get_book_summary_by_currency?currency=BTC&kind=future"),
        ("instruments", "/public/get_instruments?currency=BTC&kind=future"),
    ]


def check(key: str, obj: Any, now: dt.datetime) -> None:
    """JSON-RPC errors; 10028 is Deribit's "too many requests"."""
    if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
        code = obj["error"].get("code")
        if code == 10028:
            raise RateLimitedError("Deribit 10028 too many requests", None)
        raise VenueDataError(f"{key}: JSON-RPC error {code}")


def _result(obj: Any, key: str) -> Any:
    return field(obj, "result", key)


def parse_ticker(obj: Any) -> Quote:
    r = _result(obj, "ticker")
    where = "ticker"
    index = price(r, "index_price", where)
    oi_usd = amount(r, "open_interest", where)
    return Quote(
        NAME, str(field(r, "instrument_name", where)), millis(r, "timestamp", where),
        mark=price(r, "mark_price", where), index=index,
        funding_rate=rate(r, "funding_8h", where), funding_interval_h=8.0,
        oi_usd=oi_usd, oi_btc=oi_usd / index,
    )


def parse(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    perp = parse_ticker(responses["ticker"])
    expiries: dict[str, dt.datetime] = {}
    for inst in _result(responses["instruments"], "instruments"):
        name = str(field(inst, "instrument_name", "instruments"))
        when = millis(inst, "expiration_timestamp", f"instruments {name}")
        if when:
            expiries[name] = when
    quotes = [perp]
    for entry in _result(responses["book"], "book"):
        name = str(field(entry, "instrument_name", "book"))
        if name == PERPETUAL or "PERPETUAL" in name:
            continue
        where = f"book {name}"
        expiry = expiries.get(name) or expiry_from_code(name.rsplit("-", 1)[-1])
        if expiry is None:
            raise VenueDataError(f"{where}: no expiry")
        index = price(entry, "estimated_delivery_price", where)
        oi_usd = amount(entry, "open_interest", where)
        ts = millis(entry, "creation_timestamp", where, optional=True) or perp.ts
        quotes.append(Quote(NAME, name, ts, mark=price(entry, "mark_price", where), index=index, expiry=expiry,
                            oi_usd=oi_usd, oi_btc=oi_usd / index))
    return quotes
