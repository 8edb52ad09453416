"""Fed decision odds as of a time: each venue's cut / hold / hike for the next meeting, and the change
over the last month (percentage points) from stored observations."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sources.fed_odds import BUCKETS, FOMC_DECISION_DAYS, KALSHI, POLYMARKET, next_meeting
from sources.store import Store

from .rows import observations as checked_rows

MONTH = dt.timedelta(days=30)
STALE_AFTER = dt.timedelta(hours=6)


@dataclass(frozen=True)
class VenueOdds:
    venue: str
    odds: dict[str, float]  # bucket -> probability 0..1
    as_of: dt.datetime
    stale: bool
    month_change_pt: dict[str, float | None]  # bucket -> change in percentage points over ~30 days


@dataclass(frozen=True)
class FedOdds:
    meeting: dt.date
    venues: dict[str, VenueOdds]
    notices: tuple[str, ...] = ()  # bad stored rows set aside (analytics/rows.py)


def compute_fed(rows: list[tuple], as_of: dt.datetime, days: tuple[dt.date, ...] = FOMC_DECISION_DAYS) -> FedOdds | None:
    as_of = as_of.astimezone(dt.timezone.utc)
    meeting = next_meeting(as_of.date(), days)
    if meeting is None:
        return None
    series: dict[tuple[str, str], list[tuple[dt.datetime, float]]] = {}
    for venue, instrument, metric, ts, value in rows:
        if venue in (POLYMARKET, KALSHI) and instrument == meeting.isoformat():
            t = dt.datetime.fromisoformat(ts)
            if t <= as_of:
                series.setdefault((venue, metric), []).append((t, value))
    venues = {}
    for venue in (POLYMARKET, KALSHI):
        latest = {b: sorted(series.get((venue, b), []))[-1] for b in BUCKETS if series.get((venue, b))}
        if not latest:
            continue
        when = max(t for t, _ in latest.values())
        change = {}
        for b in BUCKETS:
            old = [v for t, v in sorted(series.get((venue, b), [])) if t <= when - MONTH]
            change[b] = round((latest[b][1] - old[-1]) * 100, 1) if old and b in latest else None
        venues[venue] = VenueOdds(venue, {b: latest[b][1] for b in latest}, when, as_of - when > STALE_AFTER, change)
    return FedOdds(meeting, venues)


def load_fed(store: Store, as_of: dt.datetime) -> FedOdds | None:
    since = (as_of - MONTH - dt.timedelta(days=3)).astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    until = as_of.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    rows, notices = checked_rows(store.observations(since, until, venues=(POLYMARKET, KALSHI)),
                                 {b: "probability" for b in BUCKETS}, now=as_of.astimezone(dt.timezone.utc))
    odds = compute_fed(rows, as_of)
    return dataclasses.replace(odds, notices=notices) if odds else None
