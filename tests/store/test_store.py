from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from common.records import FlowRow, FlowTable
from store import Store, StoreError
from tests.helpers import table

D = dt.date
T0 = dt.datetime(2025, 11, 10, 12, tzinfo=dt.UTC)


def test_upsert_is_idempotent(make_store):
    s = make_store()
    t = table("btc", [(D(2025, 11, 3), -186.5), (D(2025, 11, 4), -566.4)])
    assert s.write_table(t, source="x", fetched_at=T0).sessions == 2
    assert s.write_table(t, source="x", fetched_at=T0).sessions == 0
    assert len(s.sessions("btc")) == 2 and len(s.flows("btc")) == 2 * 3 + 0
    assert s.revisions() == []


def test_revision_kept_with_old_and_new_value(make_store):
    s = make_store()
    s.write_table(table("btc", [(D(2025, 11, 3), -186.5)]), source="x", fetched_at=T0)
    res = s.write_table(table("btc", [(D(2025, 11, 3), -190.5)]), source="x", fetched_at=T0 + dt.timedelta(hours=1))
    assert res.revisions >= 1
    revs = {(r[2], r[3], r[4]) for r in s.revisions("btc")}
    assert ("TOTAL", -186.5, -190.5) in revs
    assert s.sessions("btc")[0][2] == -190.5


def test_missing_never_overwrites_a_stored_number(make_store):
    s = make_store()
    s.write_table(table("btc", [(D(2025, 11, 3), -186.5)]), source="x", fetched_at=T0)
    blank = FlowTable(
        "btc", ("IBIT", "FBTC", "GBTC"), (FlowRow(D(2025, 11, 3), {"IBIT": None, "FBTC": None, "GBTC": None}, None),)
    )
    s.write_table(blank, source="x", fetched_at=T0)
    assert s.sessions("btc")[0][2] == -186.5
    assert all(v is not None for *_, v in s.flows("btc"))


def test_provisional_row_then_filled(make_store):
    s = make_store()
    s.write_table(table("btc", [(D(2025, 11, 3), None)], provisional_last=True), source="x", fetched_at=T0)
    assert s.sessions("btc")[0][3] is True and s.sessions("btc")[0][2] is None
    s.write_table(table("btc", [(D(2025, 11, 3), -186.5)]), source="x", fetched_at=T0)
    assert s.sessions("btc")[0][2:] == (-186.5, False)
    assert s.revisions() == []  # filling in a `-` is not a revision


def test_second_writer_is_refused_and_becomes_read_only(make_store):
    a = make_store()
    b = make_store()
    assert not a.readonly and b.readonly and "read-only" in b.notices[0]
    with pytest.raises(StoreError):
        b.write_table(table("btc", [(D(2025, 11, 3), 1.0)]), source="x", fetched_at=T0)
    a.close()
    c = make_store()
    assert not c.readonly


def test_second_process_cannot_become_a_writer(make_store, store_at):
    a = make_store()
    code = f"from store import Store; s = Store.open({store_at()!r}); print(s.readonly)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=60
    )
    assert out.stdout.strip() == "True", out.stderr
    a.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_file_is_moved_aside_never_deleted(tmp_path, content):
    db = tmp_path / "a.db"
    db.write_bytes(content)
    s = Store.open(db)
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == content
    assert "moved to" in s.notices[0]
    s.write_table(table("btc", [(D(2025, 11, 3), 1.0)]), source="x", fetched_at=T0)
    assert len(s.sessions()) == 1


@pytest.mark.sqlite_only
def test_read_only_view_of_a_corrupt_file_says_what_to_do(tmp_path):
    db = tmp_path / "a.db"
    db.write_bytes(b"garbage" * 100)
    with pytest.raises(StoreError, match="without --offline"):
        Store.open(db, readonly=True)
    assert db.read_bytes() == b"garbage" * 100


def test_status_round_trip(make_store):
    s = make_store()
    s.set_status("farside_btc", state="error", failures=2, last_error="HTTP 500")
    s.set_status("farside_btc", last_attempt="2025-11-10T12:00:00+00:00")
    st = s.status("farside_btc")
    assert st["state"] == "error" and st["failures"] == 2 and st["last_attempt"].startswith("2025")


_WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from store import Store
    from tests.helpers import table
    s = Store.open(sys.argv[1])
    start = dt.date(2000, 1, 1)
    for i in range(100000):
        t = table("btc", [(start + dt.timedelta(days=i * 3 + k), float(i)) for k in range(3)])
        s.write_table(t, source="x", fetched_at=dt.datetime.now(dt.timezone.utc))
        print(i, flush=True)  # acknowledged: the transaction has committed
    """
)


@pytest.mark.parametrize("trial", range(4))
def test_kill_9_during_writes_loses_no_acknowledged_batch(store_at, backend, trial):
    db = store_at("k")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(db)], stdout=subprocess.PIPE, text=True, cwd=root)
    acked = -1
    deadline = time.monotonic() + 30
    target = 20 + trial * 15
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked = int(line)
        if acked >= target:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert acked >= 0
    if backend == "sqlite":
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        batches = conn.execute("SELECT COUNT(DISTINCT total_usd_m) FROM sessions").fetchone()[0]
    else:  # the server outlives its client: what it acknowledged (COMMIT returned) is there
        reader = Store.open(db, readonly=True)
        batches = len({r.total_usd_m for r in reader.sessions()})
        reader.close()
    assert batches >= acked + 1  # every acknowledged batch is there (one more may have landed unacked)
