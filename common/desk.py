"""A desk on one store: the collector's heartbeat rhythm and how a viewer reads it (issue 15).

The collector (the store's one writer) beats every HEARTBEAT_S; a viewer calls it silent after SILENT_AFTER_S
without a beat, and then marks every figure stale. Textual-free, so the collector, the viewers and the
headless commands share one definition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .calendar import from_iso

HEARTBEAT_S = 5.0  # the collector writes its heartbeat this often
MISSED_BEATS = 3
SILENT_AFTER_S = MISSED_BEATS * HEARTBEAT_S  # no beat for this long: the collector is silent
ROLE = "collector"  # the heartbeat row of the store's writer (`flowtape collect`, or a collecting dashboard)


def wall_clock() -> dt.datetime:
    """Beats are stamped and judged in wall time (UTC), whatever clock a session runs its data on (the demo's
    starts in 2025): a beat says the process is alive now."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CollectorHealth:
    """What a viewer knows of the collector: alive (`ok`), or not, since `last_beat` (None: never seen one)."""

    ok: bool
    last_beat: dt.datetime | None
    age_s: float | None  # seconds since the last beat (None: no beat stored)


def collector_health(beat_at: str | None, now: dt.datetime) -> CollectorHealth:
    """The collector's health from its heartbeat's `beat_at` (ISO UTC, None when no heartbeat is stored).
    A beat stamped in the future (clock skew) counts as just now, never as silent."""
    last = from_iso(beat_at)
    if last is None:
        return CollectorHealth(ok=False, last_beat=None, age_s=None)
    age = max(0.0, (now - last).total_seconds())
    return CollectorHealth(ok=age <= SILENT_AFTER_S, last_beat=last, age_s=age)
