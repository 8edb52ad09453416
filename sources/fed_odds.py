"""Market-implied odds for the next FOMC decision: Polymarket (Gamma API) and Kalshi, side by side.

The next meeting is the first decision day on or after today in FOMC_DECISION_DAYS (the Fed's published
calendar; `[fed] decision_days` in the config extends it). Polymarket's event is found by its slug
(`fed-decision-in-<month>`, later ones with the year), Kalshi's by `KXFEDDECISION-<YY><MON>`. Each market
becomes a bucket: cut, hold or hike, with the Yes price as its probability.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from typing import Any

import httpx

from .config import SourceConfig
from .http import BlockedError, FetchError, RateLimitedError, fetch_text, looks_like_challenge
from .polling import BodyResult, PollOutcome, run_poll
from .records import DataError
from .store import Store

POLYMARKET, KALSHI = "polymarket", "kalshi"
FOMC_DECISION_DAYS = tuple(dt.date.fromisoformat(d) for d in (
    "2025-01-29", "2025-03-19", "2025-05-07", "2025-06-18", "2025-07-30", "2025-09-17", "2025-10-29", "2025-12-10",
    "2026-01-28", "2026-03-18", "2026-04-29", "2026-06-17", "2026-07-29", "2026-09-16", "2026-10-28", "2026-12-09",
))
BUCKETS = ("cut", "hold", "hike")


class OddsError(DataError):
    pass


def next_meeting(today: dt.date, days: tuple[dt.date, ...] = FOMC_DECISION_DAYS) -> dt.date | None:
    return next((d for d in sorted(days) if d >= today), None)


def next_meetings(today: dt.date, days: tuple[dt.date, ...] = FOMC_DECISION_DAYS, count: int = 2) -> list[dt.date]:
    """The next meeting and the one after: tracking the second now gives next month's one-month change."""
    return [d for d in sorted(days) if d >= today][:count]


def polymarket_path(meeting: dt.date) -> str:
    month = meeting.strftime("%B").lower()
    slugs = (f"fed-decision-in-{month}", f"fed-decision-in-{month}-{meeting.year}")
    return "/events?" + "&".join(f"slug={s}" for s in slugs) + "&closed=false"


def kalshi_path(meeting: dt.date) -> str:
    return f"/markets?event_ticker=KXFEDDECISION-{meeting:%y}{meeting:%b}".replace(f"{meeting:%b}", f"{meeting:%b}".upper())


def bucket_of(label: str) -> str | None:
    text = label.lower()
    if "no change" in text or "hold" in text or text.endswith("-h0"):
        return "hold"
    if "decrease" in text or "cut" in text or "-c" in text[-4:]:
        return "cut"
    if "increase" in text or "hike" in text or "-h" in text[-4:]:
        return "hike"
    return None


def _probability(raw: Any, where: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise OddsError(f"{where}: price {str(raw)[:20]!r} is not a number") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise OddsError(f"{where}: price {value!r} outside 0..1")
    return value


def parse_polymarket(obj: Any, meeting: dt.date) -> dict[str, float]:
    events = obj if isinstance(obj, list) else [obj]
    events = [e for e in events if isinstance(e, dict) and not e.get("closed")]
    if not events:
        raise OddsError(f"polymarket: no open event for the {meeting:%B %Y} meeting")
    out = {b: 0.0 for b in BUCKETS}
    seen = False
    for market in events[0].get("markets") or []:
        label = str(market.get("groupItemTitle") or market.get("question") or "")
        bucket = bucket_of(label)
        if bucket is None or market.get("closed"):
            continue
        try:
            outcomes, prices = json.loads(market["outcomes"]), json.loads(market["outcomePrices"])
        except (KeyError, TypeError, ValueError):
            raise OddsError(f"polymarket {label[:30]!r}: outcomes/outcomePrices are not JSON lists") from None
        if not isinstance(outcomes, list) or not isinstance(prices, list) or "Yes" not in outcomes or len(prices) != len(outcomes):
            raise OddsError(f"polymarket {label[:30]!r}: no Yes price")
        out[bucket] += _probability(prices[outcomes.index("Yes")], f"polymarket {label[:30]!r}")
        seen = True
    if not seen:
        raise OddsError("polymarket: no cut / hold / hike markets in the event")
    return {b: round(v, 4) for b, v in out.items()}


def parse_kalshi(obj: Any, meeting: dt.date) -> dict[str, float]:
    markets = obj.get("markets") if isinstance(obj, dict) else None
    if not isinstance(markets, list) or not markets:
        raise OddsError(f"kalshi: no markets for the {meeting:%B %Y} meeting")
    out = {b: 0.0 for b in BUCKETS}
    seen = False
    for m in markets:
        if not isinstance(m, dict):
            continue
        ticker = str(m.get("ticker", ""))
        bucket = bucket_of(ticker) or bucket_of(str(m.get("yes_sub_title", "")))
        if bucket is None:
            continue
        if m.get("last_price_dollars") not in (None, ""):
            price = _probability(m["last_price_dollars"], f"kalshi {ticker}")
        elif isinstance(m.get("last_price"), (int, float)):  # older API: integer cents
            price = _probability(m["last_price"] / 100.0, f"kalshi {ticker}")
        else:
            raise OddsError(f"kalshi {ticker}: no last price")
        out[bucket] += price
        seen = True
    if not seen:
        raise OddsError("kalshi: no cut / hold / hike markets")
    return {b: round(v, 4) for b, v in out.items()}


async def poll_odds(client: httpx.AsyncClient, store: Store, cfg: SourceConfig, which: str, *, now: dt.datetime,
                    decision_days: tuple[dt.date, ...] = FOMC_DECISION_DAYS, rng: random.Random | None = None) -> PollOutcome:
    async def body() -> BodyResult:
        from .venues.common import loads

        meetings = next_meetings(now.astimezone(dt.timezone.utc).date(), decision_days)
        if not meetings:
            raise OddsError("no FOMC meeting ahead in the calendar")
        ts = now.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        rows = []
        for n, meeting in enumerate(meetings):
            path = polymarket_path(meeting) if which == POLYMARKET else kalshi_path(meeting)
            try:
                text = await fetch_text(client, cfg.base_url + path, deadline=cfg.deadline, now=now)
                if looks_like_challenge(text):
                    raise BlockedError("bot challenge instead of data")
                obj = loads(text)
                odds = parse_polymarket(obj, meeting) if which == POLYMARKET else parse_kalshi(obj, meeting)
            except (OddsError, FetchError) as exc:
                if n == 0 or isinstance(exc, RateLimitedError):
                    raise
                continue  # the meeting after next may have no market yet
            rows += [(which, meeting.isoformat(), bucket, ts, p) for bucket, p in odds.items()]
        return BodyResult(store.write_observation_rows(rows, fetched_at=now))

    return await run_poll(store, which, cfg, body, now=now, rng=rng)
