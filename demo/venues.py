"""Illustrative derivatives recordings for the demo, in each venue's own response format.

Values are made up to match the seed's description of late Nov 2025 (3-month basis near 4-6%,
funding subdued, open interest receding), as smooth functions of the demo clock so that the replayed
history has shape. They are not market data: the demo says so on every screen.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from itertools import pairwise
from typing import Any

from sources.venues.common import UTC

START = dt.datetime(2025, 11, 16, 0, tzinfo=UTC)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _last_friday(year: int, month: int) -> dt.datetime:
    """Monthly and quarterly BTC futures expire on the month's last Friday, 08:00 UTC."""
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    day = first_next - dt.timedelta(days=(first_next.weekday() - 4) % 7 or 7)
    return dt.datetime(day.year, day.month, day.day, 8, tzinfo=UTC)


def _expiries_after(t: dt.datetime, *, quarterly: bool) -> list[dt.datetime]:
    out: list[dt.datetime] = []
    year, month = t.year, t.month
    while len(out) < 4:
        exp = _last_friday(year, month)
        if exp > t and (not quarterly or month % 3 == 0):
            out.append(exp)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def listed(t: dt.datetime) -> dict[str, dt.datetime]:
    """What Deribit lists at `t` (as the demo tells it): the nearest monthly and the next three quarterlies,
    keyed by Deribit's code ("28NOV25"). At the demo's clock: 28NOV25, 26DEC25, 27MAR26, 26JUN26."""
    chosen = sorted({_expiries_after(t, quarterly=False)[0], *_expiries_after(t, quarterly=True)[:3]})
    return {f"{e.day}{_MONTHS[e.month - 1]}{e:%y}": e for e in chosen}


