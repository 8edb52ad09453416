"""A throw-away PostgreSQL cluster for the tests: initdb in a temp dir, a unix socket there (no TCP port), fsync off,
run as an unprivileged user (the `postgres` system user when the tests run as root), stopped at the end.

Without the server binaries the PostgreSQL tests skip with one line saying how to get them; with
FLOWTAPE_REQUIRE_POSTGRES=1 (set by .ci/run) they fail instead."""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)  # Debian/Ubuntu: newest first
HOW = "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql to run these tests"
REQUIRE_ENV = "FLOWTAPE_REQUIRE_POSTGRES"


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in PG_BIN_DIRS:
        if (d / name).exists():
            return str(d / name)
    return None


class Cluster:
    """A running throw-away cluster; `database()` makes a new empty database and returns its URL."""

    def __init__(self, root: Path, run_as: list[str]) -> None:
        self.root, self.run_as = root, run_as
        self.data, self.socket = root / "data", root
        self._names = itertools.count(1)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@/{db}?host={self.socket}"

    def admin(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def database(self) -> str:
        name = f"t{next(self._names)}"
        self.admin(f"CREATE DATABASE {name}")
        return self.url(name)

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.run_as, _binary("pg_ctl") or "pg_ctl", "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )


def start_cluster() -> Cluster:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not (initdb and pg_ctl):
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{HOW} ({REQUIRE_ENV}=1)")
        pytest.skip(HOW)
    root = Path(tempfile.mkdtemp(prefix="flowtape-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root and there is no `postgres` user to run the test server as")
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(root, run_as)
    subprocess.run(
        [*run_as, initdb, "-D", str(cluster.data), "--auth=trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-c listen_addresses='' -c unix_socket_directories={root} -c fsync=off -c full_page_writes=off"
    cluster.pg_ctl("-o", options, "-l", str(root / "log"), "-w", "start")
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    try:
        cluster.pg_ctl("-m", "immediate", "stop")
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)
