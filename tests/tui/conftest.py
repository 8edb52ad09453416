"""Fixtures for the dashboard tests (tui/): the demo store, the size and shape a user sees."""

from __future__ import annotations

import pytest

from tests.dashboard_fixtures import demo_store


@pytest.fixture
def store(tmp_path):
    """A copy of the demo store (built once per session) of this test's own."""
    s = demo_store(tmp_path / "demo.db")
    yield s
    s.close()
