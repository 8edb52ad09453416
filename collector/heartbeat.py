"""The collector's sign of life in the store (table `heartbeat`, Store.beat/heartbeat), read from a stored row.

The rhythm and the rule (HEARTBEAT_S, SILENT_AFTER_S, wall-clock beats) are common/desk.py's, shared with the
viewers. A beat moves no data version, so viewers recompute nothing for it.
"""

from __future__ import annotations

import datetime as dt

from common.desk import HEARTBEAT_S, MISSED_BEATS, ROLE, SILENT_AFTER_S, collector_health, wall_clock
from store.rows import HeartbeatRow

__all__ = ["HEARTBEAT_S", "MISSED_BEATS", "ROLE", "SILENT_AFTER_S", "silent", "wall_clock"]


def silent(row: HeartbeatRow | None, now: dt.datetime) -> bool:
    """No collector beat within SILENT_AFTER_S of `now` (or none ever): every figure a viewer shows may be stale."""
    return not collector_health(row.beat_at if row is not None else None, now).ok
