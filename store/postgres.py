"""The PostgreSQL store: the same `Store` (store/sqlite.py) on a server, for a desk whose screens run on other machines.

Only what differs from SQLite is here; every read and write method is the shared one. What differs:
- connections: one writer, one per reading thread (autocommit: each read sees the last commit), one listening;
- the DDL, derived from the SQLite schema's tables (REAL -> DOUBLE PRECISION, TEXT compared byte-wise as SQLite
  does, a `rowid` column where the shared SQL orders by insertion), and the hourly table kept by plpgsql triggers;
- `?` placeholders, turned into psycopg's `%s` by the connection wrapper (_Conn);
- the single writer: a session advisory lock (a second writer opens read-only and says so, as with SQLite's flock);
- every write transaction ends with NOTIFY flowtape, so `changed()` is a look at the listening socket, no query;
- the server going away is a state, not a crash: writes are held as on a full disk (store/sqlite.py `_held`),
  retried with backoff and flushed in one transaction on reconnect; reads say STORE UNREACHABLE (a StoreError).
Rows cannot have the wrong type here (typed columns), so nothing is set aside and there is no quick_check or
move-aside: those are SQLite's.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, cast

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

from common.config import shown_store

from .sqlite import _PARTS, _SCHEMA, SCHEMA_VERSION, Store, StoreError, _statements

log = logging.getLogger(__name__)
CHANNEL = "flowtape"  # NOTIFY'd in every write transaction; `changed()` LISTENs
# pg_try_advisory_lock key of the single writer ("flow"); advisory locks are per database.
LOCK_KEY = 0x666C6F77
SCHEMA_KEY = "schema_version"  # the meta row holding the schema version (SQLite: PRAGMA user_version)
CONNECT_TIMEOUT_S = 5  # a server that does not answer in this long is unreachable for now
# Reconnection backoff: the first retry after 1 s, doubling to at most 30 s (a write or read meanwhile is held or
# refused at once, without waiting on a dead server).
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
UNREACHABLE = "STORE UNREACHABLE"
# The writer's remembered answers (see _query): small ones only (statuses, a table's funds, meta), the latest 512.
MAX_REMEMBERED_ROWS = 256
MAX_REMEMBERED_ANSWERS = 512
# TCP keepalives: a server or network that vanishes silently is noticed in about a minute, not two hours.
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """The shared SQL's `?` placeholders as psycopg's `%s` (a literal `%` doubled). The shared SQL has no `?` or
    `%` inside string literals (SQLite's GLOB patterns stay in SQLite-only SQL)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Conn:
    """A psycopg connection that speaks the shared SQL: `execute`/`executemany` with `?` placeholders, returning
    the cursor (fetchone/fetchall/rowcount), as sqlite3's connection does."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Iterable[object] = ()) -> psycopg.Cursor[Any]:
        params = tuple(params)
        return self.raw.execute(_pg_sql(sql) if params else sql, params or None)

    def executemany(self, sql: str, rows: Iterable[Iterable[object]]) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        cur.executemany(_pg_sql(sql), [tuple(r) for r in rows])  # rowcount: the sum over the rows
        return cur

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    @property
    def usable(self) -> bool:
        return not self.raw.closed and not self.raw.broken

    def close(self) -> None:
        self.raw.close()


def _one(conn: _Conn, sql: str, params: tuple = ()) -> Any:
    """The first column of the first row (None when there is no row)."""
    row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def _pg_schema(script: str) -> str:
    """The SQLite schema's tables and indexes as PostgreSQL DDL: one definition of each table for both backends.
    SQLite-only statements (its triggers, the typeof index, INSERT OR IGNORE) are left out: _PG_EXTRA has theirs."""
    out = []
    for statement in _statements(script):
        if "TRIGGER" in statement or "typeof" in statement or "INSERT OR" in statement:
            continue
        statement = re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement)
        statement = re.sub(r"\bINTEGER\b", "BIGINT", statement)
        statement = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', statement)  # byte order: ISO times compare as in SQLite
        if re.match(r"\s*CREATE TABLE IF NOT EXISTS (revisions|observations) \(", statement):
            # the shared SQL orders these by insertion (`rowid`), as SQLite's implicit rowid does
            statement = statement.rstrip().rstrip(";").rstrip()[:-1] + ", rowid BIGINT GENERATED ALWAYS AS IDENTITY);"
        out.append(statement)
    return "\n".join(out)


# What SQLite's triggers do (store/sqlite.py _COMPUTE_ONCE), in plpgsql: the last observation of each series in each
# UTC hour, kept in the write's own transaction. After a DELETE statement the row triggers run once every row is
# gone, so the hour's new last row is read from what is left.
_PG_EXTRA = f"""
INSERT INTO data_version VALUES {", ".join(f"('{p}', 0)" for p in _PARTS)} ON CONFLICT (part) DO NOTHING;
CREATE OR REPLACE FUNCTION flowtape_hourly_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO observations_hourly VALUES (NEW.venue, NEW.instrument, NEW.metric, substr(NEW.ts, 1, 13), NEW.ts, NEW.value)
    ON CONFLICT (venue, instrument, metric, hour) DO UPDATE SET ts = excluded.ts, value = excluded.value
    WHERE excluded.ts >= observations_hourly.ts;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION flowtape_hourly_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM observations_hourly WHERE venue = OLD.venue AND instrument = OLD.instrument AND metric = OLD.metric
        AND hour = substr(OLD.ts, 1, 13) AND ts = OLD.ts;
    INSERT INTO observations_hourly
        SELECT venue, instrument, metric, substr(ts, 1, 13), ts, value FROM observations
        WHERE venue = OLD.venue AND instrument = OLD.instrument AND metric = OLD.metric
            AND ts >= substr(OLD.ts, 1, 13) AND ts < substr(OLD.ts, 1, 13) || ';'
        ORDER BY ts DESC LIMIT 1
    ON CONFLICT (venue, instrument, metric, hour) DO NOTHING;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS observations_hourly_keep ON observations;
CREATE TRIGGER observations_hourly_keep AFTER INSERT OR UPDATE ON observations
    FOR EACH ROW EXECUTE FUNCTION flowtape_hourly_keep();
DROP TRIGGER IF EXISTS observations_hourly_forget ON observations;
CREATE TRIGGER observations_hourly_forget AFTER DELETE ON observations
    FOR EACH ROW EXECUTE FUNCTION flowtape_hourly_forget();
"""
PG_SCHEMA = _pg_schema(_SCHEMA) + _PG_EXTRA


@dataclass
class PostgresStore(Store):
    url: str = ""  # as given, password included: only psycopg sees it (shown: `location`)
    unreachable_since: dt.datetime | None = None
    _retry_at: float = 0.0  # time.monotonic() before which nothing tries the server again
    _backoff: float = RETRY_FIRST_S
    _readers: threading.local = field(default_factory=threading.local)
    _reader_conns: list[_Conn] = field(default_factory=list)  # every thread's, to close them all
    _listen: _Conn | None = None
    _state_lock: threading.Lock = field(default_factory=threading.Lock)
    _answers: OrderedDict[tuple[str, tuple], list[tuple]] = field(default_factory=OrderedDict)  # see _query
    # This Store's sessions' application_name tail: host, pid and a nonce (another Store in this process differs);
    # kept under the server's 63 characters with "flowtape listener " before it.
    _token: str = field(default_factory=lambda: f"{socket.gethostname()[:20]} {os.getpid()} {secrets.token_hex(4)}")

    # ---- what differs from SQLite (see Store) -----------------------------------------------------------
    _ERRORS = (psycopg.OperationalError, pg_errors.ReadOnlySqlTransaction)
    _UPSERT_OBSERVATION = (
        "INSERT INTO observations VALUES (?, ?, ?, ?, ?) ON CONFLICT (venue, instrument, metric, ts) "
        "DO UPDATE SET value = excluded.value"
    )
    _NOINDEX = ""
    # changed() reads NOTIFYs already on the LISTEN socket, no query: a viewer can ask often (commit to paint <= 2 s).
    follow_every_s: ClassVar[float] = 0.25
    _NOT_BAD_OBSERVATION = "1 = 1"  # typed columns: no row of the wrong type to leave alone
    _ISO_TS = "ts ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'"

    def _bad(self, table: str) -> str:
        return "FALSE"  # typed columns: no row of the wrong type can be stored

    @property
    def location(self) -> str:
        return shown_store(self.url)

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open_url(cls, url: str, *, readonly: bool = False) -> PostgresStore:
        # `path` is a file's: here only a label (use `location` to show the store)
        store = cls(path=Path(shown_store(url)), readonly=readonly, url=url)
        try:
            if readonly:
                store._refuse_newer(store._reader_conn())  # reachable, and not from a newer flowtape
            else:
                store._conn = store._connect_writer()  # type: ignore[assignment]
        except BaseException:
            store.close()
            raise
        return store

    def _connect(self, role: str) -> _Conn:
        """A new autocommit connection, or StoreError saying the server is unreachable (and why)."""
        try:
            raw = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name=f"flowtape {role} {self._token}",
                **_KEEPALIVE,  # type: ignore[arg-type]
            )
        except psycopg.Error as exc:
            self._lost(exc)
            raise StoreError(self._unreachable_line(exc)) from None
        return _Conn(raw)

    def _connect_writer(self) -> _Conn | None:
        """The writer's connection, holding the advisory lock, the schema created or checked; None (and read-only,
        said in `notices`) when another flowtape holds the lock."""
        conn = self._connect("writer")
        try:
            self._refuse_newer(conn)
            if not self._take_lock(conn):
                conn.close()
                self.readonly = True
                self.notices.append(f"another flowtape process is writing to {self.location}; this one is read-only")
                return None
            # A new database, or one from an older flowtape: PG_SCHEMA is all CREATE ... IF NOT EXISTS (or OR REPLACE),
            # so running it again adds what a newer schema added (tables, indexes); a step that changes an existing
            # table (ADD COLUMN) needs its own statement here, in the same transaction.
            version = self._schema_version(conn)
            if version is None or version < SCHEMA_VERSION:
                conn.execute("BEGIN")
                conn.execute(PG_SCHEMA)
                conn.execute(
                    "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (SCHEMA_KEY, str(SCHEMA_VERSION)),
                )
                conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        return conn

    def _take_lock(self, conn: _Conn) -> bool:
        """The single writer's advisory lock. A lock still held by a session of this very Store (a connection the
        network dropped, which the server has not noticed yet) is taken back: that session is ended."""
        if _one(conn, "SELECT pg_try_advisory_lock(?)", (LOCK_KEY,)):
            return True
        mine = f"flowtape writer {self._token}"
        stale = conn.execute(
            "SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.objid = ? AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND a.application_name = ? AND a.pid <> pg_backend_pid()",
            (LOCK_KEY, mine),
        ).fetchall()
        for (pid,) in stale:
            conn.execute("SELECT pg_terminate_backend(?, 5000)", (pid,))
        return bool(stale) and bool(_one(conn, "SELECT pg_try_advisory_lock(?)", (LOCK_KEY,)))

    @staticmethod
    def _schema_version(conn: _Conn) -> int | None:
        if _one(conn, "SELECT to_regclass('meta')") is None:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (SCHEMA_KEY,)).fetchone()
        return int(row[0]) if row else None

    def _refuse_newer(self, conn: _Conn) -> None:
        version = self._schema_version(conn)
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(
                f"the store {self.location} was written by a newer flowtape (schema {version}, this one reads "
                f"{SCHEMA_VERSION}): upgrade flowtape or pass --store for another database"
            )

    def close(self) -> None:
        """Closing the writer's connection releases the advisory lock (as the server does for a killed process)."""
        for conn in (self._conn, self._listen, *self._reader_conns):
            if conn is not None:
                try:
                    conn.close()
                except psycopg.Error:
                    pass
        self._conn = None
        self._listen = None
        self._reader_conns.clear()
        self._readers = threading.local()

    # ---- the server going away: a state, retried with backoff -------------------------------------------
    def _lost(self, exc: BaseException) -> None:
        with self._state_lock:
            if self.unreachable_since is None:
                self.unreachable_since = dt.datetime.now(dt.UTC)
                self._backoff = RETRY_FIRST_S
                log.warning("%s", self._unreachable_line(exc))
            else:
                self._backoff = min(self._backoff * 2, RETRY_MAX_S)
            self._retry_at = time.monotonic() + self._backoff
            self.full_error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    def _reached(self) -> None:
        with self._state_lock:
            if self.unreachable_since is not None:
                log.warning(
                    "the store %s answers again (unreachable since %s UTC)", self.location, f"{self.unreachable_since:%H:%M}"
                )
            self.unreachable_since = None
            self._backoff = RETRY_FIRST_S
            self._retry_at = 0.0

    def _waiting(self) -> bool:
        """True while the backoff says not to try the server yet."""
        return self.unreachable_since is not None and time.monotonic() < self._retry_at

    def _unreachable_line(self, exc: BaseException | None = None) -> str:
        since = f"{self.unreachable_since:%H:%M} UTC" if self.unreachable_since else "now"
        why = f" ({str(exc).strip().splitlines()[0]})" if exc is not None and str(exc).strip() else ""
        return f"{UNREACHABLE} since {since}: {self.location} (retrying){why}"

    def _unwritable(self, exc: Exception) -> tuple[str, str] | None:
        if isinstance(exc, pg_errors.DiskFull):
            return ("DISK FULL", "free space on the database server of {path}")
        if isinstance(exc, pg_errors.ReadOnlySqlTransaction):
            return ("STORE READ-ONLY", "point {path} at the primary server")
        if isinstance(exc, psycopg.OperationalError):
            return (UNREACHABLE, "wait until {path} answers again")
        return None

    def held_report(self) -> str | None:
        if self.disk_full and self.full_why[0] == UNREACHABLE:
            dropped = f", {self._held_dropped} oldest dropped" if self._held_dropped else ""
            return f"{self._unreachable_line()}: {self.held_batches} writes held in memory{dropped}"
        return super().held_report()

    @property
    def problem(self) -> str | None:
        line = super().problem
        if line is None and self.unreachable_since is not None:
            return self._unreachable_line()
        return line

    # ---- reading: one connection per thread, kept --------------------------------------------------------
    def _reader_conn(self) -> _Conn:
        conn: _Conn | None = getattr(self._readers, "conn", None)
        if conn is not None and conn.usable:
            return conn
        if self._waiting():
            raise StoreError(self._unreachable_line())
        conn = self._readers.conn = self._connect("reader")
        with self._state_lock:
            self._reader_conns[:] = [c for c in self._reader_conns if c.usable] + [conn]
        return conn

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """One read; a connection the server dropped is replaced once at once (a restarted server answers), then
        the store is unreachable: StoreError, and `problem` says it until a read or write gets through.

        The writer remembers its last small answers (a source's status, a table's funds): it is the only writer, so
        while the server is away its writes (which read those first) are held instead of failing on the read."""
        key = (sql, params)
        try:
            rows = self._read(sql, params)
        except StoreError:
            with self._state_lock:
                if self._conn is not None and key in self._answers:
                    return list(self._answers[key])
            raise
        if self._conn is not None and len(rows) <= MAX_REMEMBERED_ROWS:
            with self._state_lock:
                self._answers[key] = rows
                self._answers.move_to_end(key)
                while len(self._answers) > MAX_REMEMBERED_ANSWERS:
                    self._answers.popitem(last=False)
        return rows

    def _read(self, sql: str, params: tuple) -> list[tuple]:
        for attempt in (1, 2):
            conn = self._reader_conn()
            try:
                rows = conn.execute(sql, params).fetchall()
            except pg_errors.UndefinedTable:
                return []  # a read-only view of a database never written
            except psycopg.OperationalError as exc:
                conn.close()
                if attempt == 2 or self._waiting():
                    self._lost(exc)
                    raise StoreError(self._unreachable_line(exc)) from None
                continue
            if self.unreachable_since is not None and self._conn is None:
                self._reached()  # a viewer: reads are all it does, so a read that works ends the state
            return rows
        raise AssertionError("unreachable")  # pragma: no cover

    def _typed(self, table: str, select: str, where: str, params: tuple, tail: str = "") -> list[tuple]:
        self.set_aside[table] = 0
        self._read_local.set_aside = {**getattr(self._read_local, "set_aside", {}), table: []}
        return self._query(f"{select} WHERE ({where}) {tail}", params)

    # ---- writing: one transaction per call, NOTIFY'd at its commit ------------------------------------------
    def _writer_conn(self) -> _Conn:
        """The writer's connection, reconnected (the lock taken again) when the server dropped it."""
        conn = cast(_Conn, self._writer())
        if conn.usable:
            return conn
        if self._waiting():
            raise psycopg.OperationalError(f"the server has not answered since {self.unreachable_since:%H:%M} UTC")
        try:
            new = self._connect_writer()
        except StoreError as exc:
            raise psycopg.OperationalError(str(exc)) from None  # unreachable still: held as before
        self._conn = new  # type: ignore[assignment]
        if new is None:  # another flowtape took the lock while we were away
            raise StoreError(self.notices[-1])
        return new

    @contextmanager
    def _transaction(self) -> Iterator[_Conn]:  # type: ignore[override]
        conn = self._writer_conn()
        try:
            conn.execute("BEGIN")
            yield conn
            conn.execute(f"NOTIFY {CHANNEL}")  # delivered at COMMIT, never for a rolled-back write
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.usable and conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except psycopg.Error:
                    conn.close()
            if isinstance(exc, psycopg.OperationalError):
                conn.close()  # reconnect for the next write
                self._lost(exc)
            raise
        self._reached()

    def set_status(self, source: str, **values: object) -> None:
        """As the shared one, then the row just written is read back: the writer's remembered answer (see _query)
        is the newest, so a status set while the server is away merges onto it, not onto an older one."""
        super().set_status(source, **values)
        if source not in self._held_status:
            try:
                self.status(source)
            except StoreError:
                pass  # the problem line says it already

    # ---- has another connection committed? (the viewer's cheap question) --------------------------------------
    def changed(self) -> bool:
        """True when a write was committed since the last call (and on the first call, and after the listening
        connection was re-established: commits may have been missed). No query: the NOTIFYs already received on
        the LISTEN connection's socket are read with a zero timeout. False while the server is unreachable (the
        reads say so)."""
        listen = self._listen
        try:
            if listen is None or not listen.usable:
                if self._waiting():
                    return False
                listen = self._connect("listener")
                listen.execute(f"LISTEN {CHANNEL}")
                self._listen = listen
                return True
            return sum(1 for _ in listen.raw.notifies(timeout=0)) > 0  # all of them: the next call starts afresh
        except (psycopg.OperationalError, StoreError) as exc:
            if listen is not None:
                listen.close()
            self._listen = None
            self._lost(exc)
            return False
