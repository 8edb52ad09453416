"""What only the PostgreSQL store has: a URL shown without its password, the store chosen by flag, environment or
config, NOTIFY at commit for `changed()`, the server going away as a state (writes held, flushed on reconnect), and
the same answers as SQLite for the same writes (the hourly table is kept by plpgsql triggers there)."""

from __future__ import annotations

import datetime as dt
import random
import time
from urllib.parse import urlsplit

import pytest

from common.config import STORE_ENV, ConfigError, default_db_path, parse_config, shown_store, store_target
from store import Store, StoreError
from store.postgres import PostgresStore
from tests.helpers import table

T0 = dt.datetime(2025, 11, 10, 12, tzinfo=dt.UTC)
D = dt.date


# ---- the URL as shown, and which store is opened ------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ft:s3cret@db.example:5432/flowtape", "postgresql://ft@db.example:5432/flowtape"),
        ("postgres://ft:s3cret@db/flowtape?sslmode=require", "postgres://ft@db/flowtape?sslmode=require"),
        (
            "postgresql://ft@db/flowtape?password=s3cret&sslmode=require",
            "postgresql://ft@db/flowtape?password=***&sslmode=require",
        ),
        ("postgresql:///flowtape?host=/run/postgresql", "postgresql:///flowtape?host=/run/postgresql"),
        ("postgresql://ft:p%40ss@db/flowtape", "postgresql://ft@db/flowtape"),
        ("/home/me/flowtape.db", "/home/me/flowtape.db"),
    ],
)
def test_the_url_is_shown_without_its_password(url, shown):
    assert shown_store(url) == shown
    assert "s3cret" not in shown_store(url) and "p%40ss" not in shown_store(url)


def test_the_store_is_the_flag_then_the_environment_then_the_config_then_the_default(monkeypatch, tmp_path):
    config = parse_config({"store": {"url": "postgresql://ft@cfg/flowtape"}}, tmp_path / "c.toml")
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert store_target(None, None) == default_db_path()
    assert store_target(None, config) == "postgresql://ft@cfg/flowtape"
    monkeypatch.setenv(STORE_ENV, "postgresql://ft@env/flowtape")
    assert store_target(None, config) == "postgresql://ft@env/flowtape"
    assert store_target("postgresql://ft@flag/flowtape", config) == "postgresql://ft@flag/flowtape"
    assert store_target(tmp_path / "x.db", config) == tmp_path / "x.db"  # --db is a flag too
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "env.db"))
    assert store_target(None, config) == tmp_path / "env.db"  # a path in the environment is a SQLite file


def test_a_password_in_the_config_file_is_refused_and_not_repeated(tmp_path):
    with pytest.raises(ConfigError, match="~/.pgpass") as err:
        parse_config({"store": {"url": "postgresql://ft:s3cret@db/flowtape"}}, tmp_path / "c.toml")
    assert "s3cret" not in str(err.value)
    with pytest.raises(ConfigError, match="store.url: expected a URL"):
        parse_config({"store": {"url": "/home/me/flowtape.db"}}, tmp_path / "c.toml")
    with pytest.raises(ConfigError, match="store.path"):
        parse_config({"store": {"path": "x"}}, tmp_path / "c.toml")


# ---- a live server ---------------------------------------------------------------------------------------
@pytest.fixture
def db(pg_cluster):
    return pg_cluster.database()


def _with_password(url: str) -> str:
    """The same database, the URL carrying a password (the test server trusts local connections and ignores it)."""
    return url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")


