"""Store.changed(): the cheap "did anyone commit since I last asked" a viewer polls (issue 15), and the
collector's health read from the heartbeat (common/desk.py)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

from common.desk import HEARTBEAT_S, SILENT_AFTER_S, collector_health
from store import Store
from tests.helpers import table

NOW = dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 20)


def seen(viewer: Store, within_s: float = 10.0) -> bool:
    """changed() within a moment: PostgreSQL's NOTIFY reaches the listening socket a little after the commit
    (SQLite's PRAGMA answers at once, and so does the first call here)."""
    deadline = time.monotonic() + within_s
    while not viewer.changed():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_changed_says_true_once_per_commit_of_another_connection(store, make_store):
    viewer = make_store("flowtape", readonly=True)  # the same store, read-only (SQLite: PRAGMA; PostgreSQL: NOTIFY)
    try:
        assert viewer.changed()  # the first call: nothing was seen before it
        assert not viewer.changed() and not viewer.changed()
        store.write_table(table("btc", [(DAY, 100.0)]), source="test", fetched_at=NOW)
        assert seen(viewer)
        assert not viewer.changed()
        store.beat("collector", now=NOW, started_at=NOW)  # a commit too; data_version() says nothing moved
        version = viewer.data_version()
        assert seen(viewer) and viewer.data_version() == version
    finally:
        viewer.close()


def test_changed_sees_a_commit_from_another_process(store, make_store, store_at):
    viewer = make_store("flowtape", readonly=True)
    store.close()  # the subprocess is the writer now
    try:
        assert viewer.changed() and not viewer.changed()
        code = (
            f"import datetime as dt; from store import Store; s = Store.open({store_at('flowtape')!r}); "
            "s.beat('collector', now=dt.datetime.now(dt.UTC), started_at=dt.datetime.now(dt.UTC)); s.close()"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=os.getcwd(), timeout=60)
        assert seen(viewer)
        assert viewer.heartbeat().pid != os.getpid()
    finally:
        viewer.close()


def test_changed_before_the_store_exists_and_when_it_is_replaced(tmp_path):
    path = tmp_path / "later.db"
    viewer = Store.open(path, readonly=True)
    try:
        assert not viewer.changed()  # nothing there yet: nothing to read
        writer = Store.open(path)
        assert viewer.changed()
        writer.close()
        assert not viewer.changed() or not viewer.changed()  # the clean-close marker is one more commit
        os.replace(path, tmp_path / "old.db")
        replacement = Store.open(path)  # a new store at the same path: the viewer reads that one now
        replacement.close()
        assert viewer.changed()
    finally:
        viewer.close()


def test_collector_health_turns_silent_after_three_missed_beats():
    beat = NOW.isoformat()
    assert collector_health(beat, NOW + dt.timedelta(seconds=HEARTBEAT_S)).ok
    edge = collector_health(beat, NOW + dt.timedelta(seconds=SILENT_AFTER_S))
    assert edge.ok and edge.age_s == SILENT_AFTER_S
    silent = collector_health(beat, NOW + dt.timedelta(seconds=SILENT_AFTER_S + 1))
    assert not silent.ok and silent.last_beat == NOW
    assert collector_health(beat, NOW - dt.timedelta(seconds=30)).ok  # a beat from a clock ahead of ours: not silent
    never = collector_health(None, NOW)
    assert not never.ok and never.last_beat is None and never.age_s is None
    assert not collector_health("not a time", NOW).ok
