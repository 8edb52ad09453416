"""The SQLite store: flow history, revisions and source status, in one local file.

Per RELIABILITY.md: WAL, synchronous=FULL, one writer connection guarded by an OS file lock (a second
process opens read-only and says so), one transaction per poll batch, idempotent upserts, revisions
kept. A file at the path that is not a healthy SQLite database is moved aside, never deleted.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import sqlite3
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from .records import TOTAL, FlowTable

SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    asset TEXT NOT NULL, date TEXT NOT NULL, total_usd_m REAL, provisional INTEGER NOT NULL,
    source TEXT NOT NULL, fetched_at TEXT NOT NULL, PRIMARY KEY (asset, date));
CREATE TABLE IF NOT EXISTS flows (
    asset TEXT NOT NULL, date TEXT NOT NULL, fund TEXT NOT NULL, usd_m REAL,
    PRIMARY KEY (asset, date, fund));
CREATE TABLE IF NOT EXISTS revisions (
    asset TEXT NOT NULL, date TEXT NOT NULL, fund TEXT NOT NULL,
    old_usd_m REAL, new_usd_m REAL, seen_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS funds (
    asset TEXT NOT NULL, fund TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (asset, fund));
CREATE TABLE IF NOT EXISTS source_status (
    source TEXT PRIMARY KEY, state TEXT NOT NULL, last_success TEXT, last_attempt TEXT,
    next_attempt TEXT, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, ban_until TEXT,
    warning TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS observations (
    venue TEXT NOT NULL, instrument TEXT NOT NULL, metric TEXT NOT NULL, ts TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (venue, instrument, metric, ts));
CREATE INDEX IF NOT EXISTS observations_ts ON observations (ts);
CREATE TABLE IF NOT EXISTS candles (
    product TEXT NOT NULL, day TEXT NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
    close REAL NOT NULL, volume REAL NOT NULL, PRIMARY KEY (product, day));
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS coinshares (
    week_ending TEXT PRIMARY KEY, total_usd_m REAL NOT NULL, btc_usd_m REAL, entered_at TEXT NOT NULL);
"""

QUOTE_METRICS = ("mark", "index", "funding_rate", "funding_interval_h", "oi_usd", "oi_btc")
# Bounded growth: full resolution for 48 h, then the first observation of each hour up to 30 days,
# then the first of each day. (prefix length of the ISO timestamp = the bucket)
RETENTION = ((dt.timedelta(hours=48), 13), (dt.timedelta(days=30), 10))
PRUNE_EVERY = dt.timedelta(hours=1)

