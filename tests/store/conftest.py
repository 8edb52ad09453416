"""Fixtures for the store's tests (store/): an empty store."""

from __future__ import annotations

import pytest

from store import Store


@pytest.fixture
def store(tmp_path):
    """An empty store of this test's own."""
    s = Store.open(tmp_path / "flowtape.db")
    yield s
    s.close()
