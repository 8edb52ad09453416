"""Measure start-up, idle cost, bytes on the wire, memory over a simulated day, analytics and parse time.

Run: `python -m bench` (about 3 minutes) or `python -m bench --short` (CI: same steps, shorter windows;
it must complete, and asserts no timings). Terminal figures come from a real pty at 120x40.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import fcntl
import os
import platform
import pty
import random
import select
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLS, ROWS = 120, 40


def spawn(argv: list[str]) -> tuple[int, int]:
    """Start argv on a new pty of COLS x ROWS; returns (pid, master fd)."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.environ.update(TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS))
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return pid, fd


def read_for(fd: int, seconds: float, until: bytes | None = None) -> tuple[bytes, float]:
    """Read the pty for `seconds` (or until `until` appears); returns the bytes and the time taken."""
    out, t0 = bytearray(), time.monotonic()
    while time.monotonic() - t0 < seconds:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            out += chunk
            if until and until in out:
                break
    return bytes(out), time.monotonic() - t0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def terminal_run(argv: list[str], marker: bytes, idle_s: float, keys: bytes = b"") -> dict:
    pid, fd = spawn(argv)
    try:
        first, t_first = read_for(fd, 30, until=marker)
        settle, _ = read_for(fd, 2.0)  # let start-up work finish before measuring idle
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        idle, _ = read_for(fd, idle_s)
        cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0) * 100
        update = b""
        if keys:
            os.write(fd, keys)
            update, _ = read_for(fd, 2.0)
        return {
            "first_paint_s": t_first if marker in first else None,
            "idle_cpu_pct": cpu,
            "idle_bytes_per_min": len(idle) / idle_s * 60,
            "update_bytes": len(update),
        }
    finally:
        os.kill(pid, signal.SIGTERM)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os.close(fd)


def populated_store(path: Path) -> None:
    """A store filled through the real path from the demo recordings."""
    from common.config import parse_config
    from demo import DEMO_NOW, demo_config, demo_transport, replay_history
    from sources.refresh import refresh_once
    from store import Store

    store = Store.open(path)
    cfg = demo_config(parse_config({}, Path("<bench>")))
    asyncio.run(replay_history(store, cfg, [DEMO_NOW], rng=random.Random(0)))
    asyncio.run(refresh_once(store, cfg, transport=demo_transport(), now=DEMO_NOW, rng=random.Random(0)))
    store.close()


def synthetic_frames(sessions: int):
    from analytics.frames import frames_from_rows

    rng = random.Random(1)
    funds = [f"F{i:02d}" for i in range(12)]
    day = dt.date(2024, 1, 11)
    srows, frows = [], []
    for _ in range(sessions):
        values = [round(rng.gauss(0, 60), 1) for _ in funds]
        srows.append(("btc", day.isoformat(), round(sum(values), 1), False))
        frows += [("btc", day.isoformat(), f, v) for f, v in zip(funds, values, strict=True)]
        day += dt.timedelta(days=1 if day.weekday() < 4 else 3)
    return frames_from_rows("btc", funds, srows, frows)


def analytics_ms(sessions: int, repeat: int) -> float:
    from analytics.dashboard import asset_view

    frames = synthetic_frames(sessions)
    as_of = frames.sessions["date"].max()
    asset_view(frames, as_of, streak_size_usd_m=200)  # warm up
    t0 = time.perf_counter()
    for _ in range(repeat):
        asset_view(frames, as_of, streak_size_usd_m=200)
    return (time.perf_counter() - t0) / repeat * 1000


