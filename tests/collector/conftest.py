"""`flowtape collect` as a real process against a fake Farside on 127.0.0.1 (every other source switched off).

The upstream counts each path's requests (one poll of an asset = one request for its recent page) and can hold
an answer, so a test can signal the collector while a poll is in flight.
"""

from __future__ import annotations

import datetime as dt
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from common.calendar import new_york_today, previous_trading_day
from common.config import SECTIONS
from sources.farside import HISTORY_PATHS, RECENT_PATHS
from tests.helpers import page_from_totals

ROOT = Path(__file__).resolve().parents[2]
OTHERS = "".join(f"\n[sources.{name}]\nenabled = false\n" for name in SECTIONS if name != "farside")
WAIT_S = 180.0  # generous: a loaded 2-core machine (load 60+ seen) stretches seconds into minutes


class Upstream:
    """Farside's BTC pages (recent and all-data) at their real paths; ETH and SOL answer 404 (an error state)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.hits: Counter[str] = Counter()
        self.hold_s = 0.0  # answer the recent page this late
        self.asked = threading.Event()  # the recent page was asked for (set before any hold)
        self.lock = threading.Lock()
        self.base = ""

    def serve(self, totals: list[float], *, last: dt.date | None = None) -> list[dt.date]:
        """BTC sessions ending at `last` (default: the last complete session), the newest taking totals[-1]."""
        day = last or previous_trading_day(new_york_today(dt.datetime.now(dt.UTC)))
        days = [day]
        while len(days) < len(totals):
            days.insert(0, previous_trading_day(days[0]))
        page = page_from_totals(list(zip(days, totals, strict=True)))
        with self.lock:
            self.pages = {RECENT_PATHS["btc"]: page, HISTORY_PATHS["btc"]: page}
        return days

    def recent_hits(self) -> int:
        with self.lock:
            return self.hits[RECENT_PATHS["btc"]]


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            with up.lock:
                up.hits[self.path] += 1
                body = up.pages.get(self.path)
            if self.path == RECENT_PATHS["btc"]:
                up.asked.set()
                time.sleep(up.hold_s)
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    up.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield up
    finally:
        server.shutdown()
        server.server_close()


class Collect:
    """One `flowtape collect` process; its stderr (the log) goes to a file the test reads while it runs."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._err = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._err
        )

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()

    def wait_for(self, what: Callable[[], bool], message: str, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            if self.proc.poll() is not None:
                said = "\n".join(self.lines())
                raise AssertionError(f"collector exited {self.proc.returncode} while waiting for {message}:\n{said}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {message}:\n" + "\n".join(self.lines()[-30:]))
            time.sleep(0.1)

    def polls(self, source: str) -> list[str]:
        return [line for line in self.lines() if f" poll source={source} " in line]

    def decided(self, *sources: str) -> bool:
        """A computation finished after each of `sources` answered once: the one the last of them asked for
        (Writer.heard), on which the alerts were decided."""
        lines = self.lines()
        firsts = [next((i for i, line in enumerate(lines) if f" poll source={s} " in line), None) for s in sources]
        if any(i is None for i in firsts):
            return False
        last = max(i for i in firsts if i is not None)
        return any(" analytics computed_s=" in line for line in lines[last + 1 :])

    def finish(self, timeout: float = WAIT_S) -> int:
        """Wait for it to exit by itself (no signal); its exit status."""
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.stop(signal.SIGKILL)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = WAIT_S) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._err.close()


@pytest.fixture
def collect(tmp_path: Path, upstream: Upstream) -> Iterator[Callable[..., Collect]]:
    """Start `flowtape collect` on tmp_path/desk.db against the upstream; `alert_to`: a file the alert command
    appends each payload to, one JSON line each. Every process started is stopped at the end."""
    started: list[Collect] = []

    def start(*extra: str, alert_to: Path | None = None, db: Path | None = None) -> Collect:
        command = ""
        if alert_to is not None:  # appends each payload it is given on stdin to `alert_to`, one JSON line each
            script = tmp_path / "alert.py"
            script.write_text("import sys\nwith open(sys.argv[1], 'a') as f:\n    f.write(sys.stdin.read() + '\\n')\n")
            command = f"command = [{sys.executable!r}, {str(script)!r}, {str(alert_to)!r}]\n"
        config = tmp_path / "config.toml"
        config.write_text(
            f'[alerts]\nbell = false\ntoast = false\nred_streak = 4\n{command}\n[sources.farside]\nbase_url = "{upstream.base}"\n'
            f"interval = 5\ndeadline = 60\n{OTHERS}"
        )
        env = {k: v for k, v in os.environ.items() if k not in ("FLOWTAPE_LOG", "FLOWTAPE_LOG_LEVEL", "FLOWTAPE_CONFIG")}
        argv = [sys.executable, "-m", "cli", "collect", "--config", str(config), "--db", str(db or tmp_path / "desk.db"), *extra]
        run = Collect(argv, env, tmp_path / f"collect-{len(started)}.log")
        started.append(run)
        return run

    yield start
    for run in started:
        if run.proc.poll() is None:
            run.stop(signal.SIGKILL)
