"""The FOMC calendar and the names Fed-odds data is stored under: what the fetch path (fed_odds.py) and the
analytics both need, kept apart so the analytics read it without loading the fetch path (httpx)."""

from __future__ import annotations

import datetime as dt

POLYMARKET, KALSHI = "polymarket", "kalshi"
# Decision days (the second day of each meeting), from the FOMC's announced tentative schedules:
# "... tentative meeting schedule for 2025" (which also gives 2026 and 27 Jan 2027) and "... tentative
# meeting schedule for 2027" (Board of Governors press release, 5 Sep 2025; also gives 26 Jan 2028; copies
# on einpresswire.com and menafn.com). Kalshi lists KXFED-27JAN/-27MAR/-27APR with strike dates 27 Jan,
# 17 Mar and 28 Apr 2027: the same days.
FOMC_DECISION_DAYS = tuple(
    dt.date.fromisoformat(d)
    for d in (
        "2025-01-29",
        "2025-03-19",
        "2025-05-07",
        "2025-06-18",
        "2025-07-30",
        "2025-09-17",
        "2025-10-29",
        "2025-12-10",
        "2026-01-28",
        "2026-03-18",
        "2026-04-29",
        "2026-06-17",
        "2026-07-29",
        "2026-09-16",
        "2026-10-28",
        "2026-12-09",
        "2027-01-27",
        "2027-03-17",
        "2027-04-28",
        "2027-06-09",
        "2027-07-28",
        "2027-09-15",
        "2027-10-27",
        "2027-12-08",
        "2028-01-26",
    )
)
BUCKETS = ("cut", "hold", "hike")
UNLISTED = "unlisted"  # observation metric: the venue's listing had no event for this meeting at that time


def calendar(extra: tuple[dt.date, ...] = ()) -> tuple[dt.date, ...]:
    """The built-in decision days and the configured ones, sorted, without repeats."""
    return tuple(sorted(set(FOMC_DECISION_DAYS) | set(extra)))


def next_meeting(today: dt.date, days: tuple[dt.date, ...] = FOMC_DECISION_DAYS) -> dt.date | None:
    return next((d for d in sorted(days) if d >= today), None)


def next_meetings(today: dt.date, days: tuple[dt.date, ...] = FOMC_DECISION_DAYS, count: int = 2) -> list[dt.date]:
    """The next meeting and the one after: tracking the second now gives next month's one-month change."""
    return [d for d in sorted(days) if d >= today][:count]