def parse_ms(rows: int) -> float:
    from common.calendar import trading_days
    from sources.farside_parse import parse_farside
    from sources.farside_render import render_page

    rng = random.Random(2)
    data = []
    for day in trading_days(dt.date(2024, 1, 11), dt.date(2026, 12, 31))[:rows]:  # the parser refuses holiday rows with flows
        values = [round(rng.gauss(0, 60), 1) for _ in range(12)]
        data.append((day, values, round(sum(values), 1)))
    html = render_page([f"F{i:02d}" for i in range(12)], data)
    t0 = time.perf_counter()
    parse_farside(html, "btc")
    return (time.perf_counter() - t0) * 1000


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def simulated_day(minutes: int) -> tuple[list[tuple[int, float]], float]:
    """Poll every demo source once per simulated minute and recompute every 15 (accelerated clock).
    Returns RSS samples (simulated minute, MB) after warm-up and at each quarter, and the store's size."""
    from analytics.dashboard import load_views
    from analytics.derivatives import load_derivatives
    from common.config import parse_config
    from demo import DEMO_NOW, demo_config, demo_transport
    from sources.refresh import refresh_once
    from store import Store

    tmp = Path(tempfile.mkdtemp(prefix="flowtape-bench-"))
    store = Store.open(tmp / "day.db")
    cfg = demo_config(parse_config({}, Path("<bench>")))
    clock = [DEMO_NOW]
    sample_at = {minutes * k // 4 - 1 for k in (1, 2, 3, 4)} | ({59} if minutes >= 240 else set())  # 1 h: warmed up
    samples: list[tuple[int, float]] = []
    for minute in range(minutes):
        clock[0] = DEMO_NOW + dt.timedelta(minutes=minute)
        asyncio.run(refresh_once(store, cfg, transport=demo_transport(lambda: clock[0]), now=clock[0], rng=random.Random(minute)))
        if minute % 15 == 0:
            load_views(store, ("btc", "eth", "sol"), clock[0].date(), streak_size_usd_m=200)
            load_derivatives(store, clock[0], band_edges=cfg.basis_band_edges, trend_pct=5)
        if minute in sample_at:
            samples.append((minute + 1, rss_mb()))
    size = (tmp / "day.db").stat().st_size / 1e6
    store.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return samples, size


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--short", action="store_true", help="short windows (CI): completes, asserts nothing")
    args = parser.parse_args()
    idle_s, day_minutes, repeat = (5.0, 120, 3) if args.short else (60.0, 1440, 20)

    rows: list[tuple[str, str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="flowtape-bench-"))
    try:
        db = tmp / "bench.db"
        populated_store(db)
        flowtape = [sys.executable, "-m", "tui", "--offline", "--db", str(db)]
        # First paint = the first data on screen: the baseline's table (header and rows arrive in one frame),
        # flowtape's first fund row (pane titles alone would be an empty frame, 0.15 s sooner).
        base = terminal_run([sys.executable, str(ROOT / "bench" / "baseline_app.py")], b"Total", idle_s)
        ft = terminal_run(flowtape, b"IBIT", idle_s, keys=b"e")
        rows += [
            (
                "time to first paint, data on screen (s)",
                f"{base['first_paint_s']:.2f}",
                f"{ft['first_paint_s']:.2f}" if ft["first_paint_s"] else "not seen",
            ),
            (f"idle CPU over {idle_s:g}s (% of one core)", f"{base['idle_cpu_pct']:.2f}", f"{ft['idle_cpu_pct']:.2f}"),
            ("idle bytes to the terminal per minute", f"{base['idle_bytes_per_min']:,.0f}", f"{ft['idle_bytes_per_min']:,.0f}"),
            ("bytes for one update (switch asset)", "-", f"{ft['update_bytes']:,}"),
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    today = analytics_ms(500, repeat)
    rows += [
        ("analytics recompute, 500 sessions (ms)", "-", f"{today:.1f}"),
        ("analytics recompute, 10x (5,000) (ms)", "-", f"{analytics_ms(5000, repeat):.1f}"),
        ("analytics recompute, 100x (50,000) (ms)", "-", f"{analytics_ms(50000, max(1, repeat // 4)):.1f}"),
        ("Farside full-history parse, 500 rows (ms)", "-", f"{parse_ms(500):.1f}"),
    ]
    samples, size = simulated_day(day_minutes)
    rows += [
        (
            f"RSS at simulated minute {' / '.join(str(m) for m, _ in samples)} (MB)",
            "-",
            " / ".join(f"{mb:.0f}" for _, mb in samples),
        ),
        (f"store size after {day_minutes} simulated minutes (MB)", "-", f"{size:.1f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(
        f"flowtape benchmark ({'short' if args.short else 'full'}) on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {COLS}x{ROWS} pty"
    )
    print(f"{'measure':<{width}}  {'baseline':>10}  {'flowtape':>14}")
    for name, b, f in rows:
        print(f"{name:<{width}}  {b:>10}  {f:>14}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
