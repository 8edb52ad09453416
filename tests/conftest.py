from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest


def _find_samples() -> Path | None:
    """../shared/samples beside the checkout (as in CI), or $FLOWTAPE_SAMPLES."""
    if os.environ.get("FLOWTAPE_SAMPLES"):
        return Path(os.environ["FLOWTAPE_SAMPLES"])
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "samples").is_dir():
            return parent / "shared" / "samples"
    return None


SAMPLES = _find_samples()
REAL = Path(__file__).parent / "data" / "real"  # in-repo verbatim copies, tests/data/real/<source>/NAME


def sample(name: str) -> str:
    path = next(REAL.glob(f"*/{name}"), None) or (SAMPLES / name if SAMPLES else None)
    if path is None or not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared sample {name} not found beside the checkout; CI must have ../shared")
        pytest.skip(f"shared sample {name} not available (set FLOWTAPE_SAMPLES)")
    return path.read_text(encoding="utf-8")


@pytest.fixture
def farside_btc_html() -> str:
    return sample("farside_btc.html")


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime(2026, 7, 23, 22, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """No test touches the internet: resolving any host but loopback fails the test loudly."""
    import socket

    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in ("127.0.0.1", "localhost", "::1", None):
            raise OSError(f"test tried to reach {name!r}: tests stay on loopback")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