def quarters(t: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The current and next quarterly expiries at `t` (Binance's CURRENT_QUARTER / NEXT_QUARTER)."""
    cur, nxt = _expiries_after(t, quarterly=True)[:2]
    return cur, nxt


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def _hours(t: dt.datetime) -> float:
    return (t - START).total_seconds() / 3600.0


# Before START (the replayed year) the figures follow the era's rough shape as smooth functions of time:
# the index tracks close_on()'s anchors, basis swings between about 4% and 12%, funding stays positive
# and small, open interest breathes. From START on they are the seed week's story, unchanged.
def index_price(t: dt.datetime) -> float:
    """A slide from ~94k to ~84k over the week to 21 Nov, then a partial recovery."""
    h = _hours(t)
    if h < 0:
        close = close_on(t.date()) or 94000.0
        return round(close * (1 + 0.004 * math.sin(h / 5)), 2)
    return round(94000 - 10000 * min(h, 132) / 132 + 3500 * max(0.0, h - 132) / 72 + 600 * math.sin(h / 5), 2)


def basis_pct(t: dt.datetime, venue_offset: float = 0.0) -> float:
    h = _hours(t)
    if h < 0:
        return 5.0 - 3.0 * math.sin(h / (24 * 41)) + 1.5 * math.sin(h / (24 * 9)) + 0.3 * math.sin(h / 9) + venue_offset
    return 5.0 - 0.8 * min(h, 192) / 192 + 0.3 * math.sin(h / 9) + venue_offset


def funding_8h(t: dt.datetime, venue_offset: float = 0.0) -> float:
    h = _hours(t)
    if h < 0:
        return round(0.00006 - 0.00005 * math.sin(h / (24 * 23)) + 0.00002 * math.sin(h / 13) + venue_offset, 8)
    return round(0.00006 - 0.00004 * min(h, 192) / 192 + venue_offset, 8)


def oi_scale(t: dt.datetime) -> float:
    """Open interest receding about 9% over the replayed week."""
    h = _hours(t)
    if h < 0:
        return 1.0 - 0.25 * math.sin(h / (24 * 53)) + 0.05 * math.sin(h / 31)
    return 1.0 - 0.09 * min(h, 216) / 216


def future_price(t: dt.datetime, expiry: dt.datetime, offset: float = 0.0) -> float:
    days = max((expiry - t).total_seconds() / 86400.0, 0.01)
    return round(index_price(t) * (1 + basis_pct(t, offset) / 100.0 * days / 365.0), 2)


def _yymmdd(e: dt.datetime) -> str:
    return f"{e:%y%m%d}"


def _bybit(e: dt.datetime) -> str:
    return f"{e:%d}{_MONTHS[e.month - 1]}{e:%y}"


def cftc_open_interest(report: dt.date) -> int:
    """Contracts on a Tuesday report: the seed's four November weeks as before, a slow wave elsewhere."""
    weeks_back = (dt.date(2025, 11, 18) - report).days // 7
    if 0 <= weeks_back <= 3:
        return 26300 + 400 * weeks_back
    return round(27000 + 1500 * math.sin(report.toordinal() / 30))


def responses(venue: str, path: str, t: dt.datetime) -> Any | None:
    """The JSON body a venue would return for `path` at time `t`, or None (404)."""
    idx = index_price(t)
    if venue == "deribit":
        if path.startswith("/public/ticker"):
            oi = round(1.05e9 * oi_scale(t))
            return {
                "jsonrpc": "2.0",
                "result": {
                    "instrument_name": "BTC-PERPETUAL",
                    "timestamp": _ms(t),
                    "index_price": idx,
                    "mark_price": round(idx * 1.0002, 2),
                    "open_interest": oi,
                    "funding_8h": funding_8h(t),
                    "current_funding": 0.0,
                },
            }
        if path.startswith("/public/get_book_summary_by_currency"):
            book = [
                {
                    "instrument_name": "BTC-PERPETUAL",
                    "mark_price": round(idx * 1.0002, 2),
                    "estimated_delivery_price": idx,
                    "open_interest": round(1.05e9 * oi_scale(t)),
                    "creation_timestamp": _ms(t),
                }
            ]
            for code, exp in listed(t).items():
                if exp > t:
                    book.append(
                        {
                            "instrument_name": f"BTC-{code}",
                            "mark_price": future_price(t, exp, 0.2),
                            "estimated_delivery_price": idx,
                            "open_interest": round(2.1e8 * oi_scale(t)),
                            "creation_timestamp": _ms(t),
                        }
                    )
            return {"jsonrpc": "2.0", "result": book}
        if path.startswith("/public/get_instruments"):
            # As the real listing: the perpetual is in it, stamped with the year 3000 (32503708800000).
            perp = {
                "instrument_name": "BTC-PERPETUAL",
                "kind": "future",
                "expiration_timestamp": 32503708800000,
                "settlement_period": "perpetual",
                "contract_size": 10.0,
            }
            return {
                "jsonrpc": "2.0",
                "result": [perp]
                + [
                    {
                        "instrument_name": f"BTC-{c}",
                        "kind": "future",
                        "expiration_timestamp": _ms(e),
                        "settlement_period": "month",
                        "contract_size": 10.0,
                    }
                    for c, e in listed(t).items()
                ],
            }
    if venue in ("binance", "binance_coinm") and "/v1/exchangeInfo" in path:
        return {
            "timezone": "UTC",
            "serverTime": _ms(t),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            ],
            "symbols": [],
        }
    if venue == "binance":
        if path.startswith("/fapi/v1/premiumIndex"):
            return {
                "symbol": "BTCUSDT",
                "markPrice": f"{idx * 1.0001:.2f}",
                "indexPrice": f"{idx:.2f}",
                "estimatedSettlePrice": f"{idx:.2f}",
                "lastFundingRate": f"{funding_8h(t, 0.00001):.8f}",
                "interestRate": "0.00010000",
                "nextFundingTime": _ms(t + dt.timedelta(hours=3)),
                "time": _ms(t),
            }
        if path.startswith("/fapi/v1/openInterest"):
            return {"openInterest": f"{86000 * oi_scale(t):.3f}", "symbol": "BTCUSDT", "time": _ms(t)}
        if path.startswith("/fapi/v1/fundingInfo"):
            return [
                {
                    "symbol": "ETHUSDT",
                    "adjustedFundingRateCap": "0.02",
                    "adjustedFundingRateFloor": "-0.02",
                    "fundingIntervalHours": 8,
                }
            ]
        if path.startswith("/futures/data/basis"):
            cur, nxt = quarters(t)
            exp = cur if "CURRENT_QUARTER" in path else nxt
            fut = future_price(t, exp, -0.1)
            return [
                {
                    "indexPrice": f"{idx:.2f}",
                    "contractType": "CURRENT_QUARTER" if "CURRENT" in path else "NEXT_QUARTER",
                    "basisRate": f"{fut / idx - 1:.4f}",
                    "futuresPrice": f"{fut:.1f}",
                    "annualizedBasisRate": "",
                    "basis": f"{fut - idx:.2f}",
                    "pair": "BTCUSDT",
                    "timestamp": _ms(t),
                }
            ]
    if venue == "binance_coinm":
        if path.startswith("/dapi/v1/premiumIndex"):
            out = [
                {
                    "symbol": "BTCUSD_PERP",
                    "pair": "BTCUSD",
                    "markPrice": f"{idx * 1.0001:.2f}",
                    "indexPrice": f"{idx:.2f}",
                    "estimatedSettlePrice": f"{idx:.2f}",
                    "lastFundingRate": f"{funding_8h(t, -0.00001):.8f}",
                    "interestRate": "0.0001",
                    "nextFundingTime": _ms(t + dt.timedelta(hours=3)),
                    "time": _ms(t),
                }
            ]
            for exp in quarters(t):
                code = _yymmdd(exp)
                out.append(
                    {
                        "symbol": f"BTCUSD_{code}",
                        "pair": "BTCUSD",
                        "markPrice": f"{future_price(t, exp, -0.3):.2f}",
                        "indexPrice": f"{idx:.2f}",
                        "estimatedSettlePrice": f"{idx:.2f}",
                        "lastFundingRate": "",
                        "interestRate": "",
                        "nextFundingTime": 0,
                        "time": _ms(t),
                    }
                )
            return out
        if path.startswith("/dapi/v1/openInterest"):
            return {
                "symbol": "BTCUSD_PERP",
                "pair": "BTCUSD",
                "openInterest": f"{int(4.6e6 * oi_scale(t))}",
                "contractType": "PERPETUAL",
                "time": _ms(t),
            }
    if venue == "bybit" and path.startswith("/v5/market/tickers"):
        rows = [
            {
                "symbol": "BTCUSDT",
                "markPrice": f"{idx * 1.0001:.2f}",
                "indexPrice": f"{idx:.2f}",
                "openInterest": f"{52000 * oi_scale(t):.3f}",
                "openInterestValue": f"{52000 * oi_scale(t) * idx:.2f}",
                "fundingRate": f"{funding_8h(t):.8f}",
                "nextFundingTime": str(_ms(t + dt.timedelta(hours=3))),
                "fundingIntervalHour": "8",
                "deliveryTime": "0",
                "basisRate": "",
                "basis": "",
            },
            {
                "symbol": "ETHUSDT",
                "markPrice": "3000",
                "indexPrice": "3000",
                "openInterest": "1",
                "openInterestValue": "3000",
                "fundingRate": "0.0001",
                "deliveryTime": "0",
            },
        ]
        for exp in quarters(t):
            code = _bybit(exp)
            rows.append(
                {
                    "symbol": f"BTC-{code}",
                    "markPrice": f"{future_price(t, exp, 0.1):.2f}",
                    "indexPrice": f"{idx:.2f}",
                    "openInterest": f"{900 * oi_scale(t):.3f}",
                    "openInterestValue": f"{900 * oi_scale(t) * idx:.2f}",
                    "fundingRate": "",
                    "deliveryTime": str(_ms(exp)),
                }
            )
        return {"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": rows}, "retExtInfo": {}, "time": _ms(t)}
    if venue == "okx":
        if path.startswith("/api/v5/public/funding-rate"):
            last = t.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=t.hour % 8)
            return {
                "code": "0",
                "msg": "",
                "data": [
                    {
                        "instType": "SWAP",
                        "instId": "BTC-USDT-SWAP",
                        "fundingRate": f"{funding_8h(t, 0.000005):.10f}",
                        "fundingTime": str(_ms(last)),
                        "nextFundingTime": str(_ms(last + dt.timedelta(hours=8))),
                    }
                ],
            }
        if path.startswith("/api/v5/public/open-interest"):
            oi_btc = 27000 * oi_scale(t)
            return {
                "code": "0",
                "msg": "",
                "data": [
                    {
                        "instType": "SWAP",
                        "instId": "BTC-USDT-SWAP",
                        "oi": f"{oi_btc * 100:.0f}",
                        "oiCcy": f"{oi_btc:.2f}",
                        "oiUsd": f"{oi_btc * idx:.0f}",
                        "ts": str(_ms(t)),
                    }
                ],
            }
        if path.startswith("/api/v5/market/index-tickers"):
            return {"code": "0", "msg": "", "data": [{"instId": "BTC-USD", "idxPx": f"{idx:.1f}", "ts": str(_ms(t))}]}
        if path.startswith("/api/v5/public/mark-price"):
            return {
                "code": "0",
                "msg": "",
                "data": [
                    {
                        "instType": "FUTURES",
                        "instId": f"BTC-USD-{_yymmdd(e)}",
                        "markPx": f"{future_price(t, e, 0.0):.1f}",
                        "ts": str(_ms(t)),
                    }
                    for e in quarters(t)
                ],
            }
    if venue == "cftc" and path.startswith("/resource/"):
        # The four newest Tuesday reports published by `t` (each out the Friday after, 21:00 UTC).
        tuesday = t.date() - dt.timedelta(days=(t.date().weekday() - 1) % 7)
        weeks = [tuesday - dt.timedelta(days=7 * n) for n in range(6)]
        published = [d for d in weeks if dt.datetime(d.year, d.month, d.day, 21, tzinfo=UTC) + dt.timedelta(days=3) <= t]
        return [
            {"report_date_as_yyyy_mm_dd": f"{d.isoformat()}T00:00:00.000", "open_interest_all": str(cftc_open_interest(d))}
            for d in published[:4]
        ]
    if venue == "cme":
        return None  # bot-protected upstream: the demo shows it blocked, as live usually is
    return None


