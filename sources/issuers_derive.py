"""Issuer-derived flows: what a fund's holdings files say flowed in or out, and on which session (pure).

flow(T) = (coins held at T - coins held at the previous session) x the reference price of T, in US$ millions,
or, with no usable price, (shares outstanding change) x the file's NAV per share. Never guessed: a session
whose previous session's file is missing gets no flow, and a file that repeats a date adds nothing.

The reference price, in order of preference (each flow says which it used):
1. the stored Coinbase BTC-USD last trade nearest 16:00 New York on T (within CLOSE_WINDOW): the funds strike
   their NAV on the CME CF Bitcoin Reference Rate (New York variant) at 16:00 ET, which flowtape does not fetch;
2. the file's own NAV per share x the change in shares (exact for creations/redemptions, refused across a
   split, where shares move without coins);
3. the stored Coinbase daily close of T (00:00 UTC, three to four hours after the NAV strike).
ETH has no stored price: ETHA and ETHV flows are shares x NAV only.

Each issuer's files may be dated a session later than the trades they show (settlement): `calibrate_offset`
picks 0 or -1 session against stored Farside history and reports the error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from common.calendar import NEW_YORK, is_trading_day, previous_trading_day

from .issuers_parse import Holdings

LABEL = "issuer-derived"
SPOT_1600 = "Coinbase last trade nearest 16:00 New York"
DAILY_CLOSE = "Coinbase daily close (00:00 UTC)"
FILE_NAV = "file NAV"
CLOSE_WINDOW = dt.timedelta(minutes=15)
# Coins per share drift by the sponsor fee only (0.25 % a year, about 0.001 % a session); a move past this is
# a split or a restatement, where shares x NAV would invent a flow.
SPLIT_TOLERANCE = 0.01
MIN_OVERLAP = 5  # sessions both series must share before an offset is chosen over the default
DEFAULT_OFFSET = 0  # the file's own date: what the files say ("Fund Holdings as of", "AsOfDate")


@dataclass(frozen=True)
class Price:
    usd: float
    label: str  # where it came from (SPOT_1600 or DAILY_CLOSE)


@dataclass(frozen=True)
class DerivedFlow:
    date: dt.date  # the file's date (before any calibrated offset)
    fund: str
    usd_m: float
    method: str  # "coins x <price label>" or "shares x file NAV"


@dataclass(frozen=True)
class Calibration:
    offset: int  # sessions added to a file's date: 0 or -1
    error: float | None  # mean absolute difference from Farside, US$m, at `offset` (None: not calibrated)
    overlap: int  # sessions compared at `offset`
    calibrated: bool  # False: too little overlap, DEFAULT_OFFSET used
    errors: tuple[tuple[int, float, int], ...] = ()  # (offset, error, sessions) for every offset tried

    def describe(self) -> str:
        if not self.calibrated:
            return f"offset {self.offset:+d} session (default: {self.overlap} sessions overlap Farside, {MIN_OVERLAP} needed)"
        return f"offset {self.offset:+d} session (mean |diff| vs Farside {self.error:.1f} $m over {self.overlap})"


def price_near_close(last_trades: Iterable[tuple[dt.datetime, float]], day: dt.date) -> float | None:
    """The trade price nearest 16:00 New York on `day`, if one lies within CLOSE_WINDOW of it."""
    target = dt.datetime.combine(day, dt.time(16), NEW_YORK)
    best: tuple[dt.timedelta, float] | None = None
    for when, price in last_trades:
        gap = abs(when - target)
        if gap <= CLOSE_WINDOW and (best is None or gap < best[0]):
            best = (gap, price)
    return None if best is None else best[1]


def _shares_flow(prev: Holdings, cur: Holdings) -> float | None:
    """(shares change) x NAV per share of `cur`, in US$; None without shares/NAV or across a split."""
    nav = cur.nav_per_share
    if nav is None or prev.shares is None or cur.shares is None or prev.shares <= 0 or cur.shares <= 0:
        return None
    if prev.coins > 0 and cur.coins > 0:
        drift = (cur.coins / cur.shares) / (prev.coins / prev.shares) - 1.0
        if abs(drift) > SPLIT_TOLERANCE:
            return None  # shares moved without coins: a split, not a creation
    return (cur.shares - prev.shares) * nav


def derive_flows(history: Sequence[Holdings], prices: Mapping[dt.date, Price]) -> list[DerivedFlow]:
    """One flow per session whose file and previous session's file are both held, oldest first.
    A repeated date keeps the later file of `history`; a session without its predecessor gets nothing."""
    by_day = {h.as_of: h for h in history}
    out = []
    for day in sorted(by_day):
        prev = by_day.get(previous_trading_day(day))
        if prev is None or not is_trading_day(day):
            continue
        cur = by_day[day]
        price = prices.get(day)
        if price is not None and price.label == SPOT_1600:
            out.append(DerivedFlow(day, cur.fund, (cur.coins - prev.coins) * price.usd / 1e6, f"coins x {price.label}"))
            continue
        by_shares = _shares_flow(prev, cur)
        if by_shares is not None:
            out.append(DerivedFlow(day, cur.fund, by_shares / 1e6, f"shares x {FILE_NAV}"))
        elif price is not None:
            out.append(DerivedFlow(day, cur.fund, (cur.coins - prev.coins) * price.usd / 1e6, f"coins x {price.label}"))
    return out


def shift(day: dt.date, offset: int) -> dt.date:
    """A file's date moved by `offset` sessions (0 or -1)."""
    return previous_trading_day(day) if offset == -1 else day


def calibrate_offset(
    farside: Mapping[dt.date, float | None],
    derived: Mapping[dt.date, float],
    *,
    min_overlap: int = MIN_OVERLAP,
    default: int = DEFAULT_OFFSET,
) -> Calibration:
    """The offset (0 or -1 session) at which `derived` (by file date) best matches Farside's flows for the same
    fund, by mean absolute difference over the sessions both hold (Farside's `-` is not a session held). With
    fewer than `min_overlap` such sessions at every offset, `default`, uncalibrated."""
    tried = []
    for offset in (0, -1):
        diffs = [abs(v - f) for d, v in derived.items() if (f := farside.get(shift(d, offset))) is not None]
        if diffs:
            tried.append((offset, sum(diffs) / len(diffs), len(diffs)))
    usable = [t for t in tried if t[2] >= min_overlap]
    if not usable:
        overlap = max((t[2] for t in tried if t[0] == default), default=0)
        return Calibration(default, None, overlap, False, tuple(tried))
    offset, error, n = min(usable, key=lambda t: (t[1], t[0] != default))
    return Calibration(offset, error, n, True, tuple(tried))