# While the disk is full, write batches wait in memory (oldest dropped first past this bound) and are
# written, in order and in one transaction, as soon as a write succeeds again. A day of polling every
# source is about 12,000 batches of a few KB; 3,000 keeps the last few hours within a few MB.
MAX_HELD_BATCHES = 3_000

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
    _lock_fd: int | None = None
    _write_lock: threading.Lock = field(default_factory=threading.Lock)
    _last_prune: dt.datetime | None = None
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

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False) -> "Store":
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for the store {path}: {exc.strerror}") from None
        store = cls(path=path, readonly=readonly)
        if not readonly and not store._take_writer_lock():
            store.readonly = True
            store.notices.append(f"another flowtape process is writing to {path}; this one is read-only")
        if store.readonly:
            store._check_readable()
        else:
            store._open_writer()
        return store

    def _take_writer_lock(self) -> bool:
        try:
            fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file beside {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _open_writer(self) -> None:
        problem = _health_problem(self.path)
        if problem:
            aside = self._move_aside()
            self.notices.append(f"the store {self.path} was {problem}; it was moved to {aside} and a new one started")
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}. Check the disk and permissions, or pass --db PATH") from None
        self._conn = conn

    def _check_readable(self) -> None:
        if not self.path.exists():
            return
        problem = _health_problem(self.path)
        if problem:
            raise StoreError(
                f"the store {self.path} is {problem}; run flowtape without --offline, with no other flowtape "
                "running, to move it aside and start a new one (nothing is deleted)"
            )

    def _move_aside(self) -> Path:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                os.replace(side, Path(f"{aside}{suffix}"))
        return aside

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

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

    def sessions(self, asset: str | None = None) -> list[tuple[str, str, float | None, bool]]:
        """(asset, ISO date, published total, provisional), oldest first."""
        where, params = ("WHERE asset = ?", (asset,)) if asset else ("", ())
        rows = self._query(f"SELECT asset, date, total_usd_m, provisional FROM sessions {where} ORDER BY asset, date", params)
        return [(a, d, t, bool(p)) for a, d, t, p in rows]

    def flows(self, asset: str | None = None) -> list[tuple[str, str, str, float | None]]:
        """(asset, ISO date, fund, US$m or None), oldest first."""
        where, params = ("WHERE asset = ?", (asset,)) if asset else ("", ())
        return self._query(f"SELECT asset, date, fund, usd_m FROM flows {where} ORDER BY asset, date, fund", params)

    def funds(self, asset: str) -> list[str]:
        return [r[0] for r in self._query("SELECT fund FROM funds WHERE asset = ? ORDER BY position", (asset,))]

    def revisions(self, asset: str | None = None) -> list[tuple[str, str, str, float | None, float | None, str]]:
        where, params = ("WHERE asset = ?", (asset,)) if asset else ("", ())
        return self._query(f"SELECT asset, date, fund, old_usd_m, new_usd_m, seen_at FROM revisions {where} ORDER BY rowid", params)

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
        return dict(zip(STATUS_FIELDS, rows[0])) if rows else {}

    def all_status(self) -> dict[str, dict[str, object]]:
        rows = self._query(f"SELECT source, {', '.join(STATUS_FIELDS)} FROM source_status ORDER BY source")
        stored = {r[0]: dict(zip(STATUS_FIELDS, r[1:])) for r in rows}
        return dict(sorted({**stored, **{s: dict(v) for s, v in self._held_status.items()}}.items()))

    # ---- writing (one writer; each call is one transaction) -------------------------------
    def _writer(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the store {self.path} is open read-only in this process")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the caller holds the writer lock. After SQLITE_FULL/IOERR the
        transaction may already be rolled back, so ROLLBACK only when one is still open."""
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
            except sqlite3.OperationalError as exc:
                why = _unwritable(exc)
                if not why:
                    raise
                if not self.hold_when_full:
                    raise StoreError(f"cannot write the store {self.path} ({exc}): {why[1].format(path=self.path)}, "
                                     "then run the command again (nothing already stored was lost)") from None
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
        return f"{label} since {since}: {self.held_batches} writes held in memory{dropped}; {remedy.format(path=self.path)} and they are written"

    def flush_held(self) -> bool:
        """Try to write what the disk-full buffer holds; True when nothing is held any more."""
        with self._write_lock:
            return not self.disk_full or self._flush_held()

    def _note_full(self, exc: sqlite3.Error) -> None:
        if self.full_since is None:
            self.full_since = dt.datetime.now(dt.timezone.utc)
        self.full_error = str(exc)
        self.full_why = _unwritable(exc) or self.full_why

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
        except sqlite3.OperationalError as exc:
            if not _unwritable(exc):
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
        already hold keeps its value."""
        seen = fetched_at.isoformat(timespec="seconds")

        def apply(conn: sqlite3.Connection) -> WriteResult:
            result = WriteResult()
            for pos, fund in enumerate(table.tickers):
                conn.execute(
                    "INSERT INTO funds VALUES (?, ?, ?) ON CONFLICT(asset, fund) DO UPDATE SET position = excluded.position",
                    (table.asset, fund, pos),
                )
            for row in table.rows:
                day = row.date.isoformat()
                changed = self._upsert_value(conn, table.asset, day, TOTAL, row.total, seen, result)
                old = conn.execute(
                    "SELECT provisional FROM sessions WHERE asset = ? AND date = ?", (table.asset, day)
                ).fetchone()
                for fund, value in row.funds.items():
                    changed |= self._upsert_value(conn, table.asset, day, fund, value, seen, result)
                if old is None or changed or bool(old[0]) != row.provisional:
                    result.sessions += 1
                    conn.execute(
                        "UPDATE sessions SET provisional = ?, source = ?, fetched_at = ? WHERE asset = ? AND date = ?",
                        (int(row.provisional), source, seen, table.asset, day),
                    )
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
            return False
        if old is not None:
            result.revisions += 1
            conn.execute("INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?)", (asset, day, fund, old, value, seen))
        conn.execute(update, params)
        return True

    def write_quotes(self, quotes, *, fetched_at: dt.datetime) -> int:
        """Store venue quotes as observations (one row per metric) in one transaction; thin old
        history at most once an hour (see RETENTION)."""
        rows = []
        for q in quotes:
            ts = q.ts.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
            for metric in QUOTE_METRICS:
                value = getattr(q, metric)
                if value is not None:
                    rows.append((q.venue, q.instrument, metric, ts, float(value)))
            if q.expiry is not None:
                rows.append((q.venue, q.instrument, "expiry", ts, q.expiry.timestamp()))
        written = self._insert_observations(rows)
        if self._last_prune is None or fetched_at - self._last_prune >= PRUNE_EVERY:
            self.prune_observations(fetched_at)
        return written

    def write_observation_rows(self, rows, *, fetched_at: dt.datetime) -> int:
        """Store ready-made (venue, instrument, metric, ISO ts, value) rows in one transaction."""
        written = self._insert_observations(rows)
        if self._last_prune is None or fetched_at - self._last_prune >= PRUNE_EVERY:
            self.prune_observations(fetched_at)
        return written

    def _insert_observations(self, rows) -> int:
        def apply(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany("INSERT OR REPLACE INTO observations VALUES (?, ?, ?, ?, ?)", rows)
            return conn.total_changes - before

        return self._write(apply, held=0)

    def prune_observations(self, now: dt.datetime) -> int:
        """Thin history per RETENTION; returns the rows removed."""
        removed = 0
        with self._write_lock:
            if self.disk_full:
                return 0  # thinning waits until held batches are written
            try:
                with self._transaction() as conn:
                    for age, bucket in RETENTION:
                        cutoff = (now - age).astimezone(dt.timezone.utc).isoformat(timespec="seconds")
                        cur = conn.execute(
                            f"""DELETE FROM observations WHERE ts < ? AND rowid NOT IN (
                                    SELECT MIN(rowid) FROM observations WHERE ts < ?
                                    GROUP BY venue, instrument, metric, substr(ts, 1, {bucket}))""",
                            (cutoff, cutoff),
                        )
                        removed += cur.rowcount
            except sqlite3.OperationalError as exc:
                if not _unwritable(exc):
                    raise
                return 0  # a delete can need journal space too: try again next hour
        self._last_prune = now
        return removed

    def observations(
        self, since: str | None = None, until: str | None = None, *, venues: tuple[str, ...] | None = None, hourly: bool = False
    ) -> list[tuple[str, str, str, str, float]]:
        """(venue, instrument, metric, ISO ts, value) with since <= ts <= until, oldest first.

        `venues` keeps only those venues; `hourly` keeps the last observation of each series in each UTC
        hour (the latest one included), so the rows read stay bounded however often sources poll."""
        where, params = "ts >= ? AND ts <= ?", [since or "", until or "9999"]
        if venues is not None:
            where += f" AND venue IN ({', '.join('?' * len(venues))})"
            params += list(venues)
        if hourly:  # SQLite takes the bare columns from the row holding MAX(ts)
            sql = (f"SELECT venue, instrument, metric, MAX(ts), value FROM observations WHERE {where} "
                   "GROUP BY venue, instrument, metric, substr(ts, 1, 13) ORDER BY 4")
        else:
            sql = f"SELECT venue, instrument, metric, ts, value FROM observations WHERE {where} ORDER BY ts"
        return self._query(sql, tuple(params))

    def newest_observation(self, *, venues: tuple[str, ...] | None = None) -> str | None:
        """The newest stored observation's ISO ts: the instant history is thinned back from (RETENTION)."""
        where, params = "ts GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*'", ()  # a garbage ts sorts after digits
        if venues is not None:
            where, params = f"{where} AND venue IN ({', '.join('?' * len(venues))})", tuple(venues)
        rows = self._query(f"SELECT MAX(ts) FROM observations WHERE {where}", params)
        return rows[0][0] if rows else None

    def has_observations(self) -> bool:
        return bool(self._query("SELECT 1 FROM observations LIMIT 1"))

    def add_coinshares(self, week_ending: dt.date, total_usd_m: float, btc_usd_m: float | None, *, entered_at: dt.datetime) -> bool:
        """Record CoinShares' weekly print (entered by hand); returns True if it replaced an earlier entry."""
        week = week_ending.isoformat()

        def apply(conn: sqlite3.Connection) -> bool:
            old = conn.execute("SELECT 1 FROM coinshares WHERE week_ending = ?", (week,)).fetchone()
            conn.execute("INSERT OR REPLACE INTO coinshares VALUES (?, ?, ?, ?)",
                         (week, total_usd_m, btc_usd_m, entered_at.isoformat(timespec="seconds")))
            return old is not None

        replaced = self._write(apply, held=None)
        if replaced is None:  # held: answer from what is stored
            return bool(self._query("SELECT 1 FROM coinshares WHERE week_ending = ?", (week,)))
        return replaced

    def write_candles(self, product: str, rows) -> int:
        """Upsert daily candles (day, open, high, low, close, volume) in one transaction."""
        values = [(product, d.isoformat(), *v) for d, *v in rows]

        def apply(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany("INSERT OR REPLACE INTO candles VALUES (?, ?, ?, ?, ?, ?, ?)", values)
            return conn.total_changes - before

        return self._write(apply, held=0)

    def candle_days(self, product: str = "BTC-USD") -> list[dt.date]:
        return [dt.date.fromisoformat(r[0]) for r in self._query("SELECT day FROM candles WHERE product = ? ORDER BY day", (product,))]

    def candles(self, product: str = "BTC-USD") -> list[tuple[str, float]]:
        """(ISO day, close), oldest first."""
        return self._query("SELECT day, close FROM candles WHERE product = ? ORDER BY day", (product,))

    def log_alert(self, key: str, kind: str, payload: str, *, created_at: dt.datetime) -> bool:
        """Record an alert once: True if it is new (so it should fire), False if it already fired."""
        if key in self._held_alerts:
            return False
        row = (key, kind, created_at.isoformat(timespec="seconds"), payload)
        fired = self._write(lambda conn: conn.execute("INSERT OR IGNORE INTO alerts VALUES (?, ?, ?, ?)", row).rowcount == 1,
                            held=None)
        if fired is None:  # held while the disk is full: fire once, unless the store already has it
            self._held_alerts.add(key)
            return not self._query("SELECT 1 FROM alerts WHERE key = ?", (key,))
        return fired

    def alerts(self) -> list[tuple[str, str, str, str]]:
        return self._query("SELECT key, kind, created_at, payload FROM alerts ORDER BY created_at, key")

    def coinshares(self) -> list[tuple[str, float, float | None, str]]:
        return self._query("SELECT week_ending, total_usd_m, btc_usd_m, entered_at FROM coinshares ORDER BY week_ending")

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


def _put_status(conn: sqlite3.Connection, source: str, values: dict[str, object]) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO source_status (source, {', '.join(STATUS_FIELDS)}) VALUES (?{', ?' * len(STATUS_FIELDS)})",
        (source, *(values.get(f) for f in STATUS_FIELDS)),
    )


def _put_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


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
    for needle, primary in (("disk is full", sqlite3.SQLITE_FULL), ("readonly database", sqlite3.SQLITE_READONLY),
                            ("disk I/O error", sqlite3.SQLITE_IOERR)):
        if needle in text:
            return _UNWRITABLE[primary]
    return None


def _health_problem(path: Path) -> str | None:
    """None if `path` is absent, empty or a healthy SQLite database; else what is wrong with it."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return None
        with open(path, "rb") as fh:
            if fh.read(16) != SQLITE_MAGIC:
                return "not an SQLite database"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"unreadable ({exc})"
    except OSError as exc:
        raise StoreError(f"cannot read the store {path}: {exc.strerror}") from None
    if not result or result[0] != "ok":
        return f"corrupt (integrity check: {result[0] if result else 'no answer'})"
    return None