# Illustrative BTC-USD daily closes: log-linear between rough anchors of the era, with wiggles.
_ANCHORS = [
    (dt.date(2022, 5, 1), 38000),
    (dt.date(2022, 11, 21), 15800),
    (dt.date(2023, 4, 14), 30400),
    (dt.date(2023, 9, 11), 25100),
    (dt.date(2024, 3, 13), 73000),
    (dt.date(2024, 8, 5), 54000),
    (dt.date(2024, 12, 17), 106000),
    (dt.date(2025, 4, 8), 76300),
    (dt.date(2025, 10, 6), 124500),
    (dt.date(2025, 11, 21), 84500),
    (dt.date(2025, 11, 24), 88500),
]


def close_on(day: dt.date) -> float | None:
    for (d0, p0), (d1, p1) in pairwise(_ANCHORS):
        if d0 <= day <= d1:
            f = (day - d0).days / max((d1 - d0).days, 1)
            base = math.exp(math.log(p0) + (math.log(p1) - math.log(p0)) * f)
            return round(base * (1 + 0.025 * math.sin(day.toordinal() / 6.0)), 2)
    return None


def candles(query: str, t: dt.datetime) -> list[list[float]]:
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    start = dt.date.fromisoformat(params.get("start", "2000-01-01")[:10])
    end = min(dt.date.fromisoformat(params.get("end", "2100-01-01")[:10]), t.date())
    rows: list[list[float]] = []
    day = end
    while day >= start and len(rows) < 300:
        close = close_on(day)
        if close is not None:
            prev = close_on(day - dt.timedelta(days=1)) or close
            ts = dt.datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
            rows.append([int(ts), round(min(prev, close) * 0.985, 2), round(max(prev, close) * 1.015, 2), prev, close, 12000.0])
        day -= dt.timedelta(days=1)
    return rows  # newest first, as Coinbase sends them


