"""Plain records that sources produce and the store persists (no polars, no textual)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

ASSETS = ("btc", "eth", "sol")


ATTRIBUTION = "Source: Farside Investors"


def source_id(asset: str) -> str:
    """The status name of the Farside page for an asset ("farside_btc")."""
    return f"farside_{asset}"


class DataError(ValueError):
    """Upstream data that cannot be used (drifted schema, absurd values). Nothing from it is stored.

    `state` is what the source status shows; `prefix` introduces the message there."""

    state = "error"
    prefix = "parse error: "
TOTAL = "TOTAL"  # the pseudo-fund under which a day's published Total is stored


@dataclass(frozen=True)
class FlowRow:
    """One Farside session row: per-fund flows in US$m (None = `-`, no data) and the published Total."""

    date: dt.date
    funds: dict[str, float | None]
    total: float | None
    provisional: bool = False
    missing: tuple[str, ...] = ()  # funds that reported recently but show `-` on this row


@dataclass(frozen=True)
class FlowTable:
    """A parsed Farside table: tickers in page order, session rows (oldest first), footer rows."""

    asset: str
    tickers: tuple[str, ...]
    rows: tuple[FlowRow, ...]
    footer: dict[str, dict[str, float | None]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # kept-but-suspect findings (a Total that disagrees with its funds), for the status
