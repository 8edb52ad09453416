"""What the analytics take from the configuration, gathered once: the dashboard, snapshot, scenarios and
export all compute with one of these (no repeated keyword defaults). No polars here: cheap to import."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.config import Config, FlowsConfig
from common.fomc import FOMC_DECISION_DAYS, calendar


@dataclass(frozen=True)
class AnalyticsSettings:
    """What the analytics take from the configuration, gathered once (not repeated as keyword defaults)."""

    streak_size_usd_m: float = 200.0
    band_edges: tuple[float, ...] = (0.0, 3.5, 7.0, 11.0)
    oi_trend_pct: float = 5.0
    cycle_start: dt.date = dt.date(2022, 11, 21)
    fed_days: tuple[dt.date, ...] = FOMC_DECISION_DAYS
    flows: FlowsConfig = FlowsConfig()  # when two flow sources disagree

    @classmethod
    def of(cls, config: Config) -> AnalyticsSettings:
        return cls(
            config.streak_size_usd_m,
            tuple(config.basis_band_edges),
            config.oi_trend_pct,
            config.cycle_start,
            calendar(config.fed.decision_days),
            config.flows,
        )