def spot(path: str, t: dt.datetime) -> str | None:
    """Coinbase's ticker and 24 h stats, priced on the demo's daily closes (decimal strings, as Coinbase sends)."""
    closes = [c for back in range(5) if (c := close_on(t.date() - dt.timedelta(days=back))) is not None]
    if len(closes) < 2:  # past the recordings' last day, the last two closes stand in
        return None
    close, prev = closes[0], closes[1]
    if path.startswith("/products/BTC-USD/ticker"):
        ts = (t - dt.timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
        fields = {"ask": close + 0.01, "bid": close - 0.01, "volume": 9120.5, "price": close, "size": 0.0012}
        return json.dumps({k: f"{v:.8f}".rstrip("0") for k, v in fields.items()} | {"trade_id": 1, "time": ts})
    if path.startswith("/products/BTC-USD/stats"):
        low, high = min(prev, close) * 0.99, max(prev, close) * 1.01
        fields = {"open": prev, "high": high, "low": low, "last": close, "volume": 9120.5, "volume_30day": 251000.0}
        return json.dumps({k: f"{v:.2f}" for k, v in fields.items()})
    return None


def cut_probability(t: dt.datetime) -> float:
    """Illustrative December 2025 cut odds: ~94% a month before, ~46% by 20 Nov, back up after."""
    h = (t - dt.datetime(2025, 10, 24, tzinfo=UTC)).total_seconds() / 3600.0
    if h < 27 * 24:
        return round(0.94 - 0.48 * max(h, 0) / (27 * 24), 3)
    return round(min(0.46 + 0.26 * (h - 27 * 24) / 96, 0.72), 3)


# The meetings the demo venues list, with slugs suffixed as Polymarket's are (the suffixes are made up) and
# the two endDate styles it uses: 00:00 UTC on the decision day, or 23:59 New York (04:59 UTC the day after).
_DEMO_MEETINGS = (
    (dt.date(2025, 10, 29), "fed-decision-in-october-448", "2025-10-29T00:00:00Z"),
    (dt.date(2025, 12, 10), "fed-decision-in-december-762", "2025-12-11T04:59:00Z"),
    (dt.date(2026, 1, 28), "fed-decision-in-january-20251015190323537", "2026-01-29T04:59:00Z"),
    (dt.date(2026, 3, 18), "fed-decision-in-march-885", "2026-03-18T00:00:00Z"),
)


def fed_odds(venue: str, path: str, t: dt.datetime) -> Any:
    """Each venue's listing of open Fed decision events (the listing endpoints sources/fed_odds.py asks)."""
    events = []
    for meeting, slug, end in _DEMO_MEETINGS:
        if meeting < t.date():
            continue  # decided: no longer listed as open
        # December follows cut_probability; the other meetings are priced as a near-certain cut.
        cut = (cut_probability(t) if meeting.month == 12 else 0.97) + (0.02 if venue == "kalshi" else 0.0)
        hike = 0.01
        hold = round(1 - cut - hike, 3)
        if venue == "polymarket":
            names = (
                ("50+ bps decrease", cut * 0.05),
                ("25 bps decrease", cut * 0.95),
                ("No change", hold),
                ("25+ bps increase", hike),
            )
            events.append(
                {
                    "slug": slug,
                    "title": f"Fed decision in {meeting:%B}?",
                    "endDate": end,
                    "closed": False,
                    "markets": [
                        {
                            "groupItemTitle": n,
                            "outcomes": json.dumps(["Yes", "No"]),
                            "outcomePrices": json.dumps([f"{p:.3f}", f"{1 - p:.3f}"]),
                            "closed": False,
                        }
                        for n, p in names
                    ],
                }
            )
        else:
            event = f"KXFEDDECISION-{meeting:%y}{meeting:%b}".upper()
            events.append(
                {
                    "event_ticker": event,
                    "series_ticker": "KXFEDDECISION",
                    "title": f"Fed decision in {meeting:%b %Y}?",
                    "strike_date": f"{meeting.isoformat()}T19:00:00Z",
                    "markets": [
                        {"ticker": f"{event}-{s}", "yes_sub_title": label, "last_price_dollars": f"{p:.4f}", "status": "active"}
                        for s, label, p in (
                            ("C26", "Cut >25bps", cut * 0.05),
                            ("C25", "Cut 25bps", cut * 0.95),
                            ("H0", "Fed maintains rate", hold),
                            ("H25", "Hike 25bps", hike),
                        )
                    ],
                }
            )
    return events if venue == "polymarket" else {"cursor": "", "events": events}


def body(venue: str, path: str, t: dt.datetime) -> str | None:
    if venue in ("polymarket", "kalshi") and (path.startswith("/events") or path.startswith("/markets")):
        return json.dumps(fed_odds(venue, path, t))
    if venue == "coinbase" and path.startswith("/products/BTC-USD/candles"):
        return json.dumps(candles(path.partition("?")[2], t))
    if venue == "coinbase_spot":
        return spot(path, t)
    obj = responses(venue, path, t)
    return None if obj is None else json.dumps(obj)
