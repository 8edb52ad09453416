"""Fixtures for the upstream tests (sources/: parsers, polling, the registry): an empty store to poll into."""

from __future__ import annotations

import pytest

from store import Store


@pytest.fixture
def store(tmp_path):
    """An empty store of this test's own."""
    s = Store.open(tmp_path / "flowtape.db")
    yield s
    s.close()
