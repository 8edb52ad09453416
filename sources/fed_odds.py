"""Market-implied odds for the next FOMC decision: Polymarket (Gamma API) and Kalshi, side by side.

Each venue is asked once a poll for its own listing of Fed decision events, and the event for a meeting
is resolved from that listing: Polymarket's slugs carry suffixes (`fed-decision-in-september-762`,
`fed-decision-in-october-20260617190323537`), so an event matches by its slug's month and its `endDate`;
Kalshi's by its `KXFEDDECISION-<YY><MON>` ticker and its `strike_date`. Which meetings are next comes from
the Fed's published calendar (FOMC_DECISION_DAYS, extended by `[fed] decision_days`); once the calendar has
none ahead, from the dates the listing itself gives. Each market becomes a bucket: cut, hold or hike, with
the Yes price as its probability. A meeting the venue does not list yet is stored as such (metric
UNLISTED), so the pane can say "no market listed yet" rather than go blank.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from dataclasses import dataclass
from typing import Any

import httpx

from common.bounds import BoundsError, check, identifier
from common.config import SourceConfig
from common.fomc import BUCKETS, FOMC_DECISION_DAYS, KALSHI, POLYMARKET, UNLISTED, calendar, next_meeting, next_meetings  # noqa: F401
from common.records import DataError
from common.sanitize import clean
from store import Store

from .http import BlockedError, fetch_text, looks_like_challenge
from .polling import BodyResult, PollOutcome, run_poll

# A listed date may sit a day off the decision day: Polymarket ends some events at 00:00 UTC on it, others
# at 23:59 New York (03:59 UTC the day after); Kalshi's strike_date is the decision itself.
MATCH_DAYS = 2
LISTING_PATHS = {
    # The `fed-rates` tag holds every Fed event (rate-cut counts, chair nominations...): slugs are filtered here.
    POLYMARKET: "/events?tag_slug=fed-rates&closed=false&limit=100",
    # One page holds every open meeting (about eight are listed at a time; 200 is the page maximum).
    KALSHI: "/events?series_ticker=KXFEDDECISION&status=open&with_nested_markets=true&limit=200",
}
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_POLY_SLUG = re.compile(r"fed-decision-in-(?P<month>[a-z]+)(?:-[a-z0-9]+)*")
_KALSHI_EVENT = re.compile(r"KXFEDDECISION-(?P<yy>\d\d)(?P<mon>[A-Z]{3})")
_KALSHI_BUCKET = re.compile(r"-(?P<side>[CH])(?P<bps>\d{1,3})")
FIRST_YEAR, LAST_YEAR = 2020, 2100  # dates a listing or the config may name


class OddsError(DataError):
    pass


@dataclass(frozen=True)
class ListedEvent:
    """One Fed decision event as a venue lists it."""

    ref: str  # slug or event ticker, cleaned
    month: int
    year: int | None  # from the ticker (Kalshi); Polymarket's slugs do not say
    day: dt.date | None  # the date the venue gives: Polymarket `endDate`, Kalshi `strike_date`
    markets: Any  # raw, checked when priced


def label_bucket(label: str) -> str | None:
    """cut / hold / hike from a market's label ("25 bps decrease", "No change", "Fed maintains rate", "Hike 25bps")."""
    text = label.lower()
    if "no change" in text or "maintain" in text or "hold" in text:
        return "hold"
    if "decrease" in text or "cut" in text:
        return "cut"
    if "increase" in text or "hike" in text:
        return "hike"
    return None


def kalshi_bucket(ticker: str) -> str | None:
    """From the ticker's suffix: `-C25`/`-C26` cut, `-H0` hold, `-H25`/`-H26` hike."""
    m = _KALSHI_BUCKET.search(ticker)
    if m is None or m.end() != len(ticker):
        return None
    return "hold" if int(m["bps"]) == 0 else ("cut" if m["side"] == "C" else "hike")


def _date(raw: Any, where: str) -> dt.date:
    """An ISO instant or date from a listing, as the UTC date."""
    try:
        when = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        when = None
    if when is None or not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise OddsError(f"{where}: {clean(repr(raw), max_len=40)} is not a date")
    return (when.astimezone(dt.UTC) if when.tzinfo else when).date()


