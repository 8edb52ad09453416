"""The heartbeat as a viewer reads it: silent after MISSED_BEATS beats did not come."""

from __future__ import annotations

import datetime as dt

from collector.heartbeat import HEARTBEAT_S, MISSED_BEATS, SILENT_AFTER_S, silent
from store.rows import HeartbeatRow

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def row(age_s: float, beat_at: str | None = None) -> HeartbeatRow:
    at = beat_at if beat_at is not None else (NOW - dt.timedelta(seconds=age_s)).isoformat()
    return HeartbeatRow("collector", 1, "box", NOW.isoformat(), at, "")


def test_a_collector_is_silent_after_three_missed_beats_and_never_before():
    assert SILENT_AFTER_S == MISSED_BEATS * HEARTBEAT_S == 15.0
    assert not silent(row(0.0), NOW)
    assert not silent(row(SILENT_AFTER_S), NOW)  # two beats late is a loaded machine, not a dead collector
    assert silent(row(SILENT_AFTER_S + 0.5), NOW)


def test_no_beat_or_an_unreadable_one_is_silence():
    assert silent(None, NOW)
    assert silent(row(0.0, beat_at="not a time"), NOW)
