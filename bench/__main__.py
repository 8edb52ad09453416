"""Measure flowtape at real size against a bare Textual app, in one run (issue 14's figures and targets).

Run: `python -m bench` (about 10 minutes) or `python -m bench --short` (CI: same steps, shorter windows; it
must complete and asserts no timings). Terminal figures come from a real pty at 120x40, counting the bytes
the app writes to the terminal:
- first paint (data on screen) of the bare app, of `flowtape --demo` and of `flowtape --db YEAR` (live);
- live runs poll a recorded upstream on 127.0.0.1 (bench/upstream.py) that answers identically every poll:
  idle bytes and CPU while polling, bytes for one changed Farside cell, bytes of a time-travel step (its latency, `[` to
  the day's views on screen, is timed headless);
- the app's recompute after a venue poll (bench/app_path.py, headless) at 1x/10x/100x history, and RSS over a
  simulated day on the year-sized store.
The year-sized store is the demo's (demo.replay_history: 470 BTC / 337 ETH sessions, a year of venue
observations at the store's retention), built once and cached.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import platform
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.upstream import Upstream

ROOT = Path(__file__).resolve().parent.parent
COLS, ROWS = 120, 40
FARSIDE_INTERVAL_S = 10.0  # the live runs poll Farside this often, so the changed cell arrives within the window
# The terminal is settled when quiet this long: longer than a computation's silent stretch before it paints
# (several seconds on the year-sized store before issue 14), shorter than the 15 s age ticker.
SETTLE_QUIET_S = 10.0
# The age ticker (tui AGE_TICK_S, every 15 s) rewrites the source ages: a few cells each tick are allowed.
TICKER_ALLOWANCE_BPM = 4 * 200


def spawn(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, int]:
    """Start argv on a new pty of COLS x ROWS; returns (pid, master fd)."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.environ.update(TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS), **(env or {}))
        os.chdir(ROOT)
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return pid, fd


def read_for(fd: int, seconds: float, until: bytes | None = None) -> tuple[bytes, float]:
    """Read the pty for `seconds` (or until `until` appears); returns the bytes and the time taken."""
    out, t0 = bytearray(), time.monotonic()
    while time.monotonic() - t0 < seconds:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            out += chunk
            if until and until in out:
                break
    return bytes(out), time.monotonic() - t0


def read_until_quiet(fd: int, quiet: float, limit: float) -> tuple[bytes, float]:
    """Read until nothing arrives for `quiet` s (or `limit` s pass); returns the bytes and the time from the
    start to the last byte (the screen settled then)."""
    out, t0, last = bytearray(), time.monotonic(), None
    while time.monotonic() - t0 < limit:
        ready, _, _ = select.select([fd], [], [], 0.01)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
            last = time.monotonic()
        elif last is not None and time.monotonic() - last >= quiet:
            break
    return bytes(out), (last or time.monotonic()) - t0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PY = sys.executable
BASE_MARK, APP_MARK = b"Total", b"IBIT"  # data on screen: the baseline's table, flowtape's first fund column


