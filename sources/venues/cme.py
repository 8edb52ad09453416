"""CME bitcoin futures open interest: the CFTC Commitments of Traders (weekly, dependable) and the
CME settlements JSON (daily, bot-protected: best effort, marked blocked when refused).

One CME bitcoin contract is 5 BTC (the micro, 0.1 BTC, is a separate market not counted here).
USD values need a BTC price, so these quotes carry BTC only; analytics prices them with the index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from common.bounds import check, check_day, check_time, shown
from common.calendar import new_york_today, previous_trading_day
from common.sanitize import clean

from .common import UTC, Quote, VenueDataError, field, number, rows

CFTC, CME = "cftc", "cme"
BTC_PER_CONTRACT = 5.0
CFTC_MARKET = "133741"  # BITCOIN - CHICAGO MERCANTILE EXCHANGE
FIRST_CME_REPORT = dt.date(2017, 12, 19)  # CME bitcoin futures listed 17 Dec 2017; first COT Tuesday after


def cftc_requests(now: dt.datetime) -> list[tuple[str, str]]:
    return [
        (
            "cot",
            f"/resource/gpe5-46if.json?cftc_contract_market_code={CFTC_MARKET}&$order=report_date_as_yyyy_mm_dd%20DESC&$limit=8",
        )
    ]


def cme_requests(now: dt.datetime) -> list[tuple[str, str]]:
    day = previous_trading_day(new_york_today(now))
    return [("settlements", f"/CmeWS/mvc/Settlements/Futures/Settlements/8478/FUT?tradeDate={day:%m/%d/%Y}")]


def check_envelope(key: str, obj: Any, now: dt.datetime) -> None:
    return None


def parse_cftc(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    """Weekly rows, newest first. Rows of another market (when the row names one) are skipped; a bad row
    of this market refuses the response, naming the report date and field."""
    quotes = []
    for row in rows(responses["cot"], "cot"):
        code = row.get("cftc_contract_market_code", CFTC_MARKET) if isinstance(row, Mapping) else CFTC_MARKET
        if code != CFTC_MARKET:
            continue
        raw = field(row, "report_date_as_yyyy_mm_dd", "cot")
        try:
            day = dt.date.fromisoformat(raw[:10]) if isinstance(raw, str) else None
        except ValueError:
            day = None
        if day is None:
            raise VenueDataError(f"cot: bad report date {shown(raw, 24)}")
        check_day(day, "cot: report_date_as_yyyy_mm_dd", today=new_york_today(now), first=FIRST_CME_REPORT)
        contracts = number(row, "open_interest_all", f"cot {day}", "oi_contracts")
        # As of Tuesday's close (New York), released on Friday.
        ts = check_time(dt.datetime(day.year, day.month, day.day, 21, tzinfo=UTC), f"cot {day}", now=now)
        quotes.append(
            Quote(CME, "BTC futures (CFTC COT)", ts, oi_btc=check("oi_btc", contracts * BTC_PER_CONTRACT, f"cot {day}"))
        )
    if not quotes:
        raise VenueDataError(f"cot: no rows for market {CFTC_MARKET}")
    return quotes


def parse_cme(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    settlements = rows(field(responses["settlements"], "settlements", "settlements"), "settlements")
    if not settlements:
        raise VenueDataError("settlements: empty result")
    total = 0.0
    for row in settlements:
        month = field(row, "month", "settlements")
        if isinstance(month, str) and month.lower() == "total":
            continue
        label = clean(month, max_len=12) if isinstance(month, str) else "?"
        total += number(row, "openInterest", f"settlements {label}", "oi_contracts")
    total = check("oi_contracts", total, "settlements: total openInterest")
    day = previous_trading_day(new_york_today(now))
    ts = dt.datetime(day.year, day.month, day.day, 21, tzinfo=UTC)
    return [Quote(CME, "BTC futures (CME settlements)", ts, oi_btc=check("oi_btc", total * BTC_PER_CONTRACT, "settlements"))]
