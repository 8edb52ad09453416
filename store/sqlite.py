"""The SQLite store: flow history, revisions and source status, in one local file.

WAL, synchronous=FULL, one writer connection guarded by an OS file lock (a second
process opens read-only and says so), one transaction per poll batch, idempotent upserts, revisions
kept. A file at the path that is not a healthy SQLite database is moved aside, never deleted.

Bounded and honest (README "The store"): what one write may add is capped (new instrument names per venue
per day, new funds per asset per day, revisions per cell), names that stop appearing age out, a store from a
newer flowtape is refused untouched, a store deleted or replaced under the writer is noticed and recreated,
and readers set aside rows of the wrong type (counted in `set_aside`) rather than hand them on.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import socket
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, TypeVar

from common import bounds
from common.calendar import NEW_YORK
from common.config import is_store_url
from common.records import TOTAL, FlowTable

from .rows import (
    AlertRow,
    CandleRow,
    CoinSharesRow,
    DataVersion,
    FlowCell,
    HeartbeatRow,
    ObservationRow,
    RevisionRow,
    ScenarioDay,
    SessionRow,
    SourceFlowRow,
    ViewsRow,
)

# Version 2 added funds.first_seen/last_seen, the `series` table and the revisions index (the age-out and
# the caps below). Version 3 added the data versions, the hourly observations kept at write time and the
# per-day scenario labels (compute once: analytics/cache.py). Version 4 added the flows of the second sources
# (`source_flows`), the collector's heartbeat and the persisted views (_DESK below). Each step in _MIGRATIONS
# takes a store from version N to N + 1, in one transaction.
SCHEMA_VERSION = 4
SQLITE_MAGIC = b"SQLite format 3\x00"

# What a well-typed row looks like, per table (SQLite stores any type in any column: an older or foreign writer
# can leave TEXT where REAL belongs, or an unparsable date). Timestamps are the writer's own UTC format.
_ISO_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_GOOD = {
    "sessions": f"typeof(asset) = 'text' AND date GLOB '{_ISO_DATE}' AND date(date) IS date "
    "AND typeof(total_usd_m) IN ('real', 'null') AND typeof(provisional) = 'integer'",
    "flows": f"typeof(asset) = 'text' AND date GLOB '{_ISO_DATE}' AND date(date) IS date "
    "AND typeof(fund) = 'text' AND typeof(usd_m) IN ('real', 'null')",
    "observations": f"typeof(venue) = 'text' AND typeof(instrument) = 'text' AND typeof(metric) = 'text' "
    f"AND ts GLOB '{_ISO_DATE}T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+00:00' AND datetime(ts) IS NOT NULL "
    "AND typeof(value) = 'real' AND abs(value) <= 1.7976931348623157e308",
}
_BAD = {table: f"NOT coalesce(({good}), 0)" for table, good in _GOOD.items()}
_PLAIN = {
    "sessions": "SELECT asset, date, total_usd_m, provisional FROM sessions",
    "flows": "SELECT asset, date, fund, usd_m FROM flows",
    "observations": "SELECT venue, instrument, metric, ts, value FROM observations",
}
MAX_SET_ASIDE_ROWS = 200  # handed on to be named; the count in set_aside is exact
# Observations are read by the hundred thousand: testing each row costs more than the read. A partial index holds
# just the bad rows (none, normally), so a read leaves them out and counts them for the price of a tiny lookup.
# Its WHERE must be _BAD["observations"] to the letter (the planner matches it); changing _GOOD needs a migration.
_BAD_OBSERVATIONS_INDEX = f"CREATE INDEX IF NOT EXISTS observations_bad ON observations (ts) WHERE {_BAD['observations']}"

# Compute once (schema 3). `data_version`: one counter per part, bumped inside the transaction of every write that
# changes that part's data (a rolled-back write bumps nothing), so "has anything changed" is one SELECT.
# `observations_hourly`: the last good observation of each series in each UTC hour, kept by triggers in the
# write's own transaction (whoever writes, thinning and age-out included), so an hourly read is a range scan, not a GROUP BY
# over full-resolution rows. `scenario_days`: each BTC session's scenario labels, computed once under `key` (the
# scenario definitions and settings); a write touching a date deletes the labels it can change.
_PARTS = ("flows", "derivatives", "context", "total")
_GOOD_NEW = re.sub(r"\b(venue|instrument|metric|ts|value)\b", r"NEW.\1", _GOOD["observations"])
_COMPUTE_ONCE = f"""
CREATE TABLE IF NOT EXISTS data_version (part TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT OR IGNORE INTO data_version VALUES {", ".join(f"('{p}', 0)" for p in _PARTS)};
CREATE TABLE IF NOT EXISTS observations_hourly (
    venue TEXT NOT NULL, instrument TEXT NOT NULL, metric TEXT NOT NULL, hour TEXT NOT NULL, ts TEXT NOT NULL,
    value REAL NOT NULL, PRIMARY KEY (venue, instrument, metric, hour));
CREATE INDEX IF NOT EXISTS observations_hourly_hour ON observations_hourly (hour);
CREATE TABLE IF NOT EXISTS scenario_days (
    key TEXT NOT NULL, date TEXT NOT NULL, scenario TEXT NOT NULL, label TEXT NOT NULL, marks TEXT NOT NULL,
    tier INTEGER NOT NULL,
    PRIMARY KEY (key, date, scenario));
CREATE INDEX IF NOT EXISTS scenario_days_date ON scenario_days (date);
CREATE TRIGGER IF NOT EXISTS observations_hourly_insert AFTER INSERT ON observations WHEN {_GOOD_NEW}
BEGIN
    INSERT INTO observations_hourly VALUES (NEW.venue, NEW.instrument, NEW.metric, substr(NEW.ts, 1, 13), NEW.ts, NEW.value)
    ON CONFLICT (venue, instrument, metric, hour) DO UPDATE SET ts = excluded.ts, value = excluded.value
    WHERE excluded.ts >= observations_hourly.ts;
END;
CREATE TRIGGER IF NOT EXISTS observations_hourly_delete AFTER DELETE ON observations
BEGIN
    DELETE FROM observations_hourly WHERE venue = OLD.venue AND instrument = OLD.instrument AND metric = OLD.metric
        AND hour = substr(OLD.ts, 1, 13) AND ts = OLD.ts;
    INSERT INTO observations_hourly
        SELECT venue, instrument, metric, substr(ts, 1, 13), MAX(ts), value FROM observations
        WHERE venue = OLD.venue AND instrument = OLD.instrument AND metric = OLD.metric
            AND ts >= substr(OLD.ts, 1, 13) AND ts < substr(OLD.ts, 1, 13) || char(59) AND {_GOOD["observations"]}
            AND NOT EXISTS (SELECT 1 FROM observations_hourly WHERE venue = OLD.venue AND instrument = OLD.instrument
                AND metric = OLD.metric AND hour = substr(OLD.ts, 1, 13))
        GROUP BY venue, instrument, metric, substr(ts, 1, 13);
END
"""
# Version 4, a desk on one store (issues 15 and 16):
# `source_flows`: per-fund daily flows from sources other than Farside (SoSoValue, the issuers' own files), one row
#   per (source, asset, date, fund), side by side with Farside's `flows`; fund TOTAL holds a source's aggregate.
#   Writes bump the `flows` version like Farside's.
# `heartbeat`: one row per role ("collector"), rewritten every few seconds by the store's writer. It bumps no data
#   version: a viewer sees the commit (PRAGMA data_version moves) but recomputes nothing for it.
# `views`: computed views persisted under a key (the data version and whatever else they depend on), so a screen
#   can draw them without computing; bumps no data version either.
_DESK = """
CREATE TABLE IF NOT EXISTS source_flows (
    source TEXT NOT NULL, asset TEXT NOT NULL, date TEXT NOT NULL, fund TEXT NOT NULL, usd_m REAL,
    fetched_at TEXT NOT NULL, PRIMARY KEY (source, asset, date, fund));
CREATE INDEX IF NOT EXISTS source_flows_day ON source_flows (asset, date);
CREATE TABLE IF NOT EXISTS heartbeat (
    role TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, started_at TEXT NOT NULL, beat_at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS views (
    key TEXT PRIMARY KEY, version TEXT NOT NULL, computed_at TEXT NOT NULL, payload TEXT NOT NULL)
"""
# The hourly rows of every good observation (a new store's or a migrated one's first fill).
_FILL_HOURLY = f"""INSERT INTO observations_hourly
    SELECT venue, instrument, metric, substr(ts, 1, 13), MAX(ts), value FROM observations
    WHERE {_GOOD["observations"]} GROUP BY venue, instrument, metric, substr(ts, 1, 13)"""


_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS sessions (
    asset TEXT NOT NULL, date TEXT NOT NULL, total_usd_m REAL, provisional INTEGER NOT NULL,
    source TEXT NOT NULL, fetched_at TEXT NOT NULL, PRIMARY KEY (asset, date));
CREATE TABLE IF NOT EXISTS flows (
    asset TEXT NOT NULL, date TEXT NOT NULL, fund TEXT NOT NULL, usd_m REAL,
    PRIMARY KEY (asset, date, fund));
CREATE TABLE IF NOT EXISTS revisions (
    asset TEXT NOT NULL, date TEXT NOT NULL, fund TEXT NOT NULL,
    old_usd_m REAL, new_usd_m REAL, seen_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS revisions_cell ON revisions (asset, date, fund);
CREATE TABLE IF NOT EXISTS funds (
    asset TEXT NOT NULL, fund TEXT NOT NULL, position INTEGER NOT NULL, first_seen TEXT, last_seen TEXT,
    PRIMARY KEY (asset, fund));
CREATE TABLE IF NOT EXISTS source_status (
    source TEXT PRIMARY KEY, state TEXT NOT NULL, last_success TEXT, last_attempt TEXT,
    next_attempt TEXT, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, ban_until TEXT,
    warning TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS observations (
    venue TEXT NOT NULL, instrument TEXT NOT NULL, metric TEXT NOT NULL, ts TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (venue, instrument, metric, ts));
CREATE INDEX IF NOT EXISTS observations_ts ON observations (ts);
{bad_index};
CREATE TABLE IF NOT EXISTS series (
    venue TEXT NOT NULL, instrument TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
    PRIMARY KEY (venue, instrument));
CREATE TABLE IF NOT EXISTS candles (
    product TEXT NOT NULL, day TEXT NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
    close REAL NOT NULL, volume REAL NOT NULL, PRIMARY KEY (product, day));
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS coinshares (
    week_ending TEXT PRIMARY KEY, total_usd_m REAL NOT NULL, btc_usd_m REAL, entered_at TEXT NOT NULL);
{compute_once};
{desk};
""".replace("{bad_index}", _BAD_OBSERVATIONS_INDEX)
    .replace("{compute_once}", _COMPUTE_ONCE)
    .replace("{desk}", _DESK)
)

# Schema steps: _MIGRATIONS[n] takes a version-n store to n + 1. Each step must also run on a store that already
# had it: flowtape 1 stamps version 1 on any store it opens, so a v2 store opened once by it comes back as "1".
# Funds and series a v1 store already holds get NULL/first-observation times, so nothing it holds looks like churn
# (see age_out) until it is seen again.
_MIGRATIONS: dict[int, str] = {
    1: """
    ALTER TABLE funds ADD COLUMN first_seen TEXT;
    ALTER TABLE funds ADD COLUMN last_seen TEXT;
    CREATE TABLE IF NOT EXISTS series (
        venue TEXT NOT NULL, instrument TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
        PRIMARY KEY (venue, instrument));
    INSERT OR IGNORE INTO series SELECT venue, instrument, MIN(ts), MAX(ts) FROM observations GROUP BY venue, instrument;
    CREATE INDEX IF NOT EXISTS revisions_cell ON revisions (asset, date, fund);
    """
    + _BAD_OBSERVATIONS_INDEX,
    2: _COMPUTE_ONCE + ";DELETE FROM observations_hourly;" + _FILL_HOURLY,
    3: _DESK,
}

QUOTE_METRICS = ("mark", "index", "funding_rate", "funding_interval_h", "oi_usd", "oi_btc")
# Bounded growth: full resolution for 48 h, then the last observation of each hour up to 30 days,
# then one of each day. (prefix length of the ISO timestamp = the bucket)
RETENTION = ((dt.timedelta(hours=48), 13), (dt.timedelta(days=30), 10))
# How often a write thins each tier. The hourly tier keeps exactly the rows observations_hourly holds, so it changes
# nothing the analytics read (no label is dropped); the daily tier changes old days' hourly rows, which drops the
# labels of the sessions whose 22-day window held them: once a day, not on every hour's first poll.
PRUNE_EVERY = dt.timedelta(hours=1)
PRUNE_DAILY_EVERY = dt.timedelta(days=1)
# How far back a day's derivatives read hourly rows (analytics/derivatives.py HISTORY_DAYS + 14): thinning an
# hour changes the scenario labels of the sessions up to this many days after it.
HOURLY_WINDOW_DAYS = 22

# While the disk is full, write batches wait in memory (oldest dropped first past this bound) and are
# written, in order and in one transaction, as soon as a write succeeds again. A day of polling every
# source is about 12,000 batches of a few KB; 3,000 keeps the last few hours within a few MB.
MAX_HELD_BATCHES = 3_000

# Churn (names that appear and vanish) must not grow the store without bound (measured: fresh instrument
# names every poll cost ~4.4 GB a day; a broken Farside page sent 200 new tickers a poll).
# - A venue lists at most ~12 BTC futures at once (Deribit) and on a store's first day all are new: 64 new
#   instrument names per venue per UTC day is 5x that; past it new names are refused and counted (`refused`).
NEW_SERIES_PER_DAY = 64
# - An instrument its venue has not listed for 7 days is gone (expired, delisted): it leaves the registry and
#   the reads (no dead future's last OI summed forever); a week covers a weekend, a holiday and the weekly CFTC
#   report. If it lived less than a day it was churn, not an instrument: its rows are deleted too; longer-lived
#   ones keep their history, thinned by RETENTION, for looking back.
SERIES_TTL = dt.timedelta(days=7)
CHURN_LIFE = dt.timedelta(days=1)
# - Funds: a table wider than bounds "funds_per_table" is refused; so are more new funds in a day than one
#   table's worth. A fund off the page for SERIES_TTL leaves the page order (its flows stay, see frames);
#   one that was on the page for less than CHURN_LIFE goes with its flows.
NEW_FUNDS_PER_DAY = int(bounds.BOUNDS["funds_per_table"].high)
# - Revisions per (asset, date, fund): Farside corrects a cell once or twice (a late print, a typo); 20 keeps
#   every real correction while a page flipping A, B, A, B... adds at most 20 rows per cell, ever.
MAX_REVISIONS_PER_CELL = 20
# How long the status bar says the store file was deleted or replaced (the notice stays in `notices`).
REPLACED_SHOWN_FOR = dt.timedelta(minutes=30)
# meta key: "1" written by close(), "0" at open; anything but "1" at the next open means an unclean shutdown
# (kill -9, power loss), and only then does the open run PRAGMA quick_check.
CLEAN_MARKER = "clean_shutdown"

T = TypeVar("T")
HELD = object()  # what a write returns when the disk is full and it was kept for later

STATUS_FIELDS = ("state", "last_success", "last_attempt", "next_attempt", "failures", "last_error", "ban_until", "warning")


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message says what to do."""


@dataclass
class WriteResult:
    sessions: int = 0  # session rows new or changed
    revisions: int = 0  # published values that changed after we had stored them


@dataclass
class Store:
    path: Path
    readonly: bool
    notices: list[str] = field(default_factory=list)
    _conn: sqlite3.Connection | None = None
    _lock_fd: int | None = None  # the database file itself, flocked: one writer per inode, whatever its name
    _identity: tuple[int, int] | None = None  # (st_dev, st_ino) the writer has open
    _write_lock: threading.Lock = field(default_factory=threading.Lock)
    _last_prune: dt.datetime | None = None
    _last_daily_prune: dt.datetime | None = None
    # Disk full: hold batches in memory (the long-running app) or raise (one-shot commands, which exit).
    hold_when_full: bool = False
    _held: deque = field(default_factory=lambda: deque(maxlen=MAX_HELD_BATCHES))
    _held_status: dict[str, dict[str, object]] = field(default_factory=dict)
    _held_meta: dict[str, str] = field(default_factory=dict)
    _held_alerts: set[str] = field(default_factory=set)
    _held_dropped: int = 0
    full_since: dt.datetime | None = None
    full_error: str = ""
    full_why: tuple[str, str] = ("CANNOT WRITE", "check the disk holding {path}")  # (label, remedy) from _UNWRITABLE
    # The file was deleted or replaced under the writer and a new one started: (when, what), for the status bar.
    replaced: tuple[dt.datetime, str] | None = None
    # Rows the last read of each table left out because a value had the wrong type (see _GOOD).
    set_aside: dict[str, int] = field(default_factory=dict)
    _read_local: threading.local = field(default_factory=threading.local)
    # New instrument names refused today by NEW_SERIES_PER_DAY: {(venue, ISO day): count}.
    refused: dict[tuple[str, str], int] = field(default_factory=dict)
    # Whether this open ran PRAGMA quick_check (only after an unclean shutdown: see CLEAN_MARKER).
    quick_checked: bool = False
    # changed(): one read connection kept open for PRAGMA data_version, the file it has open and the last value.
    _watch: sqlite3.Connection | None = None
    _watch_identity: tuple[int, int] | None = None
    _watch_seen: int | None = None

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False) -> Store:
        """A path opens SQLite; a postgresql:// URL the PostgreSQL store (store/postgres.py), same interface."""
        if is_store_url(path):
            from .postgres import PostgresStore  # psycopg is imported only by those who use it

            return PostgresStore.open_url(str(path), readonly=readonly)
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for the store {path}: {exc.strerror}") from None
        store = cls(path=path, readonly=readonly)
        if not readonly and not store._take_writer_lock():
            store.readonly = True
            store.notices.append(_second_writer_notice(path))
        try:
            if store.readonly:
                store._check_readable()
            else:
                store._open_writer()
        except BaseException:
            store.close()
            raise
        return store

    def _take_writer_lock(self) -> bool:
        """flock the database file itself (created empty if absent: SQLite starts a new store in it), so a
        symlink or a hard link to the same file finds it locked. SQLite's own locks are fcntl locks, which
        flock does not touch; the descriptor stays open until the connection is closed (closing another
        descriptor of the file would drop SQLite's fcntl locks)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot open the store {self.path}: {exc.strerror}. Check the permissions, or pass --db PATH"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        st = os.fstat(fd)
        self._identity = (st.st_dev, st.st_ino)
        return True

    def _open_writer(self) -> None:
        _refuse_newer(self.path)
        clean = _closed_cleanly(self.path)
        self.quick_checked = not clean
        problem = _health_problem(self.path, check=not clean)
        if problem:
            aside = self._move_aside()
            self.notices.append(f"the store {self.path} was {problem}; it was moved to {aside} and a new one started")
            self._drop_lock()  # the lock went aside with the file: lock the new one
            if not self._take_writer_lock():
                self.readonly = True
                self.notices.append(f"another flowtape process started a new store at {self.path}; this one is read-only")
                return
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5.0)
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open the store {self.path}: {exc}. Check the disk and permissions, or pass --db PATH"
            ) from None
        try:
            _refuse_newer(self.path, conn)  # the header can be stale while a WAL holds page 1
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=5000")
            _migrate(conn)
            _put_meta(conn, CLEAN_MARKER, "0")  # until close() says otherwise: a kill -9 leaves "0"
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(
                f"cannot open the store {self.path}: {exc}. Check the disk and permissions, or pass --db PATH"
            ) from None
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _check_readable(self) -> None:
        if not self.path.exists():
            return
        _refuse_newer(self.path)
        if os.stat(self.path).st_nlink > 1:
            return  # read through another name than the writer's, SQLite misses its journal: see _second_writer_notice
        clean = _closed_cleanly(self.path)  # "0" while a writer has it open: checked, as before
        self.quick_checked = not clean
        problem = _health_problem(self.path, check=not clean)
        if problem:
            raise StoreError(
                f"the store {self.path} is {problem}; run flowtape without --offline, with no other flowtape "
                "running, to move it aside and start a new one (nothing is deleted)"
            )

    def _move_aside(self) -> Path:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                os.replace(side, Path(f"{aside}{suffix}"))
        return aside

    def close(self) -> None:
        self._close_watch()
        if self._conn is not None:
            if self._file_is_ours():
                try:  # the next open may skip quick_check (autocommit: one small transaction, after any write)
                    with self._write_lock:
                        _put_meta(self._conn, CLEAN_MARKER, "1")
                except sqlite3.Error:
                    pass  # disk full or gone: the next open checks, as after a crash
            self._conn.close()
            self._conn = None
        self._drop_lock()  # after the connection (see _take_writer_lock)

    def _drop_lock(self) -> None:
        """Close the flocked descriptor, which releases the flock."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # ---- the file deleted or replaced under the writer ---------------------------------------
    def _file_is_ours(self) -> bool:
        """One stat: is the file at the path still the one the writer has open?"""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) == self._identity

    def _follow_path(self) -> None:
        """Called under the write lock before every write: if the file at the path was deleted or replaced (rm,
        mv), writes would go to an unlinked file and be lost. Start writing to what is at the path now (a new
        store if nothing is), and say so."""
        if self._conn is None or self._file_is_ours():
            return
        what = "replaced by another file" if self.path.exists() else "deleted"
        self._conn.close()  # the old file: SQLite leaves its -wal/-shm behind for an unlinked file
        self._conn = None
        self._drop_lock()
        self._identity = None
        now = dt.datetime.now(dt.UTC)
        self.path.parent.mkdir(parents=True, exist_ok=True)  # rm -r of the folder too
        if not self._take_writer_lock():
            self.readonly = True
            self.notices.append(
                f"the store {self.path} was {what} while flowtape ran and another flowtape writes the "
                "new file; this one is read-only now"
            )
            raise StoreError(self.notices[-1])
        for suffix in ("-wal", "-shm"):  # the old file's journal: replayed into the new file it would corrupt it
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self._open_writer()
        self.replaced = (now, what)
        self.notices.append(
            f"the store {self.path} was {what} at {now:%H:%M} UTC while flowtape ran; writing carries on "
            f"in {'that file' if what.startswith('replaced') else 'a new store there'} (history held "
            "only by the old file is not in it)"
        )

    @property
    def location(self) -> str:
        """Where the store is, as shown on screen, in logs and errors (a URL without its password)."""
        return str(self.path)

    @property
    def problem(self) -> str | None:
        """One line for the status bar when the store needs attention, else None."""
        held = self.held_report()
        if held:
            return held
        if self.replaced and dt.datetime.now(dt.UTC) - self.replaced[0] < REPLACED_SHOWN_FOR:
            when, what = self.replaced
            return f"STORE {what.split()[0].upper()} at {when:%H:%M} UTC: writing to a new {self.path.name}"
        return None

    # ---- following the store (viewers) --------------------------------------------------------
    def changed(self) -> bool:
        """True when another connection committed to the store since the last call (and on the first call:
        nothing was seen before it). Cheap enough to ask every couple of seconds: a stat and PRAGMA
        data_version on a read connection kept open for it, no file watching. A viewer asks this, then reads
        (data_version(), the statuses, the heartbeat) only when it says True. Every backend implements exactly
        this (PostgreSQL: a NOTIFY received since the last call). Call it from one thread.

        A heartbeat or a status write counts as a commit here: what moved is for data_version() to say. The
        file replaced or deleted under the viewer counts as a change too (it reads the new file)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:  # no store yet, or deleted: changed once, when it goes
            had = self._watch is not None
            self._close_watch()
            return had
        identity = (st.st_dev, st.st_ino)
        try:
            if self._watch is None or identity != self._watch_identity:
                self._close_watch()
                self._watch = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=5.0)
                self._watch_identity = identity
                self._watch_seen = self._watch.execute("PRAGMA data_version").fetchone()[0]
                return True
            seen = self._watch.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:  # a file that is no database (yet): read it again next time, the reads say what is wrong
            self._close_watch()
            return True
        moved, self._watch_seen = seen != self._watch_seen, seen
        return moved

    def _close_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._watch = self._watch_identity = self._watch_seen = None

    # ---- reading (a short-lived connection per call: safe from any thread) ----------------
    def _reader(self) -> sqlite3.Connection:
        if not self.path.exists():
            conn = sqlite3.connect(":memory:")
            conn.executescript(_SCHEMA)
            return conn
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5.0)
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = self._reader()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []  # a read-only view of a store that was never written
            raise
        finally:
            conn.close()

    def _typed(self, table: str, select: str, where: str, params: tuple, tail: str = "") -> list[tuple]:
        """`select ... WHERE where` keeping only rows whose values have the types _GOOD[table] names; the rows
        left out are counted in set_aside[table] (a foreign or older writer's TEXT in a REAL column, an
        unparsable date) so one bad row cannot blank a pane, and the caller can say how many were skipped."""
        if table == "observations":  # through the partial index of bad rows (see _BAD_OBSERVATIONS_INDEX)
            bad_rows = f"rowid IN (SELECT rowid FROM observations WHERE {_BAD[table]})"
            rows = self._query(f"{select} WHERE ({where}) AND NOT {bad_rows} {tail}", params)
            bad = self._query(f"SELECT COUNT(*) FROM {table} WHERE {bad_rows} AND ({where})", params)
        else:
            rows = self._query(f"{select} WHERE ({where}) AND ({_GOOD[table]}) {tail}", params)
            bad = self._query(f"SELECT COUNT(*) FROM {table} WHERE ({where}) AND {_BAD[table]}", params)
        count = int(bad[0][0]) if bad else 0
        self.set_aside[table] = count
        # The rows themselves, for the analytics to name in its notice (per thread: reads run in several).
        self._read_local.set_aside = {
            **getattr(self._read_local, "set_aside", {}),
            table: self._query(f"{_PLAIN[table]} WHERE ({where}) AND {_BAD[table]} LIMIT {MAX_SET_ASIDE_ROWS}", params)
            if count
            else [],
        }
        return rows

    def set_aside_rows(self, table: str) -> list[tuple]:
        """The rows (as stored, at most MAX_SET_ASIDE_ROWS) that this thread's last read of `table` left out."""
        return list(getattr(self._read_local, "set_aside", {}).get(table, ()))

    def sessions(self, asset: str | None = None) -> list[SessionRow]:
        """(asset, ISO date, published total, provisional), oldest first; rows of the wrong type are set aside."""
        where, params = ("asset = ?", (asset,)) if asset else ("1 = 1", ())
        rows = self._typed(
            "sessions", "SELECT asset, date, total_usd_m, provisional FROM sessions", where, params, "ORDER BY asset, date"
        )
        return [SessionRow(a, d, t, bool(p)) for a, d, t, p in rows]

    def flows(self, asset: str | None = None) -> list[FlowCell]:
        """(asset, ISO date, fund, US$m or None), oldest first; rows of the wrong type are set aside."""
        where, params = ("asset = ?", (asset,)) if asset else ("1 = 1", ())
        rows = self._typed("flows", "SELECT asset, date, fund, usd_m FROM flows", where, params, "ORDER BY asset, date, fund")
        return list(map(FlowCell._make, rows))

    def funds(self, asset: str) -> list[str]:
        return [r[0] for r in self._query("SELECT fund FROM funds WHERE asset = ? ORDER BY position", (asset,))]

    def revisions(self, asset: str | None = None) -> list[RevisionRow]:
        where, params = ("WHERE asset = ?", (asset,)) if asset else ("", ())
        select = "SELECT asset, date, fund, old_usd_m, new_usd_m, seen_at FROM revisions"
        return list(map(RevisionRow._make, self._query(f"{select} {where} ORDER BY rowid", params)))

    def session_count(self, asset: str, first: str, last: str) -> int:
        rows = self._query("SELECT COUNT(*) FROM sessions WHERE asset = ? AND date BETWEEN ? AND ?", (asset, first, last))
        return int(rows[0][0]) if rows else 0

    def meta(self, key: str) -> str | None:
        if key in self._held_meta:
            return self._held_meta[key]
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def status(self, source: str) -> dict[str, object]:
        if source in self._held_status:
            return dict(self._held_status[source])
        rows = self._query(f"SELECT {', '.join(STATUS_FIELDS)} FROM source_status WHERE source = ?", (source,))
        return dict(zip(STATUS_FIELDS, rows[0], strict=True)) if rows else {}

    def all_status(self) -> dict[str, dict[str, object]]:
        rows = self._query(f"SELECT source, {', '.join(STATUS_FIELDS)} FROM source_status ORDER BY source")
        stored = {r[0]: dict(zip(STATUS_FIELDS, r[1:], strict=True)) for r in rows}
        return dict(sorted({**stored, **{s: dict(v) for s, v in self._held_status.items()}}.items()))

    # ---- writing (one writer; each call is one transaction) -------------------------------
    def _writer(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the store {self.location} is open read-only in this process")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the caller holds the writer lock. After SQLITE_FULL/IOERR the
        transaction may already be rolled back, so ROLLBACK only when one is still open."""
        self._writer()
        self._follow_path()
        conn = self._writer()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _write(self, apply: Callable[[sqlite3.Connection], T], *, held: T, keep: bool = True) -> T:
        """Run `apply` in one transaction and return its result. When the disk is full, the batch is held
        in memory (unless `keep` is False: the caller keeps its own latest value) and `held` returned; for
        one-shot commands a StoreError says what to do instead."""
        with self._write_lock:
            self._writer()
            if self.disk_full and not self._flush_held():
                if keep:
                    self._hold(apply)
                return held
            try:
                with self._transaction() as conn:
                    return apply(conn)
            except self._ERRORS as exc:
                why = self._unwritable(exc)
                if not why:
                    raise
                if not self.hold_when_full:
                    raise StoreError(
                        f"cannot write the store {self.location} ({exc}): {why[1].format(path=self.location)}, "
                        "then run the command again (nothing already stored was lost)"
                    ) from None
                self._note_full(exc)
                if keep:
                    self._hold(apply)
                return held

    # ---- disk full: a bounded buffer, flushed when space returns --------------------------------
    @property
    def disk_full(self) -> bool:
        """Writes are being held: the disk is full, or the store turned read-only or fails (see _UNWRITABLE)."""
        return self.full_since is not None

    @property
    def held_batches(self) -> int:
        return len(self._held) + len(self._held_status) + len(self._held_meta)

    def held_report(self) -> str | None:
        """One line for the screen while writes are held, else None."""
        if not self.disk_full:
            return None
        since = self.full_since.strftime("%H:%M UTC") if self.full_since else "?"
        dropped = f", {self._held_dropped} oldest dropped" if self._held_dropped else ""
        label, remedy = self.full_why
        return (
            f"{label} since {since}: {self.held_batches} writes held in memory{dropped};"
            f" {remedy.format(path=self.location)} and they are written"
        )

    def flush_held(self) -> bool:
        """Try to write what the disk-full buffer holds; True when nothing is held any more."""
        with self._write_lock:
            return not self.disk_full or self._flush_held()

    def _note_full(self, exc: Exception) -> None:
        if self.full_since is None:
            self.full_since = dt.datetime.now(dt.UTC)
        self.full_error = str(exc)
        self.full_why = self._unwritable(exc) or self.full_why

    # ---- what differs between the backends (store/postgres.py overrides these; the rest is shared) -----------
    # Shared SQL is portable: `?` placeholders (PostgreSQL's connection turns them into its own), ON CONFLICT
    # upserts, `rowid` (a column of that name on PostgreSQL), window functions rather than SQLite's bare columns.
    # The backend's errors a write can meet, and which of them are ridden out (held) rather than raised.
    _ERRORS: ClassVar[tuple[type[Exception], ...]] = (sqlite3.OperationalError,)
    # REPLACE: a new rowid, so the hourly trigger on INSERT sees a corrected value too (PostgreSQL: ON CONFLICT
    # and a trigger on INSERT OR UPDATE).
    _UPSERT_OBSERVATION = "INSERT OR REPLACE INTO observations VALUES (?, ?, ?, ?, ?)"
    _NOINDEX = "+"  # SQLite: `+col` keeps the planner off that column's index
    # How often a viewer asks changed(): here it is a PRAGMA query on the file, so every couple of seconds.
    follow_every_s: ClassVar[float] = 2.0
    # The good observations (SQLite stores any type in any column; PostgreSQL's typed columns need no such test).
    _NOT_BAD_OBSERVATION = f"rowid NOT IN (SELECT rowid FROM observations WHERE {_BAD['observations']})"
    _ISO_TS = "ts GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*'"

    def _bad(self, table: str) -> str:
        """The WHERE that finds rows of the wrong type (SQLite keeps any type in any column; PostgreSQL cannot)."""
        return _BAD[table]

    def _unwritable(self, exc: Exception) -> tuple[str, str] | None:
        return _unwritable(exc) if isinstance(exc, sqlite3.Error) else None

    def _hold(self, apply: Callable[[sqlite3.Connection], object]) -> None:
        if len(self._held) == self._held.maxlen:
            self._held_dropped += 1
        self._held.append(apply)

    def _flush_held(self) -> bool:
        """Write every held batch, then the held statuses and meta, in one transaction (all or nothing)."""
        try:
            with self._transaction() as conn:
                for apply in self._held:
                    apply(conn)
                for source, values in self._held_status.items():
                    _put_status(conn, source, values)
                for key, value in self._held_meta.items():
                    _put_meta(conn, key, value)
        except self._ERRORS as exc:
            if not self._unwritable(exc):
                raise
            self._note_full(exc)
            return False
        self._held.clear()
        self._held_status.clear()
        self._held_meta.clear()
        self._held_alerts.clear()
        self._held_dropped = 0
        self.full_since = None
        self.full_error = ""
        return True

    def write_table(self, table: FlowTable, *, source: str, fetched_at: dt.datetime) -> WriteResult:
        """Upsert every session of a parsed table in one transaction, keeping revisions.

        A stored number is never replaced by `-` (missing): a fund that shows `-` today on a day we
        already hold keeps its value. A table wider than bounds "funds_per_table", or bringing more new
        funds than NEW_FUNDS_PER_DAY today, is refused (BoundsError naming it): what one write may add is bounded."""
        self._writer()  # a read-only store says so before anything is read
        seen = fetched_at.isoformat(timespec="seconds")
        now, day_start = _utc(fetched_at), _day_start(fetched_at)
        bounds.check("funds_per_table", len(table.tickers), f"farside {table.asset} table width")
        known = dict(self._query("SELECT fund, first_seen FROM funds WHERE asset = ?", (table.asset,)))
        new_today = sum(1 for first in known.values() if first is not None and first >= day_start)
        new_today += sum(1 for fund in table.tickers if fund not in known)
        if new_today > NEW_FUNDS_PER_DAY:
            raise bounds.BoundsError(
                f"farside {table.asset}: {new_today} new funds today is more than {NEW_FUNDS_PER_DAY} "
                "(a page renaming its columns); refused"
            )

        def apply(conn: sqlite3.Connection) -> WriteResult:
            result = WriteResult()
            order = "SELECT fund, position FROM funds WHERE asset = ? ORDER BY fund"
            order_before = conn.execute(order, (table.asset,)).fetchall()
            first_changed: str | None = None
            for pos, fund in enumerate(table.tickers):
                conn.execute(
                    "INSERT INTO funds VALUES (?, ?, ?, ?, ?) ON CONFLICT(asset, fund) DO UPDATE "
                    "SET position = excluded.position, last_seen = excluded.last_seen",
                    (table.asset, fund, pos, now, now),
                )
            for row in table.rows:
                day = row.date.isoformat()
                changed = self._upsert_value(conn, table.asset, day, TOTAL, row.total, seen, result)
                old = conn.execute("SELECT provisional FROM sessions WHERE asset = ? AND date = ?", (table.asset, day)).fetchone()
                for fund, value in row.funds.items():
                    changed |= self._upsert_value(conn, table.asset, day, fund, value, seen, result)
                if old is None or changed or bool(old[0]) != row.provisional:
                    result.sessions += 1
                    first_changed = min(first_changed or day, day)
                    conn.execute(
                        "UPDATE sessions SET provisional = ?, source = ?, fetched_at = ? WHERE asset = ? AND date = ?",
                        (int(row.provisional), source, seen, table.asset, day),
                    )
            for fund in _age_out(conn, "funds", "asset", "fund", table.asset, fetched_at):
                conn.execute("DELETE FROM flows WHERE asset = ? AND fund = ?", (table.asset, fund))
                conn.execute("DELETE FROM revisions WHERE asset = ? AND fund = ?", (table.asset, fund))
                first_changed = ""  # a fund's whole history went
            if first_changed is not None:
                _invalidate(conn, first_changed)
            if first_changed is not None or conn.execute(order, (table.asset,)).fetchall() != order_before:
                _bump(conn, "flows")
            return result

        return self._write(apply, held=WriteResult())

    @staticmethod
    def _upsert_value(conn, asset, day, fund, value, seen, result) -> bool:
        if fund == TOTAL:
            cur = conn.execute("SELECT total_usd_m FROM sessions WHERE asset = ? AND date = ?", (asset, day)).fetchone()
            if cur is None:
                conn.execute("INSERT INTO sessions VALUES (?, ?, ?, 0, '', ?)", (asset, day, value, seen))
                return True
            update = "UPDATE sessions SET total_usd_m = ? WHERE asset = ? AND date = ?"
            params: tuple = (value, asset, day)
        else:
            cur = conn.execute("SELECT usd_m FROM flows WHERE asset = ? AND date = ? AND fund = ?", (asset, day, fund)).fetchone()
            if cur is None:
                conn.execute("INSERT INTO flows VALUES (?, ?, ?, ?)", (asset, day, fund, value))
                return True
            update = "UPDATE flows SET usd_m = ? WHERE asset = ? AND date = ? AND fund = ?"
            params = (value, asset, day, fund)
        old = cur[0]
        if value is None or old == value:
            return False  # a revision only when the value really changes from the one stored
        if old is not None:
            result.revisions += 1
            conn.execute("INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?)", (asset, day, fund, old, value, seen))
            conn.execute(  # the newest MAX_REVISIONS_PER_CELL only: a page flipping A, B, A... stays bounded
                "DELETE FROM revisions WHERE asset = ? AND date = ? AND fund = ? AND rowid < (SELECT rowid FROM revisions "
                "WHERE asset = ? AND date = ? AND fund = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
                (asset, day, fund, asset, day, fund, MAX_REVISIONS_PER_CELL - 1),
            )
        conn.execute(update, params)
        return True

    def write_quotes(self, quotes, *, fetched_at: dt.datetime) -> int:
        """Store venue quotes as observations (one row per metric) in one transaction; thin old
        history at most once an hour (see RETENTION)."""
        rows = []
        for q in quotes:
            ts = q.ts.astimezone(dt.UTC).isoformat(timespec="seconds")
            for metric in QUOTE_METRICS:
                value = getattr(q, metric)
                if value is not None:
                    rows.append((q.venue, q.instrument, metric, ts, float(value)))
            if q.expiry is not None:
                rows.append((q.venue, q.instrument, "expiry", ts, q.expiry.timestamp()))
        return self.write_observation_rows(rows, fetched_at=fetched_at)

    def write_observation_rows(self, rows, *, fetched_at: dt.datetime) -> int:
        """Store ready-made (venue, instrument, metric, ISO ts, value) rows in one transaction. Each venue's
        instruments are marked seen; new names past NEW_SERIES_PER_DAY are refused (counted in `refused` and
        a notice); the venue's instruments not seen for SERIES_TTL age out (see _age_out)."""
        written = self._insert_observations(list(rows), fetched_at)
        if self._last_prune is None or fetched_at - self._last_prune >= PRUNE_EVERY:
            daily = self._last_daily_prune is None or fetched_at - self._last_daily_prune >= PRUNE_DAILY_EVERY
            self.prune_observations(fetched_at, daily=daily)
        return written

    def _insert_observations(self, rows: list[tuple], fetched_at: dt.datetime) -> int:
        now, day_start = _utc(fetched_at), _day_start(fetched_at)
        names: dict[str, dict[str, None]] = {}  # venue -> its instruments in this batch, in order
        for venue, instrument, *_ in rows:
            names.setdefault(venue, {})[instrument] = None

        def apply(conn: sqlite3.Connection) -> int:
            refused: set[tuple[str, str]] = set()
            for venue, instruments in names.items():
                known = dict(conn.execute("SELECT instrument, first_seen FROM series WHERE venue = ?", (venue,)).fetchall())
                room = NEW_SERIES_PER_DAY - sum(1 for first in known.values() if first >= day_start)
                for instrument in instruments:
                    if instrument not in known:
                        if room <= 0:
                            refused.add((venue, instrument))
                            continue
                        room -= 1
                    conn.execute(
                        "INSERT INTO series VALUES (?, ?, ?, ?) ON CONFLICT(venue, instrument) DO UPDATE "
                        "SET last_seen = excluded.last_seen",
                        (venue, instrument, now, now),
                    )
            kept = [r for r in rows if (r[0], r[1]) not in refused]
            # A row the store already holds, value and all, changes nothing: it must not drop labels nor bump the
            # version. (A venue re-sends old rows on every poll: the CFTC report's weekly OI, weeks back, dropped a
            # month of scenario labels per poll, recomputed at ~25 ms a day.)
            same = "SELECT 1 FROM observations WHERE venue = ? AND instrument = ? AND metric = ? AND ts = ? AND value = ?"
            changed = [r for r in kept if conn.execute(same, r).fetchone() is None]
            if changed:
                conn.executemany(self._UPSERT_OBSERVATION, changed)
            written = len(kept)  # accepted, as before (identical ones included)
            first_changed: str | None = None
            if changed:
                first_changed = min(str(r[3]) for r in changed)
            for venue in names:
                for instrument in _age_out(conn, "series", "venue", "instrument", venue, fetched_at):
                    (oldest,) = conn.execute(
                        "SELECT MIN(ts) FROM observations WHERE venue = ? AND instrument = ?", (venue, instrument)
                    ).fetchone()
                    if oldest is not None:
                        first_changed = min(first_changed or oldest, oldest)
                    conn.execute("DELETE FROM observations WHERE venue = ? AND instrument = ?", (venue, instrument))
            if first_changed is not None:
                _invalidate(conn, _first_session_seeing(first_changed))
                _bump(conn, "derivatives")
            self._count_refused(refused, day_start[:10])
            return written

        return self._write(apply, held=0)

    def _count_refused(self, refused: set[tuple[str, str]], day: str) -> None:
        for venue in sorted({v for v, _ in refused}):
            n = self.refused[(venue, day)] = self.refused.get((venue, day), 0) + sum(1 for v, _ in refused if v == venue)
            line = (
                f"{venue}: {n} new instrument names refused on {day} (at most {NEW_SERIES_PER_DAY} new a day, "
                "so a venue renaming its instruments cannot fill the disk)"
            )
            self.notices[:] = [x for x in self.notices if not x.startswith(f"{venue}: ")] + [line]

    def prune_observations(self, now: dt.datetime, *, daily: bool = True) -> int:
        """Thin history per RETENTION (the daily tier only with `daily`); returns the rows removed.

        The hourly tier deletes the good rows older than 48 h but the one observations_hourly holds for their hour
        (the last), so the hourly rows, all a day's derivatives read, stay as they were and no label is dropped
        (bad rows, set aside but still saying a series was alive, wait for the daily tier). The daily tier replaces
        old days' hourly rows by one a day: it drops the labels of the sessions whose 22-day window held them."""
        keep_hourly = f"""ts < ? AND {self._NOT_BAD_OBSERVATION}
            AND NOT EXISTS (SELECT 1 FROM observations_hourly h WHERE h.venue = observations.venue
                AND h.instrument = observations.instrument AND h.metric = observations.metric
                AND h.hour = substr(observations.ts, 1, {RETENTION[0][1]}) AND h.ts = observations.ts)"""
        tiers = [(RETENTION[0][0], keep_hourly, False)]  # (age, rows deleted, whether labels can change)
        if daily:
            age, bucket = RETENTION[1]
            doomed = f"""ts < ? AND rowid NOT IN (SELECT MIN(rowid) FROM observations WHERE ts < ?
                        GROUP BY venue, instrument, metric, substr(ts, 1, {bucket}))"""
            tiers.append((age, doomed, True))
        removed = 0
        with self._write_lock:
            if self.disk_full:
                return 0  # thinning waits until held batches are written
            try:
                with self._transaction() as conn:
                    for age, doomed, relabel in tiers:
                        cutoff = (now - age).astimezone(dt.UTC).isoformat(timespec="seconds")
                        params = (cutoff,) * doomed.count("?")
                        if relabel:
                            first, last = conn.execute(
                                f"SELECT MIN(ts), MAX(ts) FROM observations WHERE {doomed}", params
                            ).fetchone()
                            if first is not None:  # the sessions whose 22-day window held a thinned row
                                window_end = dt.date.fromisoformat(last[:10]) + dt.timedelta(days=HOURLY_WINDOW_DAYS + 1)
                                _invalidate(conn, _first_session_seeing(first), window_end.isoformat())
                        gone = conn.execute(f"DELETE FROM observations WHERE {doomed}", params).rowcount
                        removed += gone
                        if gone:
                            _bump(conn, "derivatives")  # full-resolution readers (odds, spot) see the change
            except self._ERRORS as exc:
                if not self._unwritable(exc):
                    raise
                return 0  # a delete can need journal space too: try again next hour
        self._last_prune = now
        if daily:
            self._last_daily_prune = now
        return removed

    def observations(
        self, since: str | None = None, until: str | None = None, *, venues: tuple[str, ...] | None = None, hourly: bool = False
    ) -> list[ObservationRow]:
        """(venue, instrument, metric, ISO ts, value) with since <= ts <= until, oldest first.

        `venues` keeps only those venues; `hourly` keeps the last observation of each series in each UTC
        hour (the latest one included), so the rows read stay bounded however often sources poll. With
        `until`, an instrument with no observation in the SERIES_TTL before it is dead (expired, delisted)
        and left out, so its last quote is never taken as current. Rows of the wrong type are set aside."""
        where, params = "ts >= ? AND ts <= ?", [since or "", until or "9999"]
        if venues is not None:
            where += f" AND venue IN ({', '.join('?' * len(venues))})"
            params += list(venues)
        if until is not None:  # (the venues again inside: a few odds series, not a week of every venue's rows)
            cutoff = (dt.datetime.fromisoformat(until) - SERIES_TTL).isoformat(timespec="seconds")
            inside = f" AND venue IN ({', '.join('?' * len(venues))})" if venues is not None else ""
            where += f" AND (venue, instrument) IN (SELECT venue, instrument FROM observations WHERE ts >= ? AND ts <= ?{inside})"
            params += [cutoff, until, *(venues or ())]
        if hourly:
            return list(map(ObservationRow._make, self._hourly(since or "", until or "9999", venues, where, params)))
        select, tail = "SELECT venue, instrument, metric, ts, value FROM observations", "ORDER BY ts"
        return list(map(ObservationRow._make, self._typed("observations", select, where, tuple(params), tail)))

    def _hourly(self, since: str, until: str, venues: tuple[str, ...] | None, where: str, params: list) -> list[tuple]:
        """The last good observation of each series in each UTC hour with since <= ts <= until: the hours strictly
        inside the range from observations_hourly (kept at write time), the two edge hours grouped from the
        full-resolution rows (their last observation may fall outside the range). The same rows as a GROUP BY
        over the whole range (tests/analytics/test_compute_once.py), for the price of two hours of full-resolution rows."""
        since = since or "0000-00-00T00:00:00+00:00"  # an empty `since` would make every hour an edge hour
        lo, hi = since[:13], until[:13]
        # `+venue`: not by the primary key (every row of those venues), by the time index (the range asked for)
        venue_sql = f" AND {self._NOINDEX}venue IN ({', '.join('?' * len(venues))})" if venues is not None else ""
        v = tuple(venues or ())
        bad_obs = self._bad("observations")
        good = f"rowid NOT IN (SELECT rowid FROM observations WHERE {bad_obs})"

        def edges(first: str, last: str, select: str, tail: str = "") -> tuple[list[str], list[str]]:
            """(SELECTs, params) of the full-resolution rows with first <= ts <= last in its first and last hours
            (each one tight range on observations_ts)."""
            ranges = [(first, last)] if first[:13] == last[:13] else [(first, first[:13] + ":59:59~"), (last[:13], last)]
            sql = f"{select} FROM observations WHERE ts >= ? AND ts <= ?{venue_sql} {tail}"
            return [sql] * len(ranges), [p for a, b in ranges for p in (a, b, *v)]

        # the last row of each series in each hour (a window: portable, where a bare column beside MAX() is not)
        last = (
            "SELECT venue, instrument, metric, ts, value, ROW_NUMBER() OVER "
            "(PARTITION BY venue, instrument, metric, substr(ts, 1, 13) ORDER BY ts DESC) AS nth"
        )
        parts, args = edges(since, until, last, f"AND {good}")
        parts = [f"SELECT venue, instrument, metric, ts, value FROM ({p}) AS edge WHERE nth = 1" for p in parts]
        parts.append(
            f"SELECT venue, instrument, metric, ts, value FROM observations_hourly WHERE hour > ? AND hour < ?{venue_sql}"
        )
        args += [lo, hi, *v]
        union = " UNION ALL ".join(f"SELECT * FROM ({p}) AS part{i}" for i, p in enumerate(parts))
        rows = self._query(union + " ORDER BY 4, 1, 2, 3", tuple(args))
        if until != "9999":  # series alive in the SERIES_TTL before `until` (any row, good or bad, says so)
            cutoff = (dt.datetime.fromisoformat(until) - SERIES_TTL).isoformat(timespec="seconds")
            parts, args = edges(cutoff, until, "SELECT venue, instrument")
            parts.append(f"SELECT venue, instrument FROM observations_hourly WHERE hour > ? AND hour < ?{venue_sql}")
            parts.append(f"SELECT venue, instrument FROM observations WHERE {bad_obs} AND ts >= ? AND ts <= ?")
            args += [cutoff[:13], hi, *v, cutoff, until]
            alive = set(self._query(" UNION ".join(parts), tuple(args)))
            rows = [r for r in rows if (r[0], r[1]) in alive]
        # Bad rows, counted and handed on as _typed does; the partial index answers "none in range" at once.
        any_bad = self._query(f"SELECT 1 FROM observations WHERE {bad_obs} AND ts >= ? AND ts <= ? LIMIT 1", (since, until))
        bad_rows = f"rowid IN (SELECT rowid FROM observations WHERE {bad_obs})"
        count = 0
        if any_bad:
            bad = self._query(f"SELECT COUNT(*) FROM observations WHERE {bad_rows} AND ({where})", tuple(params))
            count = int(bad[0][0]) if bad else 0
        self.set_aside["observations"] = count
        self._read_local.set_aside = {
            **getattr(self._read_local, "set_aside", {}),
            "observations": self._query(
                f"{_PLAIN['observations']} WHERE ({where}) AND {bad_obs} LIMIT {MAX_SET_ASIDE_ROWS}", tuple(params)
            )
            if count
            else [],
        }
        return rows

    def newest_observation(self, *, venues: tuple[str, ...] | None = None) -> str | None:
        """The newest stored observation's ISO ts: the instant history is thinned back from (RETENTION)."""
        where = self._ISO_TS  # a garbage ts sorts after digits
        # `+venue`: MAX(ts) from the end of the time index, not a walk of every row of those venues
        params: tuple[str, ...] = ()
        if venues is not None:
            where, params = f"{where} AND {self._NOINDEX}venue IN ({', '.join('?' * len(venues))})", tuple(venues)
        rows = self._query(f"SELECT MAX(ts) FROM observations WHERE {where}", params)
        return rows[0][0] if rows else None

    def has_observations(self) -> bool:
        return bool(self._query("SELECT 1 FROM observations LIMIT 1"))

    def add_coinshares(
        self, week_ending: dt.date, total_usd_m: float, btc_usd_m: float | None, *, entered_at: dt.datetime
    ) -> bool:
        """Record CoinShares' weekly print (entered by hand); returns True if it replaced an earlier entry."""
        week = week_ending.isoformat()

        def apply(conn: sqlite3.Connection) -> bool:
            old = conn.execute("SELECT 1 FROM coinshares WHERE week_ending = ?", (week,)).fetchone()
            conn.execute(
                "INSERT INTO coinshares VALUES (?, ?, ?, ?) ON CONFLICT (week_ending) DO UPDATE SET "
                "total_usd_m = excluded.total_usd_m, btc_usd_m = excluded.btc_usd_m, entered_at = excluded.entered_at",
                (week, total_usd_m, btc_usd_m, entered_at.isoformat(timespec="seconds")),
            )
            _invalidate(conn, week)
            _bump(conn, "flows")
            return old is not None

        replaced = self._write(apply, held=None)
        if replaced is None:  # held: answer from what is stored
            return bool(self._query("SELECT 1 FROM coinshares WHERE week_ending = ?", (week,)))
        return replaced

    def write_candles(self, product: str, rows) -> int:
        """Upsert daily candles (day, open, high, low, close, volume) in one transaction."""
        values = [(product, d.isoformat(), *v) for d, *v in rows]

        def apply(conn: sqlite3.Connection) -> int:
            fields = ("open", "high", "low", "close", "volume")
            upsert = "INSERT INTO candles VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (product, day) DO UPDATE SET " + ", ".join(
                f"{f} = excluded.{f}" for f in fields
            )
            written = conn.executemany(upsert, values).rowcount if values else 0
            if written:
                _bump(conn, "context")
            return written

        return self._write(apply, held=0)

    def candle_days(self, product: str = "BTC-USD") -> list[dt.date]:
        return [
            dt.date.fromisoformat(r[0]) for r in self._query("SELECT day FROM candles WHERE product = ? ORDER BY day", (product,))
        ]

    def candles(self, product: str = "BTC-USD") -> list[CandleRow]:
        """(ISO day, close), oldest first."""
        rows = self._query("SELECT day, close FROM candles WHERE product = ? ORDER BY day", (product,))
        return list(map(CandleRow._make, rows))

    def log_alert(self, key: str, kind: str, payload: str, *, created_at: dt.datetime) -> bool:
        """Record an alert once: True if it is new (so it should fire), False if it already fired."""
        if key in self._held_alerts:
            return False
        row = (key, kind, created_at.isoformat(timespec="seconds"), payload)
        fired = self._write(
            lambda conn: conn.execute("INSERT INTO alerts VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING", row).rowcount == 1,
            held=None,
        )
        if fired is None:  # held while the disk is full: fire once, unless the store already has it
            self._held_alerts.add(key)
            return not self._query("SELECT 1 FROM alerts WHERE key = ?", (key,))
        return fired

    def alerts(self) -> list[AlertRow]:
        rows = self._query("SELECT key, kind, created_at, payload FROM alerts ORDER BY created_at, key")
        return list(map(AlertRow._make, rows))

    def coinshares(self) -> list[CoinSharesRow]:
        rows = self._query("SELECT week_ending, total_usd_m, btc_usd_m, entered_at FROM coinshares ORDER BY week_ending")
        return list(map(CoinSharesRow._make, rows))

    # ---- compute once: data versions and per-day scenario labels (analytics/cache.py) ----------------
    def data_version(self) -> DataVersion | None:
        """The data version counters (one SELECT); None for a store without them (read-only view of an older
        schema), which a cache must treat as "always changed"."""
        found = dict(self._query("SELECT part, n FROM data_version"))
        if not all(p in found for p in _PARTS):
            return None
        return DataVersion(*(int(found[p]) for p in _PARTS))

    def scenario_days(self, key: str) -> list[ScenarioDay]:
        """The stored per-day scenario labels computed under `key`, oldest first."""
        rows = self._query(
            "SELECT date, scenario, label, marks, tier FROM scenario_days WHERE key = ? ORDER BY date, scenario", (key,)
        )
        return list(map(ScenarioDay._make, rows))

    def put_scenario_days(self, key: str, days: list[ScenarioDay], *, computed_at: DataVersion | None) -> bool:
        """Persist labels computed from the data at version `computed_at`; nothing is written (False) when the
        data moved since (the labels could be stale: the next computation redoes them), when the store is
        read-only or the disk is full. Labels of another key are dropped (the scenarios or settings changed)."""
        if self.readonly or self._conn is None or computed_at is None or not days:
            return False

        def apply(conn: sqlite3.Connection) -> bool:
            if _version(conn) != computed_at:
                return False
            conn.execute("DELETE FROM scenario_days WHERE key != ?", (key,))
            conn.executemany(
                "INSERT INTO scenario_days VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key, date, scenario) DO UPDATE SET "
                "label = excluded.label, marks = excluded.marks, tier = excluded.tier",
                [(key, *d) for d in days],
            )
            return True

        return bool(self._write(apply, held=False, keep=False))

    # ---- a desk on one store: second flow sources, the writer's heartbeat, persisted views ------------
    def write_source_flows(
        self, source: str, asset: str, rows: Iterable[tuple[dt.date, str, float | None]], *, fetched_at: dt.datetime
    ) -> int:
        """Upsert one source's daily flows (date, fund or TOTAL, US$ millions) in one transaction; returns how many
        rows changed. A stored number is never replaced by None (missing), as in write_table. A change bumps the
        `flows` version and drops the BTC scenario labels from its date on."""
        seen = _utc(fetched_at)
        where = f"{source} {asset} flows"
        values = [
            (
                bounds.identifier(source, where),
                bounds.identifier(asset, where),
                day.isoformat(),
                bounds.identifier(fund, where),
                None if usd_m is None else bounds.check("flow_usd_m", usd_m, f"{where} {fund} {day}"),
            )
            for day, fund, usd_m in rows
        ]

        def apply(conn: sqlite3.Connection) -> int:
            changed, first = 0, None
            for key in values:
                old = conn.execute(
                    "SELECT usd_m FROM source_flows WHERE source = ? AND asset = ? AND date = ? AND fund = ?", key[:4]
                ).fetchone()
                if old is not None and (key[4] is None or old[0] == key[4]):
                    continue
                conn.execute(
                    "INSERT INTO source_flows VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, asset, date, fund) "
                    "DO UPDATE SET usd_m = excluded.usd_m, fetched_at = excluded.fetched_at",
                    (*key, seen),
                )
                changed += 1
                first = min(first or key[2], key[2])
            if first is not None:
                _invalidate(conn, first)
                _bump(conn, "flows")
            return changed

        return self._write(apply, held=0)

    def source_flows(self, asset: str | None = None, source: str | None = None) -> list[SourceFlowRow]:
        """The second sources' flows, by source, asset, date, fund."""
        where = " AND ".join(c for c, v in (("asset = ?", asset), ("source = ?", source)) if v is not None) or "1 = 1"
        params = tuple(v for v in (asset, source) if v is not None)
        rows = self._query(
            f"SELECT source, asset, date, fund, usd_m, fetched_at FROM source_flows WHERE {where} "
            "ORDER BY source, asset, date, fund",
            params,
        )
        return list(map(SourceFlowRow._make, rows))

    def beat(self, role: str, *, now: dt.datetime, started_at: dt.datetime, detail: str = "") -> None:
        """The writer's heartbeat (no data version moves: viewers recompute nothing for it)."""
        row = (role, os.getpid(), socket.gethostname()[:64], _utc(started_at), _utc(now), detail[:200])
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO heartbeat VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (role) DO UPDATE SET pid = excluded.pid, "
                "host = excluded.host, started_at = excluded.started_at, beat_at = excluded.beat_at, detail = excluded.detail",
                row,
            ),
            held=None,
            keep=False,
        )

    def heartbeat(self, role: str = "collector") -> HeartbeatRow | None:
        rows = self._query("SELECT role, pid, host, started_at, beat_at, detail FROM heartbeat WHERE role = ?", (role,))
        return HeartbeatRow._make(rows[0]) if rows else None

    def put_views(self, key: str, version: str, payload: str, *, computed_at: dt.datetime) -> bool:
        """Persist computed views under `key` (replacing the previous ones); False when read-only or held."""
        if self.readonly or self._conn is None:
            return False
        row = (key, version, _utc(computed_at), payload)
        return bool(
            self._write(
                lambda conn: (
                    conn.execute(
                        "INSERT INTO views VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
                        "computed_at = excluded.computed_at, payload = excluded.payload",
                        row,
                    ).rowcount
                    == 1
                ),
                held=False,
                keep=False,
            )
        )

    def views(self, key: str) -> ViewsRow | None:
        rows = self._query("SELECT key, version, computed_at, payload FROM views WHERE key = ?", (key,))
        return ViewsRow._make(rows[0]) if rows else None

    def set_status(self, source: str, **values: object) -> None:
        unknown = set(values) - set(STATUS_FIELDS)
        if unknown:
            raise ValueError(f"unknown status fields: {sorted(unknown)}")
        current = self.status(source) or {"state": "starting", "failures": 0}
        current.update(values)
        if self._write(lambda conn: _put_status(conn, source, current), held=HELD, keep=False) is HELD:
            self._held_status[source] = current  # latest wins; readers see it at once

    def set_meta(self, key: str, value: str) -> None:
        if self._write(lambda conn: _put_meta(conn, key, value), held=HELD, keep=False) is HELD:
            self._held_meta[key] = value


