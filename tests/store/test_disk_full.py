"""Disk full (README "Faults"): reported, polling continues with a bounded buffer, flushed when space returns.

A full disk is simulated with SQLite's `max_page_count` on the writer connection: writes that need a new
page fail with SQLITE_FULL exactly as they do on a full filesystem. SQLite only: PostgreSQL's held writes (the
server unreachable) are tests/store/test_postgres.py's.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from common.config import SourceConfig
from sources.polling import BodyResult, run_poll
from sources.runner import SourceLoop
from store import Store, StoreError
from store import sqlite as store_mod
from tests.helpers import table

D = dt.date
T0 = dt.datetime(2025, 11, 10, 12, tzinfo=dt.UTC)
CFG = SourceConfig("farside", "https://farside.co.uk", interval=900.0)

pytestmark = pytest.mark.sqlite_only


def fill_disk(store: Store) -> None:
    conn = store._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")


def free_disk(store: Store) -> None:
    store._conn.execute("PRAGMA max_page_count=1073741823")


def days(n: int, start: int = 0) -> list[tuple[dt.date, float]]:
    return [(D(2024, 1, 1) + dt.timedelta(days=start + i), float(start + i) + 0.5) for i in range(n)]


@pytest.fixture
def full_store(tmp_path):
    s = Store.open(tmp_path / "full.db")
    s.hold_when_full = True
    s.write_table(table("btc", days(3)), source="farside_btc", fetched_at=T0)
    fill_disk(s)
    yield s
    s.close()


def test_writes_are_held_reported_and_flushed_in_order_when_space_returns(full_store):
    s = full_store
    stored_before = s.sessions("btc")
    for k in range(5):  # five polls' worth, each a batch of 40 new sessions: needs new pages
        res = s.write_table(table("btc", days(40, start=10 + 40 * k)), source="farside_btc", fetched_at=T0)
        assert res.sessions == 0  # nothing claimed as written
    assert s.disk_full
    assert s.held_batches == 5
    assert "DISK FULL" in s.held_report() and str(s.path) in s.held_report()
    assert s.sessions("btc") == stored_before  # nothing already stored was lost or half-written
    assert s._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    free_disk(s)
    s.write_table(table("btc", days(1, start=500)), source="farside_btc", fetched_at=T0)
    assert not s.disk_full and s.held_batches == 0 and s.held_report() is None
    dates = [d for _, d, _, _ in s.sessions("btc")]
    assert len(dates) == 3 + 5 * 40 + 1
    # a revision made while held is replayed after the original value, so the newest value wins
    assert dict((d, t) for _, d, t, _ in s.sessions("btc"))["2024-01-11"] == 10.5


def test_status_and_meta_written_while_full_are_visible_at_once_and_stored_later(full_store):
    s = full_store
    s.write_table(table("btc", days(60, start=10)), source="farside_btc", fetched_at=T0)  # fills: now held
    assert s.disk_full
    s.set_status("farside_btc", state="ok", next_attempt="2025-11-10T12:15:00+00:00")
    s.set_meta("history:btc", "complete")
    assert s.status("farside_btc")["next_attempt"] == "2025-11-10T12:15:00+00:00"
    assert s.all_status()["farside_btc"]["state"] == "ok"
    assert s.meta("history:btc") == "complete"
    free_disk(s)
    assert s.flush_held()
    reader = sqlite3.connect(s.path)
    next_attempt = reader.execute("SELECT next_attempt FROM source_status WHERE source='farside_btc'").fetchone()[0]
    assert next_attempt == "2025-11-10T12:15:00+00:00"
    assert reader.execute("SELECT value FROM meta WHERE key='history:btc'").fetchone()[0] == "complete"


def test_the_buffer_is_bounded_and_says_how_much_it_dropped(full_store, monkeypatch):
    s = full_store
    monkeypatch.setattr(s, "_held", store_mod.deque(maxlen=4))
    for k in range(7):
        s.write_table(table("btc", days(40, start=10 + 40 * k)), source="farside_btc", fetched_at=T0)
    assert len(s._held) == 4
    assert "3 oldest dropped" in s.held_report()
    free_disk(s)
    assert s.flush_held()
    assert len(s.sessions("btc")) == 3 + 4 * 40  # the newest four batches


def test_an_alert_held_while_full_fires_once(full_store):
    s = full_store
    s.write_table(table("btc", days(60, start=10)), source="farside_btc", fetched_at=T0)
    assert s.disk_full
    assert s.log_alert("record-day:btc:2025-11-10", "record_day", "{}", created_at=T0) is True
    assert s.log_alert("record-day:btc:2025-11-10", "record_day", "{}", created_at=T0) is False
    free_disk(s)
    assert s.flush_held()
    assert s.log_alert("record-day:btc:2025-11-10", "record_day", "{}", created_at=T0) is False
    assert len(s.alerts()) == 1


def test_a_store_that_turns_read_only_is_ridden_out_the_same_way(tmp_path):
    """SQLITE_READONLY (simulated with query_only; a remounted disk or a chmod does the same) holds writes too,
    and the screen names the cause and the fix rather than saying the disk is full."""
    s = Store.open(tmp_path / "ro.db")
    s.hold_when_full = True
    s.write_table(table("btc", days(3)), source="farside_btc", fetched_at=T0)
    s._conn.execute("PRAGMA query_only=ON")
    s.write_table(table("btc", days(5, start=10)), source="farside_btc", fetched_at=T0)
    s.set_status("farside_btc", state="ok", last_success="2025-11-10T12:00:00+00:00")
    report = s.held_report()
    assert report.startswith("STORE READ-ONLY since") and "writable" in report and "DISK FULL" not in report
    assert s.status("farside_btc")["state"] == "ok" and len(s.sessions("btc")) == 3
    s._conn.execute("PRAGMA query_only=OFF")
    assert s.flush_held() and s.held_report() is None and len(s.sessions("btc")) == 8
    s._conn.execute("PRAGMA query_only=ON")
    s.hold_when_full = False  # a one-shot command is told what to do
    with pytest.raises(StoreError, match="readonly database.*writable again.*nothing already stored was lost"):
        s.write_table(table("btc", days(2, start=30)), source="farside_btc", fetched_at=T0)
    s.close()


def test_one_shot_commands_are_told_what_to_do(tmp_path):
    s = Store.open(tmp_path / "cli.db")  # hold_when_full is off outside the dashboard: the process exits
    s.write_table(table("btc", days(3)), source="x", fetched_at=T0)
    fill_disk(s)
    with pytest.raises(StoreError, match="disk is full.*free space for .*nothing already stored was lost"):
        s.write_table(table("btc", days(60, start=10)), source="x", fetched_at=T0)
    assert len(s.sessions("btc")) == 3
    s.close()


async def test_polling_continues_on_schedule_and_recovers(full_store):
    """The poll still fetches and reports ok; its next attempt is scheduled (held status), never immediate."""
    s = full_store
    batches = iter([days(60, start=10), days(60, start=70)])

    async def body():
        return BodyResult(s.write_table(table("btc", next(batches)), source="farside_btc", fetched_at=T0).sessions)

    out = await run_poll(s, "farside_btc", CFG, body, now=T0)
    assert out.state == "ok" and s.disk_full
    due = dt.datetime.fromisoformat(str(s.status("farside_btc")["next_attempt"]))
    assert due > T0 + dt.timedelta(seconds=CFG.interval * 0.8)  # on schedule, no tight retry loop
    loop = SourceLoop("farside_btc", body, s, clock=lambda: T0 + dt.timedelta(seconds=1), on_outcome=lambda o: None)
    assert loop._due() == due

    free_disk(s)
    out = await run_poll(s, "farside_btc", CFG, body, now=T0 + dt.timedelta(minutes=16))
    assert out.state == "ok" and not s.disk_full
    assert len(s.sessions("btc")) == 3 + 60 + 60


async def test_a_store_that_cannot_write_status_does_not_make_a_source_spin(tmp_path):
    """If even the status write fails (a read-only disk), the loop waits a minute before polling again."""
    import asyncio

    s = Store.open(tmp_path / "ro.db")
    polls: list[dt.datetime] = []

    async def poll(at):
        polls.append(at)
        await asyncio.sleep(0)  # a real poll yields; a spinning loop would rack up polls here
        raise sqlite3.OperationalError("attempt to write a readonly database")

    def broken(*a, **k):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    s.set_status = broken  # type: ignore[method-assign]
    loop = SourceLoop("farside_btc", poll, s, clock=lambda: T0, on_outcome=lambda o: None)
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.05)
    task.cancel()
    assert polls == [T0]  # once, then asleep until a minute has passed
    assert loop._due() == T0 + dt.timedelta(seconds=60)
    s.close()


async def test_dashboard_says_disk_full_and_clears_it_when_space_returns(demo):
    from tests.dashboard_fixtures import make_app
    from tui.bars import StatusBar

    s = demo
    app = make_app(s)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert s.hold_when_full  # the dashboard keeps polling through a full disk
        fill_disk(s)
        s.write_table(table("btc", days(80)), source="farside_btc", fetched_at=T0)
        assert s.disk_full
        app.refresh_status()
        await pilot.pause()
        assert "DISK FULL" in app.query_one(StatusBar).text
        free_disk(s)
        app.refresh_status()  # the age tick retries the held writes
        await pilot.pause()
        assert not s.disk_full
        assert "DISK FULL" not in app.query_one(StatusBar).text
    assert len(s.sessions("btc")) > 80
