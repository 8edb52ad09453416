"""CME bitcoin futures open interest: the CFTC Commitments of Traders (weekly, dependable) and the
CME settlements JSON (daily, bot-protected: best effort, marked blocked when refused).

One CME bitcoin contract is 5 BTC (the micro, 0.1 BTC, is a separate market not counted here).
USD values need a BTC price, so these quotes carry BTC only; analytics prices them with the index.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..calendar import new_york_today, previous_trading_day
from .common import UTC, Quote, VenueDataError, amount, field

CFTC, CME = "cftc", "cme"
CFTC_BASE_URL, CME_BASE_URL = "https://publicreporting.cftc.gov", "https://www.cmegroup.com"
BTC_PER_CONTRACT = 5.0
CFTC_MARKET = "133741"  # BITCOIN - CHICAGO MERCANTILE EXCHANGE


def cftc_requests(now: dt.datetime) -> list[tuple[str, str]]:
    return [("cot", f"/resource/gpe5-46if.json?cftc_contract_market_code={CFTC_MARKET}"
                    "&$order=report_date_as_yyyy_mm_dd%20DESC&$limit=8")]


def cme_requests(now: dt.datetime) -> list[tuple[str, str]]:
    day = previous_trading_day(new_york_today(now))
    return [("settlements", f"/CmeWS/mvc/Settlements/Futures/Settlements/8478/FUT?tradeDate={day:%m/%d/%Y}")]


def check(key: str, obj: Any, now: dt.datetime) -> None:
    return None


def parse_cftc(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    rows = responses["cot"]
    if not isinstance(rows, list) or not rows:
        raise VenueDataError("cot: empty result")
    quotes = []
    for row in rows:
        raw = str(field(row, "report_date_as_yyyy_mm_dd", "cot"))[:10]
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise VenueDataError(f"cot: bad report date {raw[:10]!r}") from None
        contracts = amount(row, "open_interest_all", f"cot {day}")
        # As of Tuesday's close (New York), released on Friday.
        ts = dt.datetime(day.year, day.month, day.day, 21, tzinfo=UTC)
        quotes.append(Quote(CME, "BTC futures (CFTC COT)", ts, oi_btc=contracts * BTC_PER_CONTRACT))
    return quotes


def parse_cme(responses: dict[str, Any], now: dt.datetime) -> list[Quote]:
    rows = field(responses["settlements"], "settlements", "settlements")
    if not isinstance(rows, list) or not rows:
        raise VenueDataError("settlements: empty result")
    total = 0.0
    for row in rows:
        month = str(field(row, "month", "settlements"))
        if month.lower() == "total":
            continue
        total += amount(row, "openInterest", f"settlements {month}") or 0.0
    day = previous_trading_day(new_york_today(now))
    ts = dt.datetime(day.year, day.month, day.day, 21, tzinfo=UTC)
    return [Quote(CME, "BTC futures (CME settlements)", ts, oi_btc=total * BTC_PER_CONTRACT)]
