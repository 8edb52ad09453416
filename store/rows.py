"""Named rows: what each store read returns, one NamedTuple per table.

They still unpack positionally (`for asset, day, total, provisional in store.sessions()` keeps working), and
new code reads them by name (`row.total_usd_m`). No polars, no textual: the store's callers in every layer use them.
"""

from __future__ import annotations

from typing import NamedTuple


class SessionRow(NamedTuple):
    asset: str
    date: str  # ISO date
    total_usd_m: float | None  # the published Total (None: `-`)
    provisional: bool


class FlowCell(NamedTuple):
    asset: str
    date: str  # ISO date
    fund: str
    usd_m: float | None  # None: Farside's `-`


class RevisionRow(NamedTuple):
    asset: str
    date: str
    fund: str
    old_usd_m: float | None
    new_usd_m: float | None
    seen_at: str  # ISO UTC


class ObservationRow(NamedTuple):
    venue: str
    instrument: str
    metric: str
    ts: str  # ISO UTC seconds
    value: float


class CandleRow(NamedTuple):
    day: str  # ISO date
    close: float


class AlertRow(NamedTuple):
    key: str
    kind: str
    created_at: str
    payload: str


class CoinSharesRow(NamedTuple):
    week_ending: str  # ISO date (a Friday)
    total_usd_m: float
    btc_usd_m: float | None
    entered_at: str


class ScenarioDay(NamedTuple):
    """One persisted per-day scenario state (see Store.scenario_days)."""

    date: str  # ISO date (a BTC session)
    scenario: str  # scenario id
    label: str
    marks: str  # each condition's outcome: 1 met, 0 not, ? unknown (analytics/scenarios.py ScenarioResult.marks)
    tier: int  # how finely the store held the day's derivatives when it was computed (see analytics/cache.py)


class DataVersion(NamedTuple):
    """Counters bumped inside every data write's own transaction: a part that has not moved has nothing new."""

    flows: int  # Farside tables and CoinShares prints
    derivatives: int  # venue and odds observations (writes, pruning, age-out)
    context: int  # candles
    total: int  # every one of the above


class SourceFlowRow(NamedTuple):
    """One daily flow from a source other than Farside (store table `source_flows`)."""

    source: str  # registry id: "sosovalue", "issuer_ishares", ...
    asset: str
    date: str  # ISO date (the US trading session the flow belongs to)
    fund: str  # ticker, or TOTAL for the source's aggregate of all funds
    usd_m: float | None  # US$ millions; None: the source said it has no figure
    fetched_at: str  # ISO UTC


class HeartbeatRow(NamedTuple):
    """The store writer's last sign of life (store table `heartbeat`)."""

    role: str  # "collector"
    pid: int
    host: str
    started_at: str  # ISO UTC
    beat_at: str  # ISO UTC
    detail: str  # one line the writer wants viewers to see ("" normally)


class ViewsRow(NamedTuple):
    """Computed views persisted under a key (store table `views`)."""

    key: str
    version: str  # what the views were computed from (the caller's encoding of data version and as-of)
    computed_at: str  # ISO UTC
    payload: str  # the caller's encoding (text)
