"""Plain records that sources produce and the store persists (no polars, no textual)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

ASSETS = ("btc", "eth", "sol")


ATTRIBUTION = "Source: Farside Investors"


def source_id(asset: str) -> str:
    """The status name of the Farside page for an asset ("farside_btc")."""
    return f"farside_{asset}"


class SourceState(StrEnum):
    """A source's state, as the status bar and `snapshot --json` show it (the values are the JSON strings)."""

    STARTING = "starting"
    OK = "ok"
    STALE = "stale"  # fetched fine, but the data is old: suspect
    ERROR = "error"
    BLOCKED = "blocked"  # a bot wall answered instead of the data
    RATE_LIMITED = "rate-limited"
    BANNED = "banned"


@dataclass(frozen=True)
class SourceStatus:
    """One source's persisted status (store table source_status), typed at the boundary where it is read."""

    state: SourceState = SourceState.STARTING
    last_success: str | None = None  # ISO UTC
    last_attempt: str | None = None
    next_attempt: str | None = None
    failures: int = 0
    last_error: str | None = None  # sanitised, short
    ban_until: str | None = None
    warning: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> SourceStatus:
        """From the store's row; a state this version does not know reads as an error saying so."""

        def text(key: str) -> str | None:
            value = row.get(key)
            return value if isinstance(value, str) else None

        raw = row.get("state")
        try:
            state = SourceState.STARTING if raw is None else SourceState(str(raw) if isinstance(raw, str) else repr(raw))
            error = text("last_error")
        except ValueError:
            state, error = SourceState.ERROR, f"unknown stored state {str(raw)[:30]!r}"
        failures = row.get("failures")
        return cls(
            state,
            text("last_success"),
            text("last_attempt"),
            text("next_attempt"),
            failures if isinstance(failures, int) and not isinstance(failures, bool) else 0,
            error,
            text("ban_until"),
            text("warning"),
        )


class DataError(ValueError):
    """Upstream data that cannot be used (drifted schema, absurd values). Nothing from it is stored.

    `state` is what the source status shows; `prefix` introduces the message there."""

    state = SourceState.ERROR
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


# meta key set in every store the demo writes into (`flowtape --demo --db`, `flowtape collect --demo`): whoever
# reads that store later (a viewer, snapshot) says DEMO, since its figures are the demo's, not the market's.
DEMO_STORE_MARK = "demo_store"
