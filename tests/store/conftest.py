"""Fixtures for the store's tests (store/): a store of the test's own, on each backend.

Tests that take `store` or `make_store` run twice, on SQLite and on PostgreSQL (a throw-away cluster, tests/pg.py).
`@pytest.mark.sqlite_only` keeps a test on SQLite: what only a file has (move-aside of a corrupt file, quick_check,
rows of the wrong type set aside, the file deleted under the writer, PRAGMA-filled disks)."""

from __future__ import annotations

import pytest

from store import Store

BACKENDS = ("sqlite", "postgres")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: a test of what only the SQLite file backend has")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("backend", ("sqlite",) if only else BACKENDS)


@pytest.fixture
def store_at(backend, tmp_path, request):
    """name -> where that store lives on this backend (a file, or a database of its own): the same name is the
    same store (a second writer, a reader)."""
    places: dict[str, str] = {}

    def where(name: str = "a") -> str:
        if name not in places:
            if backend == "sqlite":
                places[name] = str(tmp_path / f"{name}.db")
            else:
                places[name] = request.getfixturevalue("pg_cluster").database()
        return places[name]

    return where


@pytest.fixture
def make_store(store_at):
    """Open (and close at the end) a store by name on this test's backend."""
    opened: list[Store] = []

    def make(name: str = "a", *, readonly: bool = False) -> Store:
        s = Store.open(store_at(name), readonly=readonly)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def store(make_store):
    """An empty store of this test's own."""
    return make_store("flowtape")