class Pty:
    """One program on a pty; closed with SIGTERM."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = spawn(argv, env)

    def close(self, limit: float = 30.0) -> None:
        """SIGTERM, then keep reading the pty until the program exits: unread output fills the pty's buffer and
        the app's writer thread blocks on it, so a bench that only waited would wait forever. SIGKILL after
        `limit` s."""
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + limit
        while True:
            try:
                done, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                deadline = float("inf")
            read_for(self.fd, 0.1)  # drain
        os.close(self.fd)


def first_paint(
    argv: list[str], env: dict[str, str], marker: bytes, repeat: int, prepare: Callable[[], object] | None = None
) -> float | None:
    """Median seconds from spawn to `marker` on the terminal (None: never seen in 60 s); `prepare` runs before
    each start (a fresh copy of a store: a live start polls and writes, which moves what the next start finds)."""
    times = []
    for _ in range(repeat):
        if prepare is not None:
            prepare()
        p = Pty(argv, env)
        try:
            out, t = read_for(p.fd, 60, until=marker)
            if marker not in out:
                return None
            times.append(t)
        finally:
            p.close()
    return statistics.median(times)


def idle(p: Pty, seconds: float) -> tuple[float, float]:
    """(bytes per minute, CPU % of one core) over `seconds` of reading."""
    cpu0, t0 = cpu_seconds(p.pid), time.monotonic()
    out, _ = read_for(p.fd, seconds)
    elapsed = time.monotonic() - t0
    return len(out) / elapsed * 60, (cpu_seconds(p.pid) - cpu0) / elapsed * 100


def live_run(argv: list[str], env: dict[str, str], upstream: Upstream, idle_s: float, presses: int) -> dict:
    """Flowtape live on the year-sized store against the recorded upstream: idle, one changed cell, time travel."""
    p = Pty(argv, env)
    try:
        first, _ = read_for(p.fd, 60, until=APP_MARK)
        if APP_MARK not in first:
            return {}
        read_until_quiet(p.fd, quiet=SETTLE_QUIET_S, limit=120)  # start-up polls and computations done
        idle_bpm, idle_cpu = idle(p, idle_s)
        # One changed Farside cell: bytes from the moment the changed page is served until settled.
        upstream.change_one_cell()
        for attempt in range(2):
            deadline = time.monotonic() + FARSIDE_INTERVAL_S * 2 + 5
            while upstream.changed_served_at is None and time.monotonic() < deadline:
                read_for(p.fd, 0.05)
            if upstream.changed_served_at is None and attempt == 0:
                os.write(p.fd, b"r")  # the store's schedule put Farside's next poll later: ask for it now
        cell_bytes = cell_window = None
        if upstream.changed_served_at is not None:
            cell, _ = read_until_quiet(p.fd, quiet=SETTLE_QUIET_S, limit=90)
            cell_window = time.monotonic() - upstream.changed_served_at
            cell_bytes = max(len(cell) - idle_bpm / 60 * cell_window, 0.0)
        # Time travel on the terminal: the bytes one `[` step writes (its latency is timed headless, where
        # "settled" is known exactly: bench/app_path.py travel).
        travel = []
        for _ in range(presses):
            read_until_quiet(p.fd, quiet=SETTLE_QUIET_S, limit=60)
            os.write(p.fd, b"[")
            out, _ = read_until_quiet(p.fd, quiet=SETTLE_QUIET_S, limit=90)
            travel.append(len(out))
        return {
            "idle_bpm": idle_bpm,
            "idle_cpu": idle_cpu,
            "cell_bytes": cell_bytes,
            "cell_s": cell_window,
            "travel_bytes": travel,
        }
    finally:
        p.close()


def app_path(*args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [PY, "-m", "bench.app_path", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        env={**os.environ, **(env or {})},
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"bench.app_path {args[0]} failed: {out.stderr[-1500:]}")
    return json.loads(line.removeprefix("BENCH_JSON "))


def year_store(path: Path) -> float:
    """The demo's year-sized store at `path` (from the cache; built first if cold). Returns the build time."""
    from common.config import parse_config
    from demo import DEMO_NOW, demo_config, replay_history
    from store import Store

    t0 = time.monotonic()
    store = Store.open(path)
    asyncio.run(replay_history(store, demo_config(parse_config({}, Path("<bench>"))), [DEMO_NOW], compact=False))
    store.close()
    return time.monotonic() - t0


def machine() -> str:
    model = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")), "?"
    )
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {model}, load avg {load}; Python {platform.python_version()}, {COLS}x{ROWS} pty"


def ratio(x: float | None, base: float | None) -> str:
    return f"{x:.2f} s (x{x / base:.2f})" if x and base else "not seen"


