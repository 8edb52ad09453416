"""The store stays bounded and honest: churn of names, flipping pages, schema versions, the file deleted or
replaced under the writer, one writer per real file, rows of the wrong type."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import sqlite3
from pathlib import Path

import pytest

from common import bounds
from common.records import FlowRow, FlowTable
from sources.venues.common import Quote
from store import (
    CHURN_LIFE,
    MAX_REVISIONS_PER_CELL,
    NEW_FUNDS_PER_DAY,
    NEW_SERIES_PER_DAY,
    RETENTION,
    SCHEMA_VERSION,
    SERIES_TTL,
    Store,
    StoreError,
)
from store import sqlite as store_mod
from tests.helpers import table

UTC = dt.UTC
T0 = dt.datetime(2025, 11, 10, 0, 5, tzinfo=UTC)
D0 = dt.date(2025, 11, 3)
POLL = dt.timedelta(minutes=15)


def quote(venue: str, instrument: str, at: dt.datetime, mark: float = 100_000.0) -> Quote:
    return Quote(venue, instrument, at, mark=mark, index=mark - 50.0, oi_usd=1e9)


METRICS_PER_QUOTE = 3  # mark, index, oi_usd


def wide_table(asset: str, tickers: list[str], day: dt.date = D0, value: float = 1.0) -> FlowTable:
    funds = {t: value for t in tickers}
    return FlowTable(asset, tuple(tickers), (FlowRow(day, funds, value * len(tickers)),))


# ---- 1. churn of instrument names ------------------------------------------------------------
@pytest.mark.sqlite_only
def test_fresh_instrument_names_every_poll_keep_the_store_bounded(tmp_path):
    """1,000 polls 15 minutes apart (10.4 days), each with 10 never-seen instrument names beside 2 real ones."""
    s = Store.open(tmp_path / "churn.db")
    fresh, real = 10, ("BTC-PERPETUAL", "BTC-27MAR26")
    at = T0
    for k in range(1000):
        at = T0 + k * POLL
        quotes = [quote("deribit", name, at) for name in real]
        quotes += [quote("deribit", f"JUNK-{k}-{i}", at) for i in range(fresh)]
        s.write_quotes(quotes, fetched_at=at)
    conn = sqlite3.connect(s.path)
    span_days = (at - T0).days + 1

    # Churn names: at most NEW_SERIES_PER_DAY a UTC day are admitted; one that lived less than CHURN_LIFE is
    # deleted SERIES_TTL after it was last seen, so those still held were first seen within TTL + 2 UTC days.
    held_days = SERIES_TTL.days + 2
    churn_series = conn.execute("SELECT COUNT(*) FROM series WHERE instrument LIKE 'JUNK-%'").fetchone()[0]
    churn_rows = conn.execute("SELECT COUNT(*) FROM observations WHERE instrument LIKE 'JUNK-%'").fetchone()[0]
    assert churn_series <= NEW_SERIES_PER_DAY * held_days
    assert churn_rows <= NEW_SERIES_PER_DAY * held_days * METRICS_PER_QUOTE
    assert fresh * 1000 * METRICS_PER_QUOTE > 4 * churn_rows  # what the caps saved
    # The real instruments keep their history, thinned by RETENTION (full resolution for the first period,
    # then one per bucket), plus what accrued since the last hourly prune.
    full_res = RETENTION[0][0] // POLL
    per_metric = full_res + span_days * 24 + store_mod.PRUNE_EVERY // POLL + 1
    real_rows = conn.execute("SELECT COUNT(*) FROM observations WHERE instrument NOT LIKE 'JUNK-%'").fetchone()[0]
    assert 0 < real_rows <= len(real) * METRICS_PER_QUOTE * per_metric
    assert {r[0] for r in conn.execute("SELECT instrument FROM series WHERE instrument NOT LIKE 'JUNK-%'")} == set(real)

    # The file: every row held at most three times (table, primary key, ts index), B-tree pages at worst half
    # full, the longest row's bytes each time, plus a page per table and index.
    rows_bound = NEW_SERIES_PER_DAY * held_days * (METRICS_PER_QUOTE + 1) + len(real) * (METRICS_PER_QUOTE * per_metric + 1)
    row_bytes = max(len(v) + len(i) + len(m) + len(t) + 8 + 16 for v, i, m, t, _ in conn.execute("SELECT * FROM observations"))
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    objects = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    assert os.path.getsize(s.path) <= rows_bound * row_bytes * 3 * 2 + objects * page
    polls_per_day: dict[dt.date, int] = {}
    for k in range(1000):
        polls_per_day[(T0 + k * POLL).date()] = polls_per_day.get((T0 + k * POLL).date(), 0) + 1
    admitted = sum(min(NEW_SERIES_PER_DAY, fresh * n) for n in polls_per_day.values()) - len(real)  # day one: real are new too
    assert sum(s.refused.values()) == fresh * 1000 - admitted
    assert any(n.startswith("deribit: ") and "new instrument names refused" in n for n in s.notices)
    s.close()


def test_new_names_past_the_daily_cap_are_refused_and_counted_then_allowed_the_next_day(make_store):
    s = make_store("cap")
    extra = 36
    names = [f"X-{i}" for i in range(NEW_SERIES_PER_DAY + extra)]
    s.write_quotes([quote("okx", n, T0) for n in names], fetched_at=T0)
    held = {r[1] for r in s.observations()}
    assert held == set(names[:NEW_SERIES_PER_DAY])
    assert s.refused[("okx", T0.date().isoformat())] == extra
    assert any(n.startswith("okx: ") and f"{extra} new instrument names refused" in n for n in s.notices)
    # another venue has its own allowance; a name already admitted is always written
    s.write_quotes([quote("bybit", "BTCUSDT", T0), quote("okx", "X-0", T0 + POLL)], fetched_at=T0 + POLL)
    assert ("bybit", "BTCUSDT") in {(r[0], r[1]) for r in s.observations()}
    assert len([r for r in s.observations() if r[1] == "X-0"]) == 2 * METRICS_PER_QUOTE
    nextday = T0 + dt.timedelta(days=1)
    s.write_quotes([quote("okx", n, nextday) for n in names[NEW_SERIES_PER_DAY:]], fetched_at=nextday)
    assert set(names) == {r[1] for r in s.observations(venues=("okx",))}
    s.close()


def test_an_instrument_not_listed_for_a_week_leaves_latest_and_churn_leaves_the_store(make_store):
    s = make_store("ttl")
    s.write_quotes([quote("deribit", "BTC-26DEC25", T0), quote("deribit", "FLASH", T0)], fetched_at=T0)
    for h in range(1, 30):  # the future lives on for more than CHURN_LIFE, FLASH was seen once
        at = T0 + dt.timedelta(hours=h)
        s.write_quotes([quote("deribit", "BTC-26DEC25", at)], fetched_at=at)
    last = T0 + dt.timedelta(hours=29)
    gone = last + SERIES_TTL + dt.timedelta(hours=1)
    until = gone.isoformat(timespec="seconds")
    # read as of a week and an hour later: both are dead, neither is offered as a current quote
    assert {r[1] for r in s.observations(until=until)} == set()
    six_days = (T0 + dt.timedelta(days=6)).isoformat(timespec="seconds")
    assert {r[1] for r in s.observations(until=six_days)} == {"BTC-26DEC25", "FLASH"}  # within the week: both
    s.write_quotes([quote("deribit", "BTC-PERPETUAL", gone)], fetched_at=gone)  # the venue answers: age-out runs
    assert {r[0] for r in s._query("SELECT instrument FROM series")} == {"BTC-PERPETUAL"}
    kept = {r[0] for r in s._query("SELECT DISTINCT instrument FROM observations")}
    assert kept == {"BTC-26DEC25", "BTC-PERPETUAL"}  # the real future's history stays for looking back
    assert dt.timedelta(hours=29) >= CHURN_LIFE
    s.close()


def test_a_venue_that_stopped_answering_does_not_lose_its_instruments(make_store):
    """Age-out runs only for the venue being written: a week away (laptop closed) forgets nothing."""
    s = make_store("away")
    s.write_quotes([quote("binance", "FLASH", T0)], fetched_at=T0)
    later = T0 + SERIES_TTL * 2
    s.write_quotes([quote("deribit", "BTC-PERPETUAL", later)], fetched_at=later)
    assert ("binance", "FLASH") in {(r[0], r[1]) for r in s.observations()}
    s.close()


# ---- 2. flipping pages, wide tables, fund churn ------------------------------------------------
def test_a_page_flipping_values_keeps_a_bounded_number_of_revisions(make_store):
    s = make_store("flip")
    a, b = [(D0, 100.0)], [(D0, 200.0)]
    for k in range(100):
        res = s.write_table(table("btc", a if k % 2 == 0 else b), source="x", fetched_at=T0 + k * POLL)
        assert res.revisions == (0 if k == 0 else 4)  # TOTAL and three funds, each really changed
    revs = s.revisions("btc")
    cells = {(r[0], r[1], r[2]) for r in revs}
    assert len(cells) == 4 and len(revs) == 4 * MAX_REVISIONS_PER_CELL
    assert s.sessions("btc")[0][2] == 200.0  # the newest value stands
    newest = max(r[5] for r in revs)
    assert newest == (T0 + 99 * POLL).isoformat(timespec="seconds")  # the latest revisions are the ones kept
    s.write_table(table("btc", b), source="x", fetched_at=T0 + 100 * POLL)
    assert len(s.revisions("btc")) == 4 * MAX_REVISIONS_PER_CELL  # an unchanged value is no revision
    s.close()


def test_a_table_wider_than_the_bound_is_refused_at_the_store(make_store):
    s = make_store("wide")
    width = int(bounds.BOUNDS["funds_per_table"].high) + 1
    with pytest.raises(bounds.BoundsError, match=f"farside btc table width = {width} is outside"):
        s.write_table(wide_table("btc", [f"T{i}" for i in range(width)]), source="x", fetched_at=T0)
    assert s.funds("btc") == [] and s.flows() == [] and s.sessions() == []
    s.close()


def test_new_tickers_every_poll_add_at_most_a_days_allowance_and_churn_ages_out(make_store):
    s = make_store("tickers")
    per_poll = 20
    refused = 0
    for k in range(40):  # ten hours of polls, each with 20 tickers never seen before
        try:
            s.write_table(wide_table("btc", [f"N{k}x{i}" for i in range(per_poll)]), source="x", fetched_at=T0 + k * POLL)
        except bounds.BoundsError as exc:
            assert "new funds today" in str(exc)
            refused += 1
    assert len(s.funds("btc")) <= NEW_FUNDS_PER_DAY and refused == 40 - NEW_FUNDS_PER_DAY // per_poll
    # a week on, a real page: the churned tickers (on the page for less than a day) go, flows and all
    real = ["IBIT", "FBTC", "GBTC"]
    later = T0 + SERIES_TTL + dt.timedelta(days=1)
    s.write_table(table("btc", [(D0 + dt.timedelta(days=1), 10.0)]), source="x", fetched_at=later)
    assert s.funds("btc") == real
    assert {f for _, _, f, _ in s.flows("btc")} == set(real)
    s.close()


# ---- 3. schema versions -------------------------------------------------------------------------
# The schema as flowtape 1 created it (store.py's _SCHEMA at SCHEMA_VERSION 1), frozen here on purpose.
V1_DDL = """
CREATE TABLE sessions (
    asset TEXT NOT NULL, date TEXT NOT NULL, total_usd_m REAL, provisional INTEGER NOT NULL,
    source TEXT NOT NULL, fetched_at TEXT NOT NULL, PRIMARY KEY (asset, date));
