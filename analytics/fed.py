"""Fed decision odds as of a time: each venue's cut / hold / hike for the next meeting, and the change
over the last month (percentage points) from stored observations. A venue whose latest poll found no
event for the meeting is "no market listed yet", a state of its own, with the meeting's date."""

from __future__ import annotations

import dataclasses
import datetime as dt

from common.fomc import BUCKETS, FOMC_DECISION_DAYS, KALSHI, POLYMARKET, UNLISTED, next_meeting
from store import Store

from .rows import observations as checked_rows
from .views import FED_STALE_AFTER as STALE_AFTER
from .views import NOT_LISTED as NOT_LISTED
from .views import FedOdds, VenueOdds

MONTH = dt.timedelta(days=30)


def compute_fed(rows: list[tuple], as_of: dt.datetime, days: tuple[dt.date, ...] = FOMC_DECISION_DAYS) -> FedOdds | None:
    """None only when neither the calendar nor the stored odds know a meeting ahead."""
    as_of = as_of.astimezone(dt.UTC)
    today = as_of.date()
    odds_rows = [r for r in rows if r[0] in (POLYMARKET, KALSHI)]
    # Past the calendar's end, the meetings the venues listed (polls store them by date) say which is next.
    meeting = next_meeting(today, days) or next_meeting(today, tuple({dt.date.fromisoformat(r[1]) for r in odds_rows}))
    if meeting is None:
        return None
    series: dict[tuple[str, str], list[tuple[dt.datetime, float]]] = {}
    for venue, instrument, metric, ts, value in odds_rows:
        if instrument == meeting.isoformat():
            t = dt.datetime.fromisoformat(ts)
            if t <= as_of:
                series.setdefault((venue, metric), []).append((t, value))
    venues, unlisted = {}, []
    for venue in (POLYMARKET, KALSHI):
        latest = {b: max(series[(venue, b)]) for b in BUCKETS if series.get((venue, b))}
        when = max((t for t, _ in latest.values()), default=None)
        last_unlisted = max((t for t, _ in series.get((venue, UNLISTED), [])), default=None)
        if last_unlisted is not None and (when is None or last_unlisted > when):
            unlisted.append(venue)
            continue
        if when is None:
            continue
        change = {}
        for b in BUCKETS:
            old = [v for t, v in sorted(series.get((venue, b), [])) if t <= when - MONTH]
            change[b] = round((latest[b][1] - old[-1]) * 100, 1) if old and b in latest else None
        venues[venue] = VenueOdds(venue, {b: latest[b][1] for b in latest}, when, as_of - when > STALE_AFTER, change)
    return FedOdds(meeting, venues, tuple(unlisted))


def load_fed(store: Store, as_of: dt.datetime, days: tuple[dt.date, ...] = FOMC_DECISION_DAYS) -> FedOdds | None:
    since = (as_of - MONTH - dt.timedelta(days=3)).astimezone(dt.UTC).isoformat(timespec="seconds")
    until = as_of.astimezone(dt.UTC).isoformat(timespec="seconds")
    # The "unlisted" marker is stored as 1.0, a probability-shaped flag, and checked as one.
    kinds: dict[str, str | None] = {b: "probability" for b in (*BUCKETS, UNLISTED)}
    stored = store.observations(since, until, venues=(POLYMARKET, KALSHI)) + store.set_aside_rows("observations")
    rows, notices = checked_rows(stored, kinds, now=as_of.astimezone(dt.UTC))
    odds = compute_fed(rows, as_of, days)
    return dataclasses.replace(odds, notices=notices) if odds else None