def _wait(predicate, seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_changed_says_each_commit_once_and_nothing_for_a_rolled_back_write(db):
    writer, viewer = Store.open(db), Store.open(db, readonly=True)
    try:
        assert isinstance(viewer, PostgresStore) and viewer.readonly
        assert viewer.changed() is True  # the first call: nothing was seen before it
        assert viewer.changed() is False
        writer.write_table(table("btc", [(D(2025, 11, 3), 1.0)]), source="x", fetched_at=T0)
        assert _wait(viewer.changed)
        assert viewer.changed() is False  # said once

        def fails(conn):
            conn.execute("INSERT INTO meta VALUES (?, ?)", ("k", "v"))
            raise ValueError("rolled back")

        with pytest.raises(ValueError):
            writer._write(fails, held=None)
        time.sleep(0.3)
        assert viewer.changed() is False and viewer.meta("k") is None
        writer.beat("collector", now=T0, started_at=T0)  # a heartbeat is a commit too (data_version says what moved)
        assert _wait(viewer.changed)
    finally:
        writer.close()
        viewer.close()


def test_an_unreachable_server_is_a_state_writes_are_held_and_flushed_on_reconnect(pg_cluster, db):
    url = _with_password(db)
    name = urlsplit(db).path.lstrip("/")
    s = Store.open(url)
    s.hold_when_full = True
    viewer = Store.open(url, readonly=True)
    try:
        s.write_table(table("btc", [(D(2025, 11, 3), 1.0)]), source="x", fetched_at=T0)
        s.set_status("farside_btc", state="starting", last_success="2025-11-10T11:00:00+00:00")
        assert viewer.sessions("btc")
        pg_cluster.admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        pg_cluster.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        # writes while the server is away: held, said, never raised
        s.write_table(table("btc", [(D(2025, 11, 4), 2.0)]), source="x", fetched_at=T0)
        s.set_status("farside_btc", state="ok")
        started = time.monotonic()
        s.write_table(table("btc", [(D(2025, 11, 5), 3.0)]), source="x", fetched_at=T0)
        assert time.monotonic() - started < 0.5  # within the backoff: not another wait on the server
        assert s.disk_full and s.held_batches == 3
        assert s.problem.startswith("STORE UNREACHABLE since ")
        assert f": {s.location} (retrying)" in s.problem and "3 writes held" in s.problem
        assert s.status("farside_btc")["state"] == "ok"  # what is held reads back at once
        assert s.status("farside_btc")["last_success"].startswith("2025-11-10T11")  # and keeps what it had
        with pytest.raises(StoreError, match="STORE UNREACHABLE since") as err:
            viewer.sessions("btc")
        assert viewer.problem.startswith("STORE UNREACHABLE since ") and viewer.changed() is False
        for line in (s.problem, viewer.problem, str(err.value), s.location, *s.notices):
            assert "s3cret" not in line
        pg_cluster.admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        s._retry_at = viewer._retry_at = 0.0  # the backoff's next retry, now
        assert s.flush_held() and not s.disk_full and s.problem is None
        assert [r.total_usd_m for r in viewer.sessions("btc")] == [1.0, 2.0, 3.0]
        assert viewer.problem is None and viewer.status("farside_btc")["state"] == "ok"
        assert viewer.status("farside_btc")["last_success"].startswith("2025-11-10T11")
        assert not s.readonly  # the lock was taken again with the new connection
        assert Store.open(url).readonly  # and holds: a second writer is still refused
    finally:
        pg_cluster.admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        s.close()
        viewer.close()


def test_a_server_unreachable_at_open_is_a_clear_error_without_the_password(pg_cluster):
    url = f"postgresql://postgres:s3cret@/nosuchdb?host={pg_cluster.socket}"
    with pytest.raises(StoreError, match="STORE UNREACHABLE") as err:
        Store.open(url)
    assert "s3cret" not in str(err.value) and "nosuchdb" in str(err.value)


@pytest.mark.parametrize("readonly", [False, True])
def test_a_database_from_a_newer_flowtape_is_refused_untouched(db, readonly):
    import psycopg

    from store import SCHEMA_VERSION

    Store.open(db).close()
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    for _ in range(2):  # the refused open left no lock behind: the same answer again
        with pytest.raises(StoreError, match=f"newer flowtape \\(schema {SCHEMA_VERSION + 1}, this one reads"):
            Store.open(db, readonly=readonly)


def test_the_same_writes_read_the_same_on_both_backends(db, tmp_path):
    """Observations with corrections, thinning and age-out, flows with revisions, candles, alerts: every read
    answers the same on PostgreSQL as on SQLite (the hourly table kept by plpgsql triggers there)."""
    lite, pg = Store.open(tmp_path / "same.db"), Store.open(db)
    rng = random.Random(15)
    try:
        for s in (lite, pg):
            rng.seed(15)
            for k in range(60):  # 60 polls, 25 minutes apart (a day), some values corrected at the same ts
                at = T0 + dt.timedelta(minutes=25 * k)
                rows = [
                    (venue, inst, "mark", (at - dt.timedelta(minutes=rng.choice((0, 0, 25)))).isoformat(), rng.uniform(9e4, 1e5))
                    for venue in ("deribit", "okx")
                    for inst in ("BTC-PERPETUAL", f"FLASH-{k % 3}")
                ]
                s.write_observation_rows(rows, fetched_at=at)
            s.prune_observations(T0 + dt.timedelta(days=3))  # past the full-resolution window: hours thinned
            later = T0 + dt.timedelta(days=9)  # thins again, and ages out the FLASH series (deribit's)
            s.write_observation_rows([("deribit", "BTC-PERPETUAL", "mark", later.isoformat(), 1e5)], fetched_at=later)
            late = (T0 + dt.timedelta(hours=12, minutes=1)).isoformat()  # a delayed quote, older than its hour's last
            s.write_observation_rows([("okx", "BTC-PERPETUAL", "mark", late, 1.0)], fetched_at=later)
            for v in (1.0, 2.0, 3.0):
                s.write_table(table("btc", [(D(2025, 11, 3), v), (D(2025, 11, 4), -v)]), source="x", fetched_at=T0)
            s.write_candles("BTC-USD", [(D(2025, 11, 3), 1.0, 2.0, 0.5, 1.5, 10.0)] * 2)
            s.log_alert("a", "streak", "{}", created_at=T0)
            s.log_alert("a", "streak", "{}", created_at=T0)
        since, until = T0.isoformat(), (T0 + dt.timedelta(hours=20, minutes=10)).isoformat()
        for read in (
            lambda s: s.observations(),
            lambda s: s.observations(since, until, hourly=True),
            lambda s: s.observations(None, until, venues=("okx",), hourly=True),
            lambda s: s.observations(since, until),
            lambda s: s.newest_observation(venues=("deribit",)),
            lambda s: s.sessions(),
            lambda s: s.flows("btc"),
            lambda s: s.revisions(),
            lambda s: s.candles(),
            lambda s: s.alerts(),
            lambda s: s.data_version(),
        ):
            got, want = read(pg), read(lite)
            if isinstance(want, list):  # rows with the same ts come in either order (ORDER BY ts)
                got, want = sorted(got), sorted(want)
            assert got == want
        assert pg.observations(since, until, hourly=True)  # not two empty answers
    finally:
        lite.close()
        pg.close()


def test_the_store_opens_by_url_with_pathlike_and_string_paths_still_sqlite(tmp_path):
    s = Store.open(str(tmp_path / "x.db"))
    assert type(s) is Store and s.location == str(tmp_path / "x.db")
    s.close()


def test_the_command_line_takes_store_urls_and_shows_them_without_the_password(db, capsys, monkeypatch, tmp_path):
    """--store, then FLOWTAPE_STORE: the commands open the PostgreSQL store and print its URL without the password."""
    import json

    from cli.main import main

    monkeypatch.setenv("FLOWTAPE_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.delenv(STORE_ENV, raising=False)
    url = _with_password(db)
    writer = Store.open(url)
    writer.write_table(table("btc", [(D(2025, 11, 3), -186.5)]), source="x", fetched_at=T0)
    writer.close()
    assert main(["snapshot", "--json", "--offline", "--store", url, "--as-of", "2025-11-03"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["store"]["path"] == shown_store(url) == db and doc["assets"]["btc"]["latest"]["date"] == "2025-11-03"
    monkeypatch.setenv(STORE_ENV, url)
    assert main(["info"]) == 0
    out, err = capsys.readouterr()
    assert f"store:  {db}" in out and "s3cret" not in out + err
    assert main(["info", "--store", url, "--db", str(tmp_path / "x.db")]) != 0
    assert "give one" in capsys.readouterr().err
    monkeypatch.setenv(STORE_ENV, url.replace(db.split("?")[0].rsplit("/", 1)[1], "nosuchdb"))
    assert main(["snapshot", "--json", "--offline"]) != 0
    out, err = capsys.readouterr()
    assert "STORE UNREACHABLE" in err and "nosuchdb" in err and "s3cret" not in err


def test_a_database_from_an_older_flowtape_gets_what_the_newer_schema_added(db):
    import psycopg

    from store import SCHEMA_VERSION

    s = Store.open(db)
    s.write_table(table("btc", [(D(2025, 11, 3), 1.0)]), source="x", fetched_at=T0)
    s.close()
    with psycopg.connect(db, autocommit=True) as conn:  # back to before schema 4's tables
        conn.execute("DROP TABLE views")
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION - 1),))
    s = Store.open(db)
    try:
        assert s.put_views("dashboard", "v1", "{}", computed_at=T0) and s.views("dashboard").version == "v1"
        assert s.meta("schema_version") == str(SCHEMA_VERSION) and len(s.sessions("btc")) == 1
    finally:
        s.close()
