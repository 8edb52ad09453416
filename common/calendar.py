"""US trading dates: the NYSE calendar that Farside rows follow, and the New York "today".

Farside publishes no rows on weekends and NYSE holidays, so month projections, staleness and
"sessions left" all count NYSE sessions, not calendar days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")

# Unscheduled full-day closures (national days of mourning and the like).
SPECIAL_CLOSURES = frozenset(
    {
        dt.date(2018, 12, 5),  # President G. H. W. Bush
        dt.date(2025, 1, 9),  # President Carter
    }
)


def new_york_today(now: dt.datetime | None = None) -> dt.date:
    """The New York calendar date at `now` (UTC-aware), which is what "today" means for ETF flows."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(NEW_YORK).date()


def _easter(year: int) -> dt.date:
    # Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's published letters
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = (h + l - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def nyse_holidays(year: int) -> frozenset[dt.date]:
    days = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - dt.timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(dt.date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(dt.date(year, 12, 25)),
    }
    # New Year's Day on a Saturday is not observed on the Friday before (NYSE rule 7.2).
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() != 5:
        days.add(_observed(new_year))
    if year >= 2022:
        days.add(_observed(dt.date(year, 6, 19)))  # Juneteenth
    days |= {d for d in SPECIAL_CLOSURES if d.year == year}
    return frozenset(d for d in days if d.year == year)


def is_trading_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in nyse_holidays(day.year)


def trading_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Trading days in [start, end], inclusive."""
    out, day = [], start
    while day <= end:
        if is_trading_day(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def month_trading_days(year: int, month: int) -> list[dt.date]:
    start = dt.date(year, month, 1)
    end = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return trading_days(start, end)


def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Friday of `day`'s Mon-Fri week."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=4)


def previous_trading_day(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while not is_trading_day(day):
        day -= dt.timedelta(days=1)
    return day


def to_iso(ts: dt.datetime) -> str:
    """Stored timestamps: UTC, ISO 8601, whole seconds."""
    return ts.astimezone(dt.UTC).isoformat(timespec="seconds")


def from_iso(text: object) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        ts = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def end_of_day(day: dt.date, now: dt.datetime | None = None) -> dt.datetime:
    """The last second of `day` in New York (what "as of that date" means for every figure), never after `now`."""
    end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=NEW_YORK)
    return min(end, now) if now is not None else end


@dataclass(frozen=True)
class AsOf:
    """One as-of moment, built once per computation: the New York date the flows are read at, and the
    cut-off for instants (venue quotes, odds): now when following live data, else the end of that day."""

    date: dt.date
    until: dt.datetime
    following: bool

    @classmethod
    def at(cls, pinned: dt.date | None, now: dt.datetime) -> AsOf:
        day = pinned or new_york_today(now)
        return cls(day, now if pinned is None else end_of_day(day, now), pinned is None)
