"""What every derivatives venue parser shares: the Quote record and strict field readers.

Venues send numbers as strings (mostly), in their own units. Readers here parse and check every value
against common/bounds.py, raising a DataError naming the field, so a drifted or lying response is
refused whole and nothing of it is stored. Parsers decide per row first whether it is in scope
(skip by rule: another symbol, a perpetual in a futures listing, an expired contract, a name that is
not an identifier) and only then read its values, where anything bad refuses the response.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload

from common.bounds import check, expiry_from_millis, from_millis, identifier, shown
from common.records import DataError
from common.sanitize import clean

UTC = dt.UTC
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}


class VenueDataError(DataError):
    """A venue response that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Quote:
    """One instrument at one venue at the venue's own time. Prices in USD; OI in USD and BTC."""

    venue: str
    instrument: str
    ts: dt.datetime
    mark: float | None = None  # future/perpetual price
    index: float | None = None  # spot index the venue marks against
    expiry: dt.datetime | None = None  # None: perpetual
    funding_rate: float | None = None  # fraction per funding interval
    funding_interval_h: float | None = None
    oi_usd: float | None = None
    oi_btc: float | None = None

    @property
    def perpetual(self) -> bool:
        return self.expiry is None


# No venue value needs more digits than this (epoch microseconds have 16); a longer JSON integer is
# hostile, and Python refuses to convert one past 4300 digits anyway ("Exceeds the limit").
MAX_INT_DIGITS = 40
MAX_NUMBER_TEXT = 64  # characters in a number sent as a string
_NUMERIC = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def loads(text: str) -> Any:
    """JSON with NaN/Infinity, overlong integers and deep nesting refused as VenueDataError."""

    def no_constants(name: str) -> Any:
        raise VenueDataError(f"non-finite number {name} in JSON")

    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise VenueDataError(f"a JSON integer of {len(digits.lstrip('-'))} digits (no venue value has over {MAX_INT_DIGITS})")
        return int(digits)

    try:
        return json.loads(text, parse_constant=no_constants, parse_int=bounded_int)
    except DataError:
        raise
    except RecursionError:
        raise VenueDataError("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        head = text.lstrip()[:1]
        what = "HTML where JSON was expected" if head == "<" else f"not JSON ({exc.msg} at {exc.pos})"
        raise VenueDataError(what) from None
    except ValueError as exc:  # anything else json's number parsing refuses
        raise VenueDataError(f"unreadable JSON number ({clean(str(exc), max_len=60)})") from None


def field(obj: Any, name: str, where: str) -> Any:
    if not isinstance(obj, Mapping):
        raise VenueDataError(f"{where}: expected an object, got {type(obj).__name__}")
    if name not in obj:
        raise VenueDataError(f"{where}: field {name!r} missing")
    return obj[name]


def rows(obj: Any, where: str) -> list:
    """A JSON array, or VenueDataError naming where (a string or object where a list belongs)."""
    if not isinstance(obj, list):
        raise VenueDataError(f"{where}: expected a list, got {type(obj).__name__}")
    return obj


def instrument_id(obj: Any, key: str, where: str) -> str:
    """An instrument name, through bounds.identifier (stored and printed: no control bytes, no prose)."""
    return identifier(field(obj, key, where), f"{where}: {key}")


def row_id(row: Any, key: str, where: str) -> str | None:
    """A listing row's instrument name, or None when the row is not an object or the name is not an
    identifier: such a row is out of scope and skipped (a bad name on the required row shows up as
    that row missing, which refuses the response)."""
    try:
        return instrument_id(row, key, where)
    except DataError:
        return None


# A dated BTC future on Deribit and Bybit: BTC-26DEC25 (options carry a strike and C/P after it).
DATED_BTC = re.compile(r"BTC-\d{1,2}[A-Z]{3}\d{2}")


# The readers' overloads say what `optional` means for the type: required reads return a value, never None.
@overload
def number(obj: Any, key: str, where: str, kind: str, *, optional: Literal[False] = ...) -> float: ...
@overload
def number(obj: Any, key: str, where: str, kind: str, *, optional: bool) -> float | None: ...
def number(obj: Any, key: str, where: str, kind: str, *, optional: bool = False) -> float | None:
    """A finite number (JSON number or numeric string) inside BOUNDS[kind]. Absent, null or '' is None
    when optional, else an error naming the field."""
    value = _finite(obj, key, where, optional)
    return None if value is None else check(kind, value, f"{where}: {key}")


def basis_fraction(obj: Any, key: str, where: str) -> float | None:
    """A venue's annualized basis sent as a fraction (Bybit basisRateYear, Binance annualizedBasisRate:
    0.3066 = 30.66 % a year), checked in % against 'basis_annualized_pct'; absent or '' is None."""
    value = _finite(obj, key, where, True)
    return None if value is None else check("basis_annualized_pct", value * 100.0, f"{where}: {key} x 100") / 100.0


def _finite(obj: Any, key: str, where: str, optional: bool) -> float | None:
    if optional and (not isinstance(obj, Mapping) or obj.get(key) in (None, "")):
        return None
    raw = field(obj, key, where)
    bad = VenueDataError(f"{where}: {key} is not a number ({shown(raw, 40)})")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise bad
    if isinstance(raw, str):
        text = raw.strip().replace(",", "")  # CME writes thousands with commas
        if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise VenueDataError(f"{where}: {key} is not finite")
        if len(text) > MAX_NUMBER_TEXT or not _NUMERIC.fullmatch(text):
            raise bad
        raw = text
    try:
        value = float(raw)
    except (ValueError, OverflowError):  # float() of a huge int overflows
        raise bad from None
    if not math.isfinite(value):
        raise VenueDataError(f"{where}: {key} is not finite")
    return value


@overload
def price(obj: Any, key: str, where: str, *, optional: Literal[False] = ...) -> float: ...
@overload
def price(obj: Any, key: str, where: str, *, optional: bool) -> float | None: ...
def price(obj: Any, key: str, where: str, *, optional: bool = False) -> float | None:
    return number(obj, key, where, "btc_usd", optional=optional)


@overload
def rate(obj: Any, key: str, where: str, *, optional: Literal[False] = ...) -> float: ...
@overload
def rate(obj: Any, key: str, where: str, *, optional: bool) -> float | None: ...
def rate(obj: Any, key: str, where: str, *, optional: bool = False) -> float | None:
    return number(obj, key, where, "funding_rate", optional=optional)


@overload
def millis(obj: Any, key: str, where: str, *, now: dt.datetime, optional: Literal[False] = ...) -> dt.datetime: ...
@overload
def millis(obj: Any, key: str, where: str, *, now: dt.datetime, optional: bool) -> dt.datetime | None: ...
def millis(obj: Any, key: str, where: str, *, now: dt.datetime, optional: bool = False) -> dt.datetime | None:
    """A venue instant in epoch ms, between 2010 and tomorrow (`timestamp: 0` and seconds sent as ms are refused)."""
    value = _epoch(obj, key, where, optional)
    return None if value is None else from_millis(value, f"{where}: {key}", now=now)


def expiry_millis(obj: Any, key: str, where: str, *, now: dt.datetime) -> dt.datetime:
    """A contract expiry in epoch ms (may be past: the caller skips expired contracts by rule)."""
    return expiry_from_millis(_epoch(obj, key, where, False), f"{where}: {key}", now=now)


@overload
def _epoch(obj: Any, key: str, where: str, optional: Literal[False]) -> float: ...
@overload
def _epoch(obj: Any, key: str, where: str, optional: bool) -> float | None: ...
def _epoch(obj: Any, key: str, where: str, optional: bool) -> float | None:
    if optional and (not isinstance(obj, Mapping) or obj.get(key) in (None, "")):
        return None
    raw = field(obj, key, where)
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= MAX_INT_DIGITS:
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise VenueDataError(f"{where}: {key} is not epoch milliseconds ({shown(raw, 40)})")
    try:
        return float(raw)
    except OverflowError:
        raise VenueDataError(f"{where}: {key} is not epoch milliseconds") from None


def ratio(numerator: float, denominator: float, kind: str, where: str) -> float:
    """numerator / denominator inside BOUNDS[kind] (OI in USD / index = OI in BTC)."""
    return check(kind, numerator / denominator, where)


def expiry_from_code(code: str) -> dt.datetime | None:
    """Expiry (08:00 UTC) from an instrument code: Deribit `26DEC25`, Binance/OKX `251226`."""
    m = re.fullmatch(r"(\d{1,2})([A-Z]{3})(\d{2})", code)
    try:
        if m and m.group(2) in _MONTHS:
            return dt.datetime(2000 + int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)), 8, tzinfo=UTC)
        m = re.fullmatch(r"(\d{2})(\d{2})(\d{2})", code)
        if m:
            return dt.datetime(2000 + int(m.group(1)), int(m.group(2)), int(m.group(3)), 8, tzinfo=UTC)
    except ValueError:
        return None
    return None


def quarterly_expiries(after: dt.datetime, count: int = 4) -> list[dt.datetime]:
    """The next `count` quarterly expiries: last Friday of Mar/Jun/Sep/Dec, 08:00 UTC."""
    out: list[dt.datetime] = []
    year, month = after.year, after.month
    while len(out) < count:
        if month % 3 == 0:
            nxt = dt.date(year + month // 12, month % 12 + 1, 1)
            last = nxt - dt.timedelta(days=1)
            friday = last - dt.timedelta(days=(last.weekday() - 4) % 7)
            when = dt.datetime(friday.year, friday.month, friday.day, 8, tzinfo=UTC)
            if when > after:
                out.append(when)
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def days_between(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 86400.0
