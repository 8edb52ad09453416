"""The collector's sign of life in the store (table `heartbeat`, Store.beat/heartbeat), and how a viewer reads it.

A beat moves no data version, so viewers recompute nothing for it. Its times are the wall clock's (UTC), whatever
clock the session runs on (the demo's starts in 2025): a beat says the process is alive now. Light on purpose
(no httpx, no polars): a viewer imports this to say "collector ok, 12s" or "collector silent since 10:42".
"""

from __future__ import annotations

import datetime as dt

from common.calendar import from_iso
from store.rows import HeartbeatRow

HEARTBEAT_S = 5.0  # the collector beats this often
MISSED_BEATS = 3  # a viewer calls the collector silent after this many beats did not come
SILENT_AFTER_S = HEARTBEAT_S * MISSED_BEATS
ROLE = "collector"


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def last_beat(row: HeartbeatRow | None) -> dt.datetime | None:
    """When the collector last beat (None: never, or an unreadable time)."""
    return from_iso(row.beat_at) if row is not None else None


def silent(row: HeartbeatRow | None, now: dt.datetime) -> bool:
    """No collector beat within SILENT_AFTER_S of `now` (or none ever): every figure a viewer shows may be stale."""
    beat = last_beat(row)
    return beat is None or (now - beat).total_seconds() > SILENT_AFTER_S
