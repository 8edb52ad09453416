"""The boundary's rules: physical bounds every upstream value meets before it becomes a record.

One table, one place. Parsers call `check()` (numbers), `check_time()` (instants) and `check_day()`
(session dates) with the field's name; a value outside its bound raises BoundsError naming the field
and the bound, so the response is refused (a required field) or the row skipped by a stated rule.
The README's boundary table is this table.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from .records import DataError
from .sanitize import clean

UTC = dt.timezone.utc


class BoundsError(DataError):
    """A value outside the physics of what it measures; the message names the field."""


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    unit: str
    why: str
    low_open: bool = False  # the low end itself is not allowed (an interval of 0 hours)

    def holds(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    def describe(self) -> str:
        return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}] {self.unit}"


BOUNDS: dict[str, Bound] = {
    "btc_usd": Bound(100.0, 10_000_000.0, "USD", "a bitcoin price, index or mark; 1e-9 gave 9.6e17 BTC of OI"),
    "oi_btc": Bound(0.0, 21_000_000.0, "BTC", "open interest in coins cannot pass the supply"),
    "oi_usd": Bound(0.0, 1e12, "USD", "one venue's open interest"),
    "oi_contracts": Bound(0.0, 10_000_000.0, "contracts", "CME / CFTC open interest in contracts"),
    "funding_rate": Bound(-0.1, 0.1, "per interval", "exchanges cap funding well inside +/-10%"),
    "funding_interval_h": Bound(0.0, 24.0, "hours", "an interval is positive; venues settle 1-8 h", low_open=True),
    "basis_annualized_pct": Bound(-1000.0, 1000.0, "% a year", "an annualized basis beyond 1000% is a unit error"),
    "probability": Bound(0.0, 1.0, "", "a price of a binary market"),
    "flow_usd_m": Bound(-20_000.0, 20_000.0, "US$ millions", "one ETF day; the largest ever is near 1,300"),
    "volume": Bound(0.0, 1e13, "units", "traded volume"),
}

# Dates an ETF flow row may carry: from the first US spot bitcoin ETF session to tomorrow (New York).
FIRST_ETF_SESSION = dt.date(2024, 1, 11)
# Instants a venue may stamp: after bitcoin had a price, at most a day ahead of our clock.
EARLIEST_INSTANT = dt.datetime(2010, 7, 17, tzinfo=UTC)
MAX_AHEAD = dt.timedelta(days=1)
# A dated future's expiry: venues list quarterlies about a year out (CME a few years); beyond 5 years
# from the quote that carried it is a unit error (milliseconds read as seconds land in the year 57,000).
MAX_EXPIRY_AHEAD = dt.timedelta(days=5 * 366)

# Instrument and fund names are identifiers, not prose: a tight alphabet and length (venue names are
# stored and shown; a name with ESC in it retitled the terminal).
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,39}")


def check(kind: str, value: float, where: str) -> float:
    """`value` if it is finite and within BOUNDS[kind], else BoundsError naming `where`."""
    bound = BOUNDS[kind]
    if not bound.holds(value):
        raise BoundsError(f"{where} = {value:g} is outside {bound.describe()}")
    return value


def check_time(when: dt.datetime, where: str, *, now: dt.datetime) -> dt.datetime:
    """An instant between EARLIEST_INSTANT and a day after `now` (seconds sent as milliseconds land in 1970)."""
    if not EARLIEST_INSTANT <= when <= now + MAX_AHEAD:
        raise BoundsError(f"{where} = {when:%Y-%m-%d %H:%M} UTC is outside {EARLIEST_INSTANT:%Y-%m-%d} .. tomorrow")
    return when


def check_expiry(when: dt.datetime, where: str, *, quoted: dt.datetime) -> dt.datetime:
    """An expiry between EARLIEST_INSTANT and MAX_EXPIRY_AHEAD after the quote (`quoted`) that carried it."""
    if not EARLIEST_INSTANT <= when <= quoted + MAX_EXPIRY_AHEAD:
        raise BoundsError(f"{where} = {when:%Y-%m-%d %H:%M} UTC is outside {EARLIEST_INSTANT:%Y-%m-%d} .. 5 years after the quote")
    return when


def from_millis(value: float, where: str, *, now: dt.datetime) -> dt.datetime:
    """A venue's epoch milliseconds as a UTC instant, within check_time's range."""
    if not math.isfinite(value) or not 0 < value < 1e14:
        raise BoundsError(f"{where} = {value:g} is not epoch milliseconds")
    return check_time(dt.datetime.fromtimestamp(value / 1000.0, UTC), where, now=now)


def check_day(day: dt.date, where: str, *, today: dt.date, first: dt.date = FIRST_ETF_SESSION) -> dt.date:
    """A session date between `first` and tomorrow."""
    if not first <= day <= today + dt.timedelta(days=1):
        raise BoundsError(f"{where} = {day.isoformat()} is outside {first.isoformat()} .. tomorrow")
    return day


def identifier(raw: object, where: str) -> str:
    """An instrument or fund name: ASCII letters, digits and `_.:/-`, at most 40 characters."""
    text = raw if isinstance(raw, str) else ""
    if not _IDENTIFIER.fullmatch(text):
        raise BoundsError(f"{where}: {clean(repr(raw), max_len=40)} is not an instrument name")
    return text


def table() -> list[tuple[str, str, str]]:
    """(quantity, bound, why) rows for the README and `--help`."""
    return [(k, b.describe(), b.why) for k, b in BOUNDS.items()]