def paint_row(name: str, seconds: float | None, base: float | None) -> tuple[str, str, str, bool]:
    return (name, ratio(seconds, base), "<= 1.2x bare", bool(seconds and base and seconds <= 1.2 * base))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--short", action="store_true", help="short windows (CI): completes, asserts nothing")
    parser.add_argument("--first-paint", action="store_true", help="only the first-paint rows (cold and persisted views)")
    args = parser.parse_args()
    os.environ.pop("FLOWTAPE_DEMO_COMPACT", None)  # the year-sized demo, even when run from the test suite
    idle_s, day_min, polls, repeat, presses = (10.0, 30, 3, 1, 2) if args.short else (60.0, 1440, 10, 3, 3)
    print(f"flowtape benchmark ({'short' if args.short else 'full'}): {machine()}", flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="flowtape-bench-"))
    upstream = None
    try:
        build_s = year_store(tmp / "year.db")
        env = {
            "FLOWTAPE_LOG": os.environ.get("FLOWTAPE_LOG", str(tmp / "flowtape.log")),
            "FLOWTAPE_CONFIG": str(tmp / "empty.toml"),
        }
        (tmp / "empty.toml").write_text("", encoding="utf-8")
        from bench.app_path import FROZEN, WARM_NOW
        from bench.upstream import Upstream as _Upstream

        upstream = _Upstream(FROZEN)
        live_env = {**env, "FLOWTAPE_CONFIG": str(upstream.config_file(tmp, farside_interval=FARSIDE_INTERVAL_S))}
        live_env["FLOWTAPE_BENCH_NOW"] = FROZEN.isoformat()
        live = [PY, "-m", "bench.clockshift", "--db"]

        base_fp = first_paint([PY, str(ROOT / "bench" / "baseline_app.py")], env, BASE_MARK, repeat)
        demo_fp = first_paint([PY, "-m", "tui", "--demo"], env, APP_MARK, repeat)
        shutil.copy(tmp / "year.db", tmp / "fp.db")
        year_fp = first_paint([*live, str(tmp / "fp.db")], live_env, APP_MARK, repeat)
        # Persisted views (analytics/persisted.py): the year-sized store after the app last ran with nothing
        # written since; started again live (a writer) and read-only (`--offline`: a viewer, polars never loaded).
        # At WARM_NOW, not FROZEN: the store's newest quotes are exactly their venues' 15 min old at FROZEN, so
        # views persisted then are stale a second later and rightly never shown.
        warm_env = {**live_env, "FLOWTAPE_BENCH_NOW": WARM_NOW.isoformat()}
        shutil.copy(tmp / "year.db", tmp / "warm.db")
        warm = app_path("persist", str(tmp / "warm.db"), live_env["FLOWTAPE_CONFIG"], env=warm_env)
        fresh_copy = partial(shutil.copy, tmp / "warm.db", tmp / "fp.db")
        warm_fp = first_paint([*live, str(tmp / "fp.db")], warm_env, APP_MARK, repeat, prepare=fresh_copy)
        viewer_fp = first_paint([*live, str(tmp / "fp.db"), "--offline"], warm_env, APP_MARK, repeat, prepare=fresh_copy)
        first_rows = [
            ("first paint, bare Textual app (data on screen)", f"{base_fp:.2f} s" if base_fp else "not seen", "", True),
            paint_row("first paint, flowtape --demo", demo_fp, base_fp),
            paint_row("first paint, year-sized store (live, no persisted views)", year_fp, base_fp),
            paint_row(
                f"first paint, year-sized store, persisted views ({(warm['payload_chars'] or 0) / 1e6:.1f} MB), live",
                warm_fp,
                base_fp,
            ),
            paint_row("first paint, year-sized store, persisted views, read-only viewer", viewer_fp, base_fp),
        ]
        if args.first_paint:
            return report(first_rows)
        p = Pty([PY, str(ROOT / "bench" / "baseline_app.py")], env)
        try:
            read_for(p.fd, 30, until=BASE_MARK)
            read_until_quiet(p.fd, quiet=1.0, limit=10)
            base_bpm, base_cpu = idle(p, idle_s)
        finally:
            p.close()
        shutil.copy(tmp / "year.db", tmp / "live.db")
        run = live_run([*live, str(tmp / "live.db")], live_env, upstream, idle_s, presses)

        travel = app_path("travel", str(tmp / "year.db"), str(presses))
        recompute = {}
        for factor in (1, 10, 100):
            db = tmp / f"x{factor}.db"
            shutil.copy(tmp / "year.db", db)
            if factor > 1:
                app_path("densify", str(db), str(factor))
            recompute[factor] = app_path("recompute", str(db), str(polls))
            db.unlink()
        shutil.copy(tmp / "year.db", tmp / "day.db")
        day = app_path("day", str(tmp / "day.db"), str(day_min))
    finally:
        if upstream is not None:
            upstream.close()
        shutil.rmtree(tmp, ignore_errors=True)

    rss = [mb for _, mb in day["samples"]]
    rss_flat = rss[-1] - rss[1 if len(rss) > 2 else 0] <= 10  # after warm-up, grows < 10 MB over the rest of the day
    rows = [
        ("year-sized store built (once; cached after)", f"{build_s:.1f} s", "", None),
        *first_rows,
        (
            f"idle CPU over {idle_s:g} s, bare / flowtape polling (% core)",
            f"{base_cpu:.1f} / {run.get('idle_cpu', float('nan')):.1f}",
            "",
            True,
        ),
        (
            "idle bytes/min while polling, bare / flowtape",
            f"{base_bpm:,.0f} / {run.get('idle_bpm', float('nan')):,.0f}",
            "<= 512 + age ticker",
            run.get("idle_bpm") is not None and run["idle_bpm"] - base_bpm <= 512 + TICKER_ALLOWANCE_BPM,
        ),
        (
            "bytes for one changed Farside cell (idle rate removed)",
            f"{run['cell_bytes']:,.0f}" if run.get("cell_bytes") is not None else "not served",
            "<= 1,536",
            run.get("cell_bytes") is not None and run["cell_bytes"] <= 1536,
        ),
        (
            "time travel `[` to the day's views on screen (median / max)",
            f"{travel['median_ms']:,.0f} / {travel['max_ms']:,.0f} ms",
            "<= 100 ms",
            travel["median_ms"] <= 100,
        ),
        (
            "bytes one time-travel step writes to the terminal",
            " / ".join(f"{b:,}" for b in run.get("travel_bytes", [])) or "not seen",
            "",
            True,
        ),
    ]
    for factor, r in recompute.items():
        rows.append(
            (
                f"recompute after a venue poll, {factor}x ({r['rows']:,} obs rows; median / max, 1st apart)",
                f"{r['median_ms']:,.0f} / {r['max_ms']:,.0f} ms (1st {r['first_ms']:,.0f})",
                "<= 20 ms" if factor == 1 else "",
                r["median_ms"] <= 20 if factor == 1 else True,
            )
        )
    rows += [
        (
            f"RSS over a simulated day (minute {' / '.join(str(m) for m, _ in day['samples'])})",
            " / ".join(f"{mb:.0f}" for mb in rss) + " MB",
            "flat, <= 100 MB",
            rss_flat and max(rss) <= 100,
        ),
        (f"store size after {day_min} simulated minutes", f"{day['store_mb']:.1f} MB", "", True),
    ]
    return report(rows)


def report(rows: list) -> int:
    def mark(ok: bool | None) -> str:
        return "" if ok else "  MISSED" if ok is not None else "  n/a"

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'figure':>26}  {'target':<20}")
    for name, figure, target, ok in rows:
        print(f"{name:<{width}}  {figure:>26}  {target:<20}{mark(bool(ok)) if target else ''}")
    print(f"machine load after the run: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
