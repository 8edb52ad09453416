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


@pytest.fixture(autouse=True, scope="session")
def compact_demo():
    """`--demo` in tests (cli paths, the dashboard fixture) is the compact demo: the year-sized one is the app's
    and the benchmark's (tests/test_demo.py checks it); the app computes seconds over it until issue 14 lands."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLOWTAPE_DEMO_COMPACT", "1")
        yield


@pytest.fixture(autouse=True, scope="session")
def log_outside_the_home(tmp_path_factory):
    """Dashboards that tests start as subprocesses (tmux, the benchmark's pty) log to a scratch file, not to
    the developer's state dir."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLOWTAPE_LOG", str(tmp_path_factory.mktemp("logs") / "flowtape.log"))
        yield


@pytest.fixture(autouse=True)
def logging_left_as_found():
    """cli.main() installs flowtape's log handler on the root logger; later tests must not inherit it."""
    import logging

    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if getattr(h, "_flowtape", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.fixture(autouse=True)
def ui_state_outside_the_home(tmp_path, monkeypatch):
    """Each test starts from no remembered theme, no NO_COLOR and no FLOWTAPE_THEME (the snapshots are dark),
    and a theme it picks is remembered in its own scratch file, not the developer's state dir."""
    monkeypatch.setenv("FLOWTAPE_STATE", str(tmp_path / "ui-state.json"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FLOWTAPE_THEME", raising=False)
    monkeypatch.delenv("FLOWTAPE_STORE", raising=False)  # a developer's PostgreSQL store is not the tests' store


@pytest.fixture
def demo(tmp_path):
    """A copy of the demo store (built once per session), for tests of any layer that need real-sized data."""
    from tests.dashboard_fixtures import demo_store

    s = demo_store(tmp_path / "demo.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def pg_cluster():
    """A throw-away PostgreSQL cluster for the session (tests/pg.py); skips (or fails in CI) without the binaries."""
    from tests.pg import start_cluster, stop_cluster

    cluster = start_cluster()
    yield cluster
    stop_cluster(cluster)
