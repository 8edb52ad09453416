"""What every derivatives venue parser shares: the Quote record and strict field readers.

Venues send numbers as strings (mostly), in their own units. Readers here parse, bounds-check and
reject non-finite values, raising VenueDataError naming the field, so a drifted or lying response is
refused whole and nothing of it is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..records import DataError
from ..sanitize import clean

UTC = dt.timezone.utc
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


def loads(text: str) -> Any:
    """JSON with NaN/Infinity refused and deep nesting turned into a clean error."""

    def no_constants(name: str) -> Any:
        raise VenueDataError(f"non-finite number {name} in JSON")

    try:
        return json.loads(text, parse_constant=no_constants)
    except RecursionError:
        raise VenueDataError("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        head = text.lstrip()[:1]
        what = "HTML where JSON was expected" if head == "<" else f"not JSON ({exc.msg} at {exc.pos})"
        raise VenueDataError(what) from None


def field(obj: Mapping[str, Any], name: str, where: str) -> Any:
    if not isinstance(obj, Mapping):
        raise VenueDataError(f"{where}: expected an object, got {type(obj).__name__}")
    if name not in obj:
        raise VenueDataError(f"{where}: field {name!r} missing")
    return obj[name]


def number(
    obj: Mapping[str, Any], name: str, where: str, *, minimum: float | None = None, maximum: float | None = None,
    optional: bool = False,
) -> float | None:
    """A finite number from a JSON number or numeric string, within bounds. '' counts as absent."""
    if optional and (not isinstance(obj, Mapping) or obj.get(name) in (None, "")):
        return None
    raw = field(obj, name, where)
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise VenueDataError(f"{where}: {name} is not a number ({clean(repr(raw), max_len=40)})")
    try:
        value = float(raw.replace(",", "")) if isinstance(raw, str) else float(raw)
    except ValueError:
        raise VenueDataError(f"{where}: {name} is not a number ({clean(repr(raw), max_len=40)})") from None
    if not math.isfinite(value):
        raise VenueDataError(f"{where}: {name} is not finite")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise VenueDataError(f"{where}: {name} = {value:g} is out of range")
    return value


def price(obj, name, where, *, optional=False) -> float | None:
    return number(obj, name, where, minimum=1e-9, maximum=1e8, optional=optional)  # BTC in USD: > 0


def rate(obj, name, where, *, optional=False) -> float | None:
    return number(obj, name, where, minimum=-0.1, maximum=0.1, optional=optional)  # funding per interval


def amount(obj, name, where, *, optional=False) -> float | None:
    return number(obj, name, where, minimum=0.0, maximum=1e13, optional=optional)  # OI >= 0


def millis(obj, name, where, *, optional=False) -> dt.datetime | None:
    value = number(obj, name, where, minimum=0, maximum=4_102_444_800_000, optional=optional)
    if value is None or value == 0:
        return None
    return dt.datetime.fromtimestamp(value / 1000.0, UTC)


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
