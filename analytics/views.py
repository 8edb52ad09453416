"""The records the analytics hand the screen: frozen dataclasses of Python scalars, no polars.

Defined here, apart from the polars code that computes them, so that reading persisted views
(analytics/persisted.py, analytics/codec.py) and drawing them loads no polars: a viewer that finds current
views in the store shows them without the ~53 MB of the analytics. The modules that compute each record import
it from here. The UI compares them with == to decide whether to repaint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from common.calendar import AsOf

from .scenarios import ScenarioResult, Transition

# Fed odds older than this are stale (analytics/fed.py marks them; analytics/persisted.py checks them).
FED_STALE_AFTER = dt.timedelta(hours=6)
NOT_LISTED = "no market listed yet"


# ---- Flows (analytics/flows.py computes them) ----------------------------------------------------
@dataclass(frozen=True)
class Latest:
    date: dt.date
    total_usd_m: float | None
    provisional: bool
    funds: dict[str, float | None]
    missing: tuple[str, ...]  # funds not yet reported on a provisional day


@dataclass(frozen=True)
class MonthToDate:
    month: str
    total_usd_m: float | None
    sessions: int
    sessions_left: int  # NYSE sessions in the month after the last counted one
    projected_usd_m: float | None  # a projection at the current pace, not data


@dataclass(frozen=True)
class MonthRecord:
    month: str
    total_usd_m: float


@dataclass(frozen=True)
class DayRecord:
    date: dt.date
    usd_m: float


@dataclass(frozen=True)
class FundRecords:
    max_outflow: DayRecord | None
    max_inflow: DayRecord | None
    latest_sets_outflow: bool  # the latest complete session sets or ties it ("largest outflow since launch")
    latest_sets_inflow: bool


@dataclass(frozen=True)
class Streak:
    direction: str  # red | green | flat (no complete session: flat with 0)
    sessions: int
    size_usd_m: float
    green_at_size: int  # consecutive latest sessions with total >= size
    red_at_size: int  # consecutive latest sessions with total <= -size


@dataclass(frozen=True)
class Week:
    start: dt.date
    end: dt.date
    total_usd_m: float | None
    sessions: int


@dataclass(frozen=True)
class AssetReport:
    asset: str
    as_of: dt.date
    funds: tuple[str, ...]
    latest: Latest | None
    latest_complete: dt.date | None
    month_to_date: MonthToDate
    record_outflow_month: MonthRecord | None
    record_inflow_month: MonthRecord | None
    mtd_passed_record_outflow: bool
    mtd_passed_record_inflow: bool
    record_outflow_day: DayRecord | None
    record_inflow_day: DayRecord | None
    latest_sets_record_outflow_day: bool
    latest_sets_record_inflow_day: bool
    fund_records: dict[str, FundRecords | None]
    streak: Streak
    week_to_date: Week
    last_week: Week
    cumulative_usd_m: float | None
    cumulative_by_fund: dict[str, float | None]
    fund_mtd_usd_m: dict[str, float | None]
    fund_share_mtd_pct: dict[str, float | None] = field(default_factory=dict)


# ---- The tape's full history (analytics/history.py) ----------------------------------------------
@dataclass(frozen=True)
class HistoryRow:
    date: dt.date
    funds: tuple[float | None, ...]  # in TapeHistory.funds order; None is Farside's `-`
    total: float | None  # None on a provisional session before any fund reports (Farside shows 0.0 there)
    provisional: bool


@dataclass(frozen=True)
class FundTotals:
    """One totals row: each fund's sum over the complete sessions of a span."""

    label: str
    funds: tuple[float | None, ...]  # None: the fund reported nothing in the span
    total: float | None  # None: no complete session in the span
    sessions: int  # complete sessions counted
    provisional_left_out: int  # provisional sessions in the span, shown in the tape but not summed


@dataclass(frozen=True)
class CumulativeSeries:
    """Cumulative net flow after each complete session, oldest first."""

    dates: tuple[dt.date, ...]
    total: tuple[float, ...]
    by_fund: tuple[tuple[float | None, ...], ...]  # per fund (TapeHistory.funds order): None until its first value,
    # then carried across later `-` sessions (nothing reported adds nothing)


@dataclass(frozen=True)
class TapeHistory:
    asset: str
    as_of: dt.date
    funds: tuple[str, ...]  # every fund with a value up to as_of, page order
    rows: tuple[HistoryRow, ...]  # every stored session up to as_of, oldest first
    cumulative: FundTotals
    month_to_date: FundTotals
    series: CumulativeSeries

    def fund_series(self, fund: str) -> tuple[tuple[dt.date, float], ...]:
        """One fund's cumulative points, from its first reported value on."""
        values = self.series.by_fund[self.funds.index(fund)]
        return tuple((d, v) for d, v in zip(self.series.dates, values, strict=True) if v is not None)


# ---- Derivatives (analytics/derivatives.py) ------------------------------------------------------
@dataclass(frozen=True)
class BasisVenue:
    venue: str
    annualized_pct: float
    instrument: str
    days_to_expiry: float
    as_of: dt.datetime
    stale: bool
    constant_maturity_pct: float | None


@dataclass(frozen=True)
class FundingVenue:
    venue: str
    rate: float
    interval_hours: float
    annualized_pct: float
    as_of: dt.datetime
    stale: bool


@dataclass(frozen=True)
class OIVenue:
    venue: str
    usd: float | None
    btc: float | None
    as_of: dt.datetime
    stale: bool


@dataclass(frozen=True)
class TermPoint:
    venue: str
    instrument: str
    days_to_expiry: float | None  # None: perpetual (premium, not annualized)
    pct: float
    stale: bool = False  # shown only because its venue has nothing fresh


