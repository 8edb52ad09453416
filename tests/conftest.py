from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SAMPLES = SHARED / "samples"


def sample(name: str) -> str:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"shared sample {name} not available")
    return path.read_text(encoding="utf-8")


@pytest.fixture
def farside_btc_html() -> str:
    return sample("farside_btc.html")


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime(2026, 7, 23, 22, 0, tzinfo=dt.timezone.utc)