def listed_events(which: str, obj: Any) -> list[ListedEvent]:
    """The open Fed decision events in a venue's listing; an answer with none is refused (both venues list
    months ahead, so an empty listing is an upstream fault, not news)."""
    events: list[ListedEvent] = []
    if which == POLYMARKET:
        items = [obj] if isinstance(obj, dict) and "slug" in obj else obj  # /events/slug/<slug> answers one object
        if not isinstance(items, list):
            raise OddsError(f"polymarket: the events listing is a {type(items).__name__}, not a list")
        for i, e in enumerate(items):
            if not isinstance(e, dict):
                raise OddsError(f"polymarket: events[{i}] is not an object")
            slug = clean(e.get("slug"), max_len=80) if isinstance(e.get("slug"), str) else ""
            m = _POLY_SLUG.fullmatch(slug)
            if m is None or m["month"] not in _MONTHS or e.get("closed") is True:
                continue
            day: dt.date | None = _date(e.get("endDate"), f"polymarket {slug} endDate")
            events.append(ListedEvent(slug, _MONTHS.index(m["month"]) + 1, None, day, e.get("markets")))
    else:
        items = obj.get("events") if isinstance(obj, dict) else None
        if not isinstance(items, list):
            raise OddsError("kalshi: no `events` list in the listing")
        for i, e in enumerate(items):
            if not isinstance(e, dict):
                raise OddsError(f"kalshi: events[{i}] is not an object")
            ticker = e.get("event_ticker")
            if not isinstance(ticker, str):
                continue
            m = _KALSHI_EVENT.fullmatch(ticker)
            mon = m["mon"].lower() if m else ""
            month = next((n for n, name in enumerate(_MONTHS, 1) if name.startswith(mon)), None) if len(mon) == 3 else None
            if m is None or month is None:
                continue
            day = None if e.get("strike_date") in (None, "") else _date(e["strike_date"], f"kalshi {ticker} strike_date")
            events.append(ListedEvent(ticker, month, 2000 + int(m["yy"]), day, e.get("markets")))
    if not events:
        raise OddsError(f"{which}: the listing holds no open Fed decision events")
    return events


def resolve(events: list[ListedEvent], meeting: dt.date) -> ListedEvent | None:
    """The listed event for `meeting`: its month, and its date (or Kalshi's ticker year) agreeing with the
    meeting's; the nearest date wins when several do. None: not listed (yet)."""

    def near(e: ListedEvent) -> bool:
        if e.day is not None:
            return abs((e.day - meeting).days) <= MATCH_DAYS
        return e.year == meeting.year  # no date: only a ticker's year pins it (a slug's month recurs yearly)

    found = [e for e in events if e.month == meeting.month and (e.year in (None, meeting.year)) and near(e)]
    return min(found, key=lambda e: abs(((e.day or meeting) - meeting).days), default=None)


def listed_meetings(events: list[ListedEvent], today: dt.date, count: int = 2) -> list[dt.date]:
    """Meetings from the listing's own dates, for when the calendar has none ahead. Decisions come on
    Wednesdays; a Thursday is Polymarket's 23:59 New York end, already the next day in UTC."""
    days = {e.day - dt.timedelta(days=1 if e.day.weekday() == 3 else 0) for e in events if e.day is not None}
    return sorted(d for d in days if d >= today)[:count]