@dataclass(frozen=True)
class Derivatives:
    as_of: dt.datetime
    basis: dict[str, BasisVenue]
    constant_maturity_pct: float | None
    headline_basis_pct: float | None  # constant maturity if available, else the mean 3-month basis
    band: str | None
    term_structure: tuple[TermPoint, ...]
    funding: dict[str, FundingVenue]
    oi_weighted_funding_pct: float | None
    open_interest: dict[str, OIVenue]
    offshore_usd: float | None
    cme_usd: float | None
    cme_btc: float | None
    change_24h_pct: float | None
    change_7d_pct: float | None
    trend: str  # rebuilding | bleeding | flat | unknown
    basis_history: tuple[float, ...]  # hourly, oldest first (sparklines)
    funding_history: tuple[float, ...]
    oi_history: tuple[float, ...]
    basis_change_24h_pt: float | None = None  # percentage points
    basis_times: tuple[dt.datetime, ...] = ()  # the hours of basis_history (chart axes)
    oi_times: tuple[dt.datetime, ...] = ()
    funding_change_24h_pt: float | None = None
    # Venues with data in the last 22 days that an aggregate leaves out (stale, or nothing current):
    basis_missing: tuple[str, ...] = ()  # from the headline basis
    funding_missing: tuple[str, ...] = ()  # from the OI-weighted funding (stale, or no fresh OI to weigh by)
    offshore_missing: tuple[str, ...] = ()  # from the offshore OI total and its 24 h / 7 d change
    notices: tuple[str, ...] = ()  # bad stored rows set aside (analytics/rows.py)

    @property
    def empty(self) -> bool:
        return not (self.basis or self.funding or self.open_interest)


# ---- The trend context (analytics/trend.py) ------------------------------------------------------
@dataclass(frozen=True)
class Trend:
    as_of: dt.date
    close: float
    sma50: float
    sma200: float
    regime: str  # "50 above 200" | "50 below 200"
    latest_cross: str | None  # death | golden
    latest_cross_date: dt.date | None
    death_crosses: int  # since cycle_start
    golden_crosses: int
    cycle_start: dt.date
    notices: tuple[str, ...] = ()  # bad stored candles set aside (analytics/rows.py)


# ---- Fed decision odds (analytics/fed.py) --------------------------------------------------------
@dataclass(frozen=True)
class VenueOdds:
    venue: str
    odds: dict[str, float]  # bucket -> probability 0..1; a bucket the venue has no market for is absent
    as_of: dt.datetime
    stale: bool
    month_change_pt: dict[str, float | None]  # bucket -> change in percentage points over ~30 days


@dataclass(frozen=True)
class FedOdds:
    meeting: dt.date
    venues: dict[str, VenueOdds]
    unlisted: tuple[str, ...] = ()  # venues whose latest listing had no event for the meeting
    notices: tuple[str, ...] = ()  # bad stored rows set aside (analytics/rows.py)

    @property
    def state(self) -> str:
        return "ok" if self.venues else (NOT_LISTED if self.unlisted else "no data yet")


# ---- What one recompute hands the screen (analytics/dashboard.py) --------------------------------
@dataclass(frozen=True)
class TapeRow:
    date: dt.date
    funds: tuple[float | None, ...]  # in AssetView.funds order
    total: float | None
    provisional: bool
    missing: tuple[str, ...]
    # Farside alone: both empty. Else, per fund (AssetView.funds order) the source of a value not from Farside
    # (None: Farside's) and whether another source disagrees with the shown value; the total's source likewise.
    origins: tuple[str | None, ...] = ()
    disputed: tuple[bool, ...] = ()
    total_origin: str | None = None


@dataclass(frozen=True)
class AssetView:
    asset: str
    as_of: dt.date
    funds: tuple[str, ...]
    report: AssetReport
    tape: tuple[TapeRow, ...]  # oldest first, the last TAPE_SESSIONS sessions up to as_of
    monthly: tuple[tuple[str, float], ...]  # (YYYY-MM, total) of complete sessions, up to the as-of month
    month_daily: tuple[tuple[dt.date, float], ...]  # the as-of month's complete sessions
    notices: tuple[str, ...] = ()  # bad stored rows set aside (analytics/rows.py)
    history: TapeHistory | None = None  # every stored session up to as_of (the maximized tape, its charts)
    series: str = "Farside"  # which series records, streaks and months use (analytics/preferred.py)
    disagreements: int = 0  # cells where two sources differ beyond the [flows] tolerance, up to as_of


@dataclass(frozen=True)
class DashboardViews:
    """One recompute's results for the screen, frozen: what the app posts in one message and applies at once.
    `complete` is False for the start-up pass that carries the market panes only (the tape paints first)."""

    as_of: AsOf
    views: dict[str, AssetView]
    dates: tuple[dt.date, ...]
    derivatives: Derivatives
    complete: bool = False
    scenario_results: tuple[ScenarioResult, ...] = ()
    transitions: tuple[Transition, ...] = ()
    ledger: dict[str, Any] | None = None  # the weekly ledger (scenario_inputs.weekly_ledger): JSON-shaped
    trend: Trend | None = None
    fed: FedOdds | None = None

    @property
    def notices(self) -> tuple[str, ...]:
        """Every bad stored row the readers set aside, one notice per table and reader."""
        found = [n for v in self.views.values() for n in v.notices]
        for part in (self.derivatives, self.trend, self.fed):
            found += list(getattr(part, "notices", ()) or ())
        return tuple(found)
