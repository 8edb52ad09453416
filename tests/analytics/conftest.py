"""Fixtures for the analytics tests (analytics/: polars, pure): an empty store to fill by hand."""

from __future__ import annotations

import pytest

from store import Store


@pytest.fixture
def store(tmp_path):
    """An empty store of this test's own."""
    s = Store.open(tmp_path / "flowtape.db")
    yield s
    s.close()