CREATE TABLE flows (
    asset TEXT NOT NULL, date TEXT NOT NULL, fund TEXT NOT NULL, usd_m REAL,
    PRIMARY KEY (asset, date, fund));
CREATE TABLE revisions (
    asset TEXT NOT NULL, date TEXT NOT NULL, fund TEXT NOT NULL,
    old_usd_m REAL, new_usd_m REAL, seen_at TEXT NOT NULL);
CREATE TABLE funds (
    asset TEXT NOT NULL, fund TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (asset, fund));
CREATE TABLE source_status (
    source TEXT PRIMARY KEY, state TEXT NOT NULL, last_success TEXT, last_attempt TEXT,
    next_attempt TEXT, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, ban_until TEXT,
    warning TEXT);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE observations (
    venue TEXT NOT NULL, instrument TEXT NOT NULL, metric TEXT NOT NULL, ts TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (venue, instrument, metric, ts));
CREATE INDEX observations_ts ON observations (ts);
CREATE TABLE candles (
    product TEXT NOT NULL, day TEXT NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
    close REAL NOT NULL, volume REAL NOT NULL, PRIMARY KEY (product, day));
CREATE TABLE alerts (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE coinshares (
    week_ending TEXT PRIMARY KEY, total_usd_m REAL NOT NULL, btc_usd_m REAL, entered_at TEXT NOT NULL);
PRAGMA user_version = 1;
"""


def v1_store(path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_DDL)
    conn.executescript("""
        INSERT INTO sessions VALUES ('btc', '2025-11-03', -186.5, 0, 'farside_btc', '2025-11-04T00:00:00+00:00');
        INSERT INTO flows VALUES ('btc', '2025-11-03', 'IBIT', -100.0), ('btc', '2025-11-03', 'OLDF', -86.5);
        INSERT INTO funds VALUES ('btc', 'IBIT', 0), ('btc', 'OLDF', 1);
        INSERT INTO revisions VALUES ('btc', '2025-11-03', 'IBIT', -90.0, -100.0, '2025-11-04T00:00:00+00:00');
        INSERT INTO observations VALUES ('deribit', 'BTC-PERPETUAL', 'mark', '2025-11-01T00:00:00+00:00', 110000.0),
                                        ('deribit', 'BTC-PERPETUAL', 'mark', '2025-11-02T00:00:00+00:00', 111000.0),
                                        ('deribit', 'BTC-PERPETUAL', 'oi_usd', '2025-11-02T00:00:00+00:00', 'n/a');
    """)
    conn.commit()
    conn.close()


@pytest.mark.sqlite_only
def test_a_version_1_store_is_migrated_in_place_keeping_everything(tmp_path):
    db = tmp_path / "v1.db"
    v1_store(db)
    s = Store.open(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert s.sessions("btc") == [("btc", "2025-11-03", -186.5, False)]
    assert len(s.flows("btc")) == 2 and s.funds("btc") == ["IBIT", "OLDF"] and len(s.revisions()) == 1
    assert conn.execute("SELECT * FROM series").fetchall() == [
        ("deribit", "BTC-PERPETUAL", "2025-11-01T00:00:00+00:00", "2025-11-02T00:00:00+00:00")
    ]
    assert conn.execute("SELECT first_seen, last_seen FROM funds").fetchall() == [(None, None), (None, None)]
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"revisions_cell", "observations_bad"} <= indexes  # bad rows a v1 writer left are found cheaply too
    # and it works as a v2 store: a fund carried over is never taken for churn, however long it is absent
    later = dt.datetime(2026, 1, 1, tzinfo=UTC)
    s.write_table(table("btc", [(dt.date(2025, 12, 31), 5.0)]), source="farside_btc", fetched_at=later)
    assert "OLDF" in {f for _, _, f, _ in s.flows("btc")}
    s.write_quotes([quote("deribit", "BTC-PERPETUAL", later)], fetched_at=later)
    assert len(s.observations()) == 2 + METRICS_PER_QUOTE and s.set_aside["observations"] == 1
    s.close()
    assert Store.open(db).sessions("btc")[0][2] == -186.5  # reopening a current store changes nothing


@pytest.mark.sqlite_only
def test_a_store_stamped_back_to_1_by_an_older_flowtape_opens_again(tmp_path):
    """flowtape 1 sets user_version = 1 on whatever it opens: running it once on a v2 store must not lock the
    newer one out (the step re-runs over columns and tables that are already there)."""
    db = tmp_path / "back.db"
    s = Store.open(db)
    s.write_quotes([quote("deribit", "BTC-PERPETUAL", T0)], fetched_at=T0)
    s.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    s = Store.open(db)
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert len(s.observations()) == METRICS_PER_QUOTE
    s.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("readonly", [False, True])
def test_a_store_from_a_newer_flowtape_is_refused_untouched(tmp_path, readonly):
    db = tmp_path / "new.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(V1_DDL + f"CREATE TABLE future (x); PRAGMA user_version = {SCHEMA_VERSION + 1};")
    conn.close()
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    with pytest.raises(StoreError) as err:
        Store.open(db, readonly=readonly)
    assert str(err.value) == (
        f"the store {db} was written by a newer flowtape (schema {SCHEMA_VERSION + 1}, this one reads "
        f"{SCHEMA_VERSION}): upgrade flowtape or pass --db for another file"
    )
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    assert after == before
    assert Store.open(tmp_path / "other.db").readonly is False  # the refused store left no lock behind
    if not readonly:  # nor a lock on the refused file: the next attempt gives the same answer, not "read-only"
        with pytest.raises(StoreError, match="newer flowtape"):
            Store.open(db)


# ---- 4. the file deleted or replaced under a running writer ----------------------------------------
@pytest.mark.sqlite_only
@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_store_deleted_or_replaced_while_running_is_followed_and_said(tmp_path, how):
    db = tmp_path / "run.db"
    s = Store.open(db)
    s.hold_when_full = True
    s.write_table(table("btc", [(D0, 1.0)]), source="x", fetched_at=T0)
    assert s.problem is None
    if how == "deleted":
        db.unlink()
    else:
        other = tmp_path / "other.db"
        o = Store.open(other)
        o.write_table(table("eth", [(D0, 7.0)]), source="y", fetched_at=T0)
        o.close()
        os.replace(other, db)
    res = s.write_table(table("btc", [(D0 + dt.timedelta(days=1), 2.0)]), source="x", fetched_at=T0 + POLL)
    assert res.sessions == 1
    s.set_status("farside_btc", state="ok")
    s.close()

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert ("btc", "2025-11-04", 2.0) in conn.execute("SELECT asset, date, total_usd_m FROM sessions").fetchall()
    assert conn.execute("SELECT state FROM source_status").fetchall() == [("ok",)]
    if how == "replaced":  # the file moved there is the store now: its rows stay, ours join them
        assert ("eth", "2025-11-03", 7.0) in conn.execute("SELECT asset, date, total_usd_m FROM sessions").fetchall()
    assert any(f"the store {db} was {how}" in n and "writing carries on" in n for n in s.notices)
    assert s.problem and s.problem.startswith(f"STORE {how.split()[0].upper()} at")


@pytest.mark.sqlite_only
def test_a_store_deleted_while_writes_were_held_writes_them_to_the_new_file(tmp_path):
    from tests.store.test_disk_full import fill_disk

    db = tmp_path / "held.db"
    s = Store.open(db)
    s.hold_when_full = True
    s.write_table(table("btc", [(D0, 1.0)]), source="x", fetched_at=T0)
    fill_disk(s)
    s.write_table(table("btc", [(D0 + dt.timedelta(days=k), float(k)) for k in range(1, 60)]), source="x", fetched_at=T0)
    assert s.disk_full
    db.unlink()  # the user frees space by deleting the store
    assert s.flush_held() and not s.disk_full
    assert len(s.sessions("btc")) == 59
    s.close()


# ---- 5. one writer per real file -----------------------------------------------------------------
@pytest.mark.sqlite_only
@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_one_writer_per_file_whatever_name_it_is_opened_by(tmp_path, link):
    db = tmp_path / "real.db"
    a = Store.open(db)
    a.write_table(table("btc", [(D0, 1.0)]), source="x", fetched_at=T0)
    alias = tmp_path / "alias.db"
    (os.symlink if link == "symlink" else os.link)(db, alias)
    b = Store.open(alias)
    assert not a.readonly and b.readonly
    assert "another flowtape process is writing to" in b.notices[0] and "read-only" in b.notices[0]
    if link == "symlink":
        assert str(db) in b.notices[0]  # says which file it really is
    else:
        assert "hard links" in b.notices[0]  # and why reading through this name can miss the newest writes
    with pytest.raises(StoreError):
        b.write_table(table("btc", [(D0, 2.0)]), source="x", fetched_at=T0)
    a.close()
    c = Store.open(alias)
    assert not c.readonly
    c.close()


# ---- 6. rows of the wrong type are set aside, counted ----------------------------------------------
@pytest.mark.sqlite_only
def test_rows_of_the_wrong_type_are_set_aside_and_counted(tmp_path):
    from analytics.derivatives import load_derivatives
    from analytics.frames import load_asset

    s = Store.open(tmp_path / "bad.db")
    s.write_table(table("btc", [(D0, 10.0), (D0 + dt.timedelta(days=1), 20.0)]), source="x", fetched_at=T0)
    s.write_quotes([quote("deribit", "BTC-PERPETUAL", T0)], fetched_at=T0)
    ts = T0.isoformat(timespec="seconds")
    # an older or foreign writer (no constraints on this copy of the table) leaves garbage behind
    raw = sqlite3.connect(s.path)
    raw.executescript(f"""
        INSERT INTO observations VALUES ('deribit', 'BTC-PERPETUAL', 'funding_rate', '{ts}', 'n/a');
        INSERT INTO observations VALUES ('deribit', 'BTC-PERPETUAL', 'oi_btc', '2025-11-10 00:05', 5.0);
        INSERT INTO observations VALUES ('deribit', 'BTC-PERPETUAL', 'funding_interval_h', '{ts}', 9e999);
        INSERT INTO flows VALUES ('btc', '2025-11-03', 'FBTC2', 'twelve');
        INSERT INTO flows VALUES ('btc', '2025-13-45', 'IBIT', 1.0);
        INSERT INTO sessions VALUES ('btc', '2025-11-05', 'lots', 0, 'x', '{ts}');
        INSERT INTO sessions VALUES ('btc', '2025-11-06', 1.0, 'no', 'x', '{ts}');
    """)
    raw.close()
    obs = s.observations()
    assert len(obs) == METRICS_PER_QUOTE and all(isinstance(r[4], float) and math.isfinite(r[4]) for r in obs)
    assert s.set_aside["observations"] == 3
    assert len(s.flows("btc")) == 6 and s.set_aside["flows"] == 2
    assert [r[1] for r in s.sessions("btc")] == ["2025-11-03", "2025-11-04"] and s.set_aside["sessions"] == 2
    load_asset(s, "btc")  # analytics reading these rows does not raise
    load_derivatives(s, T0, band_edges=(0.0, 3.5, 7.0, 11.0), trend_pct=5.0)
    s.close()


async def test_the_status_bar_says_the_store_was_deleted(demo):
    from tests.dashboard_fixtures import make_app
    from tui.bars import StatusBar

    s = demo
    app = make_app(s)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        s.path.unlink()
        s.write_table(table("btc", [(D0, 3.0)]), source="farside_btc", fetched_at=T0)
        app.refresh_status()
        await pilot.pause()
        assert "STORE DELETED at" in app.query_one(StatusBar).text
    assert s.sessions("btc") == [("btc", "2025-11-03", 3.0, False)]


async def test_names_refused_by_the_daily_cap_are_said_in_the_venues_status(tmp_path):
    """The cap is not only a store notice: the venue's own status warns, where a trader looks."""
    import httpx

    from common.config import parse_config
    from demo import DEMO_NOW, demo_config, demo_transport
    from sources import registry
    from sources.venues.common import Quote
    from store import NEW_SERIES_PER_DAY

    store = Store.open(tmp_path / "s.db")
    junk = [
        Quote("deribit", f"BTC-JUNK{i}", DEMO_NOW, mark=90_000.0, index=90_000.0, oi_usd=1.0, oi_btc=1.0)
        for i in range(NEW_SERIES_PER_DAY)
    ]
    store.write_quotes(junk, fetched_at=DEMO_NOW)  # today's allowance of new names used up
    config = demo_config(parse_config({}, Path("<t>")))
    async with httpx.AsyncClient(transport=demo_transport(lambda: DEMO_NOW)) as client:
        out = await registry.poll(registry.spec("deribit"), client, store, config, now=DEMO_NOW)
    assert out.state == "ok"
    assert "new instrument names refused today" in (store.status("deribit")["warning"] or "")
    store.close()
