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
import reprlib
from dataclasses import dataclass

from .records import DataError
from .sanitize import clean

UTC = dt.UTC


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
        return f"{'(' if self.low_open else '['}{_num(self.low)}, {_num(self.high)}] {self.unit}".rstrip()


def _num(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) else f"{x:g}"


BOUNDS: dict[str, Bound] = {
    "btc_usd": Bound(100.0, 10_000_000.0, "USD", "a bitcoin price, index or mark; 1e-9 gave 9.6e17 BTC of OI"),
    "oi_btc": Bound(0.0, 21_000_000.0, "BTC", "open interest in coins cannot pass the supply"),
    "oi_usd": Bound(0.0, 1e12, "USD", "one venue's open interest"),
    "oi_contracts": Bound(0.0, 10_000_000.0, "contracts", "CME / CFTC open interest in contracts"),
    "oi_contracts_usd": Bound(0.0, 1e10, "contracts", "open interest in 100-USD contracts (Binance COIN-M): 1e12 USD"),
    "funding_rate": Bound(-0.1, 0.1, "per interval", "exchanges cap funding well inside +/-10%"),
    "funding_interval_h": Bound(0.0, 24.0, "hours", "an interval is positive; venues settle 1-8 h", low_open=True),
    "basis_annualized_pct": Bound(-1000.0, 1000.0, "% a year", "an annualized basis beyond 1000% is a unit error"),
    "probability": Bound(0.0, 1.0, "", "a price of a binary market"),
    # Last prices of one meeting's mutually exclusive buckets, not normalised: each sits within a spread of
    # fair and 1-cent tails add up; real Kalshi/Polymarket captures sum to 1.02-1.05. 1.7 is a misread price.
    "probability_sum": Bound(0.85, 1.15, "", "one meeting's cut + hold + hike last prices"),
    "flow_usd_m": Bound(-20_000.0, 20_000.0, "US$ millions", "one ETF day; the largest ever is near 1,300"),
    # SoSoValue reports net assets in USD per fund and for all funds; IBIT's peak is under 1e11.
    "etf_net_assets_usd": Bound(0.0, 1e13, "USD", "one fund's or all funds' net assets"),
    "volume": Bound(0.0, 1e13, "units", "traded volume"),
    "request_weight": Bound(1.0, 1_000_000.0, "weight a minute", "Binance publishes 2,400-6,000; 0 would stop every poll"),
    # Issuer holdings files (sources/issuers*.py): one fund's coins cannot pass the asset's supply; its shares and
    # net assets are bounded well past the largest fund (IBIT: ~1.4e9 shares, under 1e11 US$).
    "fund_btc": Bound(0.0, 21_000_000.0, "BTC", "a fund's bitcoin cannot pass the supply"),
    "fund_eth": Bound(0.0, 200_000_000.0, "ETH", "a fund's ether cannot pass the supply (about 120 M)"),
    "fund_shares": Bound(0.0, 1e11, "shares", "shares outstanding of one fund"),
    "fund_net_assets_usd": Bound(0.0, 1e12, "USD", "one fund's net assets"),
    "funds_per_table": Bound(
        1.0, 40.0, "funds", "Farside's widest page has 14 columns (farside_parse reads 40); a broken page sent 200"
    ),
}

# Dates an ETF flow row may carry: from the first US spot bitcoin ETF session to tomorrow (New York).
FIRST_ETF_SESSION = dt.date(2024, 1, 11)
# Instants a venue may stamp: after bitcoin had a price, at most a day ahead of our clock.
EARLIEST_INSTANT = dt.datetime(2010, 7, 17, tzinfo=UTC)
MAX_AHEAD = dt.timedelta(days=1)
# Contract expiries lie ahead: listed futures run about a year out (CME a few); past this horizon an
# "expiry" is a sentinel (Deribit stamps its perpetual with the year 3000) or a unit error.
MAX_EXPIRY_AHEAD = dt.timedelta(days=3 * 366)


# Instrument and fund names are identifiers, not prose: a tight alphabet and length (venue names are
# stored and shown; a name with ESC in it retitled the terminal).
class _Short(reprlib.Repr):
    """reprlib, but an int of thousands of digits is described, not converted (that raises ValueError)."""

    def repr_int(self, x: int, level: int) -> str:
        return f"<an integer of {x.bit_length()} bits>" if x.bit_length() > 64 else repr(x)


_SHORT = _Short()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 2, 40, 40
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


def from_millis(value: float, where: str, *, now: dt.datetime) -> dt.datetime:
    """A venue's epoch milliseconds as a UTC instant, within check_time's range."""
    if not math.isfinite(value) or not 0 < value < 1e14:
        raise BoundsError(f"{where} = {value:g} is not epoch milliseconds")
    return check_time(dt.datetime.fromtimestamp(value / 1000.0, UTC), where, now=now)


def expiry_from_millis(value: float, where: str, *, now: dt.datetime) -> dt.datetime:
    """A contract expiry in epoch milliseconds: after EARLIEST_INSTANT, at most MAX_EXPIRY_AHEAD past `now`.
    An expiry at or before `now` is valid here (the caller skips the expired contract by rule)."""
    if not math.isfinite(value) or not 0 < value < 1e14:
        raise BoundsError(f"{where} = {value:g} is not epoch milliseconds")
    when = dt.datetime.fromtimestamp(value / 1000.0, UTC)
    return check_expiry(when, where, now=now)


def check_expiry(when: dt.datetime, where: str, *, now: dt.datetime) -> dt.datetime:
    """An expiry after EARLIEST_INSTANT and at most MAX_EXPIRY_AHEAD past `now` (the quote that carried it)."""
    if not EARLIEST_INSTANT <= when <= now + MAX_EXPIRY_AHEAD:
        raise BoundsError(
            f"{where} = {when:%Y-%m-%d %H:%M} UTC is outside {EARLIEST_INSTANT:%Y-%m-%d} .. {MAX_EXPIRY_AHEAD.days} days ahead"
        )
    return when


def check_day(day: dt.date, where: str, *, today: dt.date, first: dt.date = FIRST_ETF_SESSION) -> dt.date:
    """A session date between `first` and tomorrow."""
    if not first <= day <= today + dt.timedelta(days=1):
        raise BoundsError(f"{where} = {day.isoformat()} is outside {first.isoformat()} .. tomorrow")
    return day


def identifier(raw: object, where: str) -> str:
    """An instrument or fund name: ASCII letters, digits and `_.:/-`, at most 40 characters."""
    text = raw if isinstance(raw, str) else ""
    if not _IDENTIFIER.fullmatch(text):
        raise BoundsError(f"{where}: {shown(raw)} is not an instrument name")
    return text


def shown(raw: object, max_len: int = 40) -> str:
    """An outside value quoted in an error message: short, safe for a terminal, and never itself an error
    (repr of a 5,000-digit int raises ValueError; of a deeply nested list, RecursionError)."""
    return clean(_SHORT.repr(raw), max_len=max_len)


def table() -> list[tuple[str, str, str]]:
    """(quantity, bound, why) rows for the README and `--help`."""
    return [(k, b.describe(), b.why) for k, b in BOUNDS.items()]