def _probability(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise OddsError(f"{where}: price {clean(repr(raw), max_len=30)} is not a number")
    try:
        value = float(raw)
    except (ValueError, OverflowError):
        raise OddsError(f"{where}: price {clean(repr(raw), max_len=30)} is not a number") from None
    return check("probability", value, f"{where} price")


def _json_list(raw: Any, where: str) -> list:
    """Gamma sends `outcomes` and `outcomePrices` as JSON text inside the JSON."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, list):
        raise OddsError(f"{where} is not a JSON list")
    return value


def _markets(event: ListedEvent, which: str) -> list[dict]:
    if not isinstance(event.markets, list) or not all(isinstance(m, dict) for m in event.markets):
        raise OddsError(f"{which} {event.ref}: markets is not a list of objects")
    return event.markets


def _polymarket_prices(event: ListedEvent) -> list[tuple[str, float]]:
    out = []
    for market in _markets(event, POLYMARKET):
        raw = market.get("groupItemTitle") or market.get("question")
        label = clean(raw, max_len=60) if isinstance(raw, str) else ""
        bucket = label_bucket(label)
        if bucket is None or market.get("closed") is True:
            continue
        where = f"polymarket {event.ref} '{label}'"
        outcomes = _json_list(market.get("outcomes"), f"{where} outcomes")
        prices = _json_list(market.get("outcomePrices"), f"{where} outcomePrices")
        if "Yes" not in outcomes or len(prices) != len(outcomes):
            raise OddsError(f"{where}: no Yes price in outcomes / outcomePrices")
        out.append((bucket, _probability(prices[outcomes.index("Yes")], where)))
    return out


def _kalshi_prices(event: ListedEvent) -> list[tuple[str, float]]:
    out = []
    for i, m in enumerate(_markets(event, KALSHI)):
        ticker = identifier(m.get("ticker"), f"kalshi {event.ref} markets[{i}].ticker")
        sub = m.get("yes_sub_title")
        bucket = kalshi_bucket(ticker) or label_bucket(clean(sub, max_len=60) if isinstance(sub, str) else "")
        if bucket is None:
            continue
        if m.get("last_price_dollars") not in (None, ""):
            price = _probability(m["last_price_dollars"], f"kalshi {ticker} last_price_dollars")
        elif isinstance(m.get("last_price"), int) and not isinstance(m.get("last_price"), bool):  # older API: cents
            cents = m["last_price"]
            price = _probability(cents / 100.0 if 0 <= cents <= 100 else cents, f"kalshi {ticker} last_price")
        else:
            raise OddsError(f"kalshi {ticker}: no last price (last_price_dollars)")
        out.append((bucket, price))
    return out


def event_odds(which: str, event: ListedEvent) -> dict[str, float]:
    """cut / hold / hike for one listed event; buckets the event has no market for are absent (not 0)."""
    try:
        prices = _polymarket_prices(event) if which == POLYMARKET else _kalshi_prices(event)
        if not prices:
            raise OddsError(f"{which} {event.ref}: no cut / hold / hike markets")
        out: dict[str, float] = {}
        for bucket, p in prices:
            out[bucket] = out.get(bucket, 0.0) + p
        for bucket, p in out.items():
            check("probability", p, f"{which} {event.ref} {bucket} (its markets summed)")
        check("probability_sum", sum(out.values()), f"{which} {event.ref} buckets sum")
    except BoundsError as exc:  # one error type for every odd shape: OddsError
        raise OddsError(str(exc)) from None
    return {b: round(out[b], 4) for b in BUCKETS if b in out}


def parse_listing(which: str, obj: Any, meeting: dt.date) -> dict[str, float] | None:
    """The meeting's odds from a venue's listing, or None when the listing has no event for it."""
    event = resolve(listed_events(which, obj), meeting)
    return None if event is None else event_odds(which, event)


def parse_polymarket(obj: Any, meeting: dt.date) -> dict[str, float] | None:
    return parse_listing(POLYMARKET, obj, meeting)


def parse_kalshi(obj: Any, meeting: dt.date) -> dict[str, float] | None:
    return parse_listing(KALSHI, obj, meeting)


async def poll_odds(
    client: httpx.AsyncClient,
    store: Store,
    cfg: SourceConfig,
    which: str,
    *,
    now: dt.datetime,
    decision_days: tuple[dt.date, ...] = FOMC_DECISION_DAYS,
    rng: random.Random | None = None,
) -> PollOutcome:
    """One listing request; the next meeting's odds (refused whole when bad) and the one after's (skipped
    with a warning when bad: it may not be priced properly yet)."""

    async def body() -> BodyResult:
        from .venues.common import loads

        text = await fetch_text(client, cfg.base_url + LISTING_PATHS[which], deadline=cfg.deadline, now=now)
        if looks_like_challenge(text):
            raise BlockedError("bot challenge instead of data")
        events = listed_events(which, loads(text))
        today = now.astimezone(dt.UTC).date()
        meetings = next_meetings(today, decision_days) or listed_meetings(events, today)
        if not meetings:
            raise OddsError("no FOMC meeting ahead in the calendar ([fed] decision_days) or in the listing")
        ts = now.astimezone(dt.UTC).isoformat(timespec="seconds")
        rows, notes = [], []
        for n, meeting in enumerate(meetings):
            event = resolve(events, meeting)
            if event is None:
                rows.append((which, meeting.isoformat(), UNLISTED, ts, 1.0))
                if n == 0:
                    notes.append(f"no market listed yet for the {meeting:%d %b %Y} meeting")
                continue
            try:
                odds = event_odds(which, event)
            except OddsError as exc:
                if n == 0:
                    raise
                notes.append(f"{meeting:%d %b %Y} meeting not read: {exc}")
                continue
            rows += [(which, meeting.isoformat(), bucket, ts, p) for bucket, p in odds.items()]
        return BodyResult(store.write_observation_rows(rows, fetched_at=now), warning="; ".join(notes) or None)

    return await run_poll(store, which, cfg, body, now=now, rng=rng)