def _utc(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def _day_start(when: dt.datetime) -> str:
    """The start of `when`'s UTC day, in the stored format: the caps count names first seen since then."""
    return when.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0).isoformat()


def _age_out(conn: sqlite3.Connection, table: str, owner_col: str, name_col: str, owner: str, now: dt.datetime) -> list[str]:
    """Forget the names `owner` (a venue or an asset, just written: it is answering) has not listed for SERIES_TTL;
    return those among them that lived less than CHURN_LIFE, whose rows the caller deletes as churn.
    A NULL first_seen (carried over from schema 1) counts as long-lived."""
    cutoff = _utc(now - SERIES_TTL)
    dead = conn.execute(
        f"SELECT {name_col}, first_seen, last_seen FROM {table} WHERE {owner_col} = ? AND last_seen < ?", (owner, cutoff)
    ).fetchall()
    conn.execute(f"DELETE FROM {table} WHERE {owner_col} = ? AND last_seen < ?", (owner, cutoff))
    return [
        name
        for name, first, last in dead
        if first and dt.datetime.fromisoformat(last) - dt.datetime.fromisoformat(first) < CHURN_LIFE
    ]


def _file_version(path: Path) -> int:
    """PRAGMA user_version read from the header bytes (offset 60), touching nothing; 0 for a new or empty file, or
    a header that is not sane (bytes 21-23 are always 64, 32, 32): the health check then says what is wrong."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except FileNotFoundError:
        return 0
    sane = len(head) == 64 and head.startswith(SQLITE_MAGIC) and head[21:24] == b"\x40\x20\x20"
    return int.from_bytes(head[60:64], "big") if sane else 0


def _refuse_newer(path: Path, conn: sqlite3.Connection | None = None) -> None:
    """A store from a newer flowtape is left as it is: writing it with this schema would silently downgrade it.
    Checked from the header bytes before SQLite opens the file (even a read-only open of a WAL store creates
    files beside it), then on the connection."""
    version = _file_version(path)
    if conn is not None:
        version = max(version, conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store {path} was written by a newer flowtape (schema {version}, this one reads "
            f"{SCHEMA_VERSION}): upgrade flowtape or pass --db for another file"
        )


def _statements(script: str) -> list[str]:
    """A script split into statements at the `;` that end one (a trigger's body holds several)."""
    out, buffer = [], ""
    for part in script.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                out.append(buffer)
            buffer = ""
    return out


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the store to SCHEMA_VERSION in one transaction: a new file gets _SCHEMA, an older one each step of
    _MIGRATIONS in order (version 0 with tables is a file from before versions were stamped: treated as 1)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version == 0 and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sessions'").fetchone():
        version = 1
    steps = [_SCHEMA] if version == 0 else [_MIGRATIONS[v] for v in range(version, SCHEMA_VERSION)]
    conn.execute("BEGIN IMMEDIATE")
    try:
        for step in steps:
            for statement in _statements(step):
                try:
                    conn.execute(statement)
                except sqlite3.OperationalError as exc:  # ADD COLUMN has no IF NOT EXISTS (see _MIGRATIONS)
                    if "duplicate column name" not in str(exc):
                        raise
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _put_status(conn: sqlite3.Connection, source: str, values: dict[str, object]) -> None:
    conn.execute(
        f"INSERT INTO source_status (source, {', '.join(STATUS_FIELDS)}) VALUES (?{', ?' * len(STATUS_FIELDS)}) "
        f"ON CONFLICT (source) DO UPDATE SET {', '.join(f'{f} = excluded.{f}' for f in STATUS_FIELDS)}",
        (source, *(values.get(f) for f in STATUS_FIELDS)),
    )


def _version(conn: sqlite3.Connection) -> DataVersion | None:
    found = dict(conn.execute("SELECT part, n FROM data_version").fetchall())
    return DataVersion(*(int(found[p]) for p in _PARTS)) if all(p in found for p in _PARTS) else None


def _bump(conn: sqlite3.Connection, part: str) -> None:
    """Inside the write's own transaction: a rolled-back write leaves the version where it was."""
    conn.execute("UPDATE data_version SET n = n + 1 WHERE part IN (?, 'total')", (part,))


def _invalidate(conn: sqlite3.Connection, first: str, last: str = "9999") -> None:
    """Drop the per-day scenario labels a write can change: BTC sessions dated first..last (ISO dates)."""
    conn.execute("DELETE FROM scenario_days WHERE date >= ? AND date <= ?", (first, last))


def _first_session_seeing(ts: str) -> str:
    """The first session date whose end-of-day cut-off (New York) can see a stored instant: its New York date (a
    poll after a session's close changes nothing of it). An unparsable ts: the UTC date before, to be safe."""
    try:
        when = dt.datetime.fromisoformat(ts)
        return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(NEW_YORK).date().isoformat()
    except ValueError:
        return (dt.date.fromisoformat(ts[:10]) - dt.timedelta(days=1)).isoformat()


def _put_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


# Write failures that the dashboard rides out by holding writes in memory: (what the screen says, what to do).
_UNWRITABLE = {
    sqlite3.SQLITE_FULL: ("DISK FULL", "free space for {path}"),
    sqlite3.SQLITE_READONLY: ("STORE READ-ONLY", "make {path} and its folder writable again"),
    sqlite3.SQLITE_IOERR: ("STORE WRITE ERROR", "check the disk holding {path}"),
}


def _unwritable(exc: sqlite3.Error) -> tuple[str, str] | None:
    """(label, remedy) when the store cannot be written for a reason outside flowtape, else None."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in _UNWRITABLE:  # extended codes (SQLITE_IOERR_WRITE...) share the low byte
        return _UNWRITABLE[code & 0xFF]
    text = str(exc)
    for needle, primary in (
        ("disk is full", sqlite3.SQLITE_FULL),
        ("readonly database", sqlite3.SQLITE_READONLY),
        ("disk I/O error", sqlite3.SQLITE_IOERR),
    ):
        if needle in text:
            return _UNWRITABLE[primary]
    return None


def _second_writer_notice(path: Path) -> str:
    """Why this process is read-only: the file (whatever name it was reached by) has a writer already."""
    real = os.path.realpath(path)
    alias = f" (the file {real})" if real != str(path) else ""
    text = f"another flowtape process is writing to {path}{alias}; this one is read-only"
    links = os.stat(path).st_nlink
    if links > 1:  # SQLite keeps the WAL beside the name it opened: other names do not see the newest writes
        text += (
            f". The file has {links} names (hard links): SQLite's journal is kept beside the name the writer "
            "uses, so open it by that name to see the newest data"
        )
    return text


def _closed_cleanly(path: Path) -> bool:
    """The last writer closed the store (CLEAN_MARKER is "1"); False when unsure (absent, unreadable, no marker)."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return False
        with open(path, "rb") as fh:
            if fh.read(16) != SQLITE_MAGIC:
                return False
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (CLEAN_MARKER,)).fetchone()
        finally:
            conn.close()
    except (sqlite3.Error, OSError):
        return False
    return bool(row) and row[0] == "1"


def _health_problem(path: Path, *, check: bool = True) -> str | None:
    """None if `path` is absent, empty or a healthy SQLite database; else what is wrong with it. `check` False
    skips PRAGMA quick_check (50-100 ms on a year's store) after a clean shutdown: the file is still opened
    and its schema read, so a file that is not a database is still caught."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return None
        with open(path, "rb") as fh:
            if fh.read(16) != SQLITE_MAGIC:
                return "not an SQLite database"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
        try:
            if check:
                result = conn.execute("PRAGMA quick_check").fetchone()
            else:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                result = ("ok",)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"unreadable ({exc})"
    except OSError as exc:
        raise StoreError(f"cannot read the store {path}: {exc.strerror}") from None
    if not result or result[0] != "ok":
        return f"corrupt (integrity check: {result[0] if result else 'no answer'})"
    return None
