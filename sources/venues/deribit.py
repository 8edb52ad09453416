"""Deribit (JSON-RPC over HTTP): perpetual ticker, futures book summary, instruments with expiries.

Inverse BTC futures and BTC-PERPETUAL report open interest in USD; BTC = USD / index.

Scope rules (README "Derivatives venues"): the BTC-PERPETUAL ticker is required, and anything wrong in
it refuses the response. Listing and book rows are skipped by rule when out of scope: the perpetual
itself (the real listing stamps it with expiration_timestamp 32503708800000, the year 3000), another
kind (options, combos), a name that is not an identifier, an expired contract (expiry <= now), a book
row whose instrument is not in the live listing (delisted). An in-scope dated future with a bad value refuses
the response, naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from common.bounds import shown

from ..http import RateLimitedError
from .common import (
    DATED_BTC,
    Quote,
    VenueDataError,
    expiry_millis,
    field,
    instrument_id,
    millis,
    number,
    price,
    rate,
    ratio,
    row_id,
    rows,
)

NAME = "deribit"
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
        raise VenueDataError(f"{key}: JSON-RPC error {shown(code, 20)}")


def _result(obj: Any, key: str) -> Any:
    return field(obj, "result", key)


def parse_ticker(obj: Any, now: dt.datetime) -> Quote:
    """The required row: the BTC-PERPETUAL ticker."""
    r = _result(obj, "ticker")
    where = "ticker"
    name = instrument_id(r, "instrument_name", where)
    if name != PERPETUAL:
        raise VenueDataError(f"ticker: instrument_name {name!r} is not {PERPETUAL}")
    index = price(r, "index_price", where)
    oi_usd = number(r, "open_interest", where, "oi_usd")
    return Quote(
        NAME,
        name,
        millis(r, "timestamp", where, now=now),
        mark=price(r, "mark_price", where),
        index=index,
        funding_rate=rate(r, "funding_8h", where),
        funding_interval_h=8.0,  # funding_8h is per 8 h by definition
        oi_usd=oi_usd,
        oi_btc=ratio(oi_usd, index, "oi_btc", f"{where}: open_interest / index_price"),
    )


def _dated_name(row: Any, where: str) -> str | None:
    """The row's name if it is a dated BTC future, else None (out of scope: skipped by rule)."""
    name = row_id(row, "instrument_name", where)
    if name is None or not DATED_BTC.fullmatch(name):
        return None
    if isinstance(row, Mapping) and row.get("kind", "future") != "future":
        return None
    return name


def listing_expiries(obj: Any, now: dt.datetime) -> dict[str, dt.datetime]:
    """Expiry of every live dated future in `get_instruments` (perpetual, other kinds, expired: skipped)."""
    out: dict[str, dt.datetime] = {}
    for row in rows(_result(obj, "instruments"), "instruments"):
        name = _dated_name(row, "instruments")
        if name is None:
            continue
        expiry = expiry_millis(row, "expiration_timestamp", f"instruments {name}", now=now)
        if expiry > now:
            out[name] = expiry
    return out


def parse(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    perp = parse_ticker(responses["ticker"], now)
    listed = listing_expiries(responses["instruments"], now)
    quotes = [perp]
    for row in rows(_result(responses["book"], "book"), "book"):
        name = _dated_name(row, "book")
        if name is None:
            continue
        where = f"book {name}"
        expiry = listed.get(name)
        if expiry is None:  # not in the live listing (expired or delisted): it stops producing quotes
            continue
        index = price(row, "estimated_delivery_price", where)
        oi_usd = number(row, "open_interest", where, "oi_usd")
        ts = millis(row, "creation_timestamp", where, now=now, optional=True) or perp.ts
        quotes.append(
            Quote(
                NAME,
                name,
                ts,
                mark=price(row, "mark_price", where),
                index=index,
                expiry=expiry,
                oi_usd=oi_usd,
                oi_btc=ratio(oi_usd, index, "oi_btc", f"{where}: open_interest / index"),
            )
        )
    return quotes
