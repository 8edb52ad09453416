"""A desk on one store, measured (issue 15): one collector and 1, 10 and 20 `flowtape view` processes, each in a
real terminal (a private tmux server, 120x40; screens read with `capture-pane`).

Run: `python -m bench.desk` (about 4 minutes). The collector is `flowtape collect` polling the recorded upstream on
127.0.0.1 (bench/upstream.py; every source, Farside every 10 s); every process runs the real entry point under
bench/clockshift.py on one shared clock. For each desk size: RSS of each viewer and of the collector, their CPU over
an idle window (the upstream answering identically), and the time from the collector's commit of a changed Farside
cell to that value on each viewer's screen. tests/desk/test_desk.py uses the same harness (Desk).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


class Desk:
    """A private tmux server (own socket, no user config): one window per program, 120x40 each."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.base = ["tmux", "-S", str(folder / "tmux.sock"), "-f", "/dev/null"]
        self.env = env
        self.pids: list[int] = []
        self.tmux("new-session", "-d", "-s", "desk", "-x", "120", "-y", "40", "-n", "idle", "sh")

    def tmux(self, *args: str) -> str:
        # A plain user's environment: pytest's own variables (PYTEST_*, TEXTUAL_*) must not reach the apps.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TEXTUAL"))}
        return subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=30, check=False, env=env).stdout

    def start(self, name: str, argv: list[str]) -> int:
        """Start argv in a new window; its pid (the program itself: exec'd), kept to stop it at the end."""
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        self.tmux("new-window", "-d", "-t", "desk", "-n", name, "-c", str(ROOT), f"exec env {exports} {shlex.join(argv)}")
        pid = int(self.tmux("display", "-p", "-t", f"desk:{name}", "#{pane_pid}").strip())
        self.pids.append(pid)
        return pid

    def screen(self, name: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", f"desk:{name}")

    def wait_for_all(self, names: list[str], ok: Callable[[str], bool], limit: float) -> dict[str, float]:
        """Seconds until each named screen first satisfies `ok`; AssertionError (with a screen) at `limit`."""
        t0, seen, screens = time.monotonic(), {}, {}
        while time.monotonic() - t0 < limit:
            for name in names:
                if name not in seen:
                    screens[name] = self.screen(name)
                    if ok(screens[name]):
                        seen[name] = time.monotonic() - t0
            if len(seen) == len(names):
                return seen
            time.sleep(0.05)
        missing = [n for n in names if n not in seen]
        raise AssertionError(f"{len(missing)} screens never did within {limit:.0f} s; {missing[0]} shows:\n{screens[missing[0]]}")

    def close(self) -> None:
        """SIGTERM every program started, SIGKILL what is left after 10 s, then the server: killing the tmux server
        alone left busy Textual apps running without a terminal."""
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in self.pids):
            time.sleep(0.1)
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.tmux("kill-server")


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def desk_env(folder: Path, config: Path, frozen_iso: str) -> dict[str, str]:
    """The environment of every program on the desk: one config, one log, one shared clock, scratch user dirs."""
    return {
        "FLOWTAPE_CONFIG": str(config),
        "FLOWTAPE_LOG": str(folder / "flowtape.log"),
        "FLOWTAPE_BENCH_NOW": frozen_iso,
        "FLOWTAPE_BENCH_EPOCH": str(time.time()),  # one clock for the whole desk (bench/clockshift.py)
        "XDG_STATE_HOME": str(folder / "state"),
        "XDG_DATA_HOME": str(folder / "data"),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }


def store_flag(where: Path | str) -> list[str]:
    """The flag naming a store: a SQLite file (`--db`) or a PostgreSQL URL (`--store`)."""
    return ["--store", str(where)] if str(where).startswith("postgres") else ["--db", str(where)]


def viewer_argv(db: Path | str) -> list[str]:
    return [PY, "-m", "bench.clockshift", "view", *store_flag(db)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    import datetime as dt

    from bench.app_path import FROZEN
    from bench.upstream import CHANGED_PATH, Upstream
    from store import Store

    idle_s = 20.0
    folder = Path(tempfile.mkdtemp(prefix="flowtape-desk-"))
    upstream = Upstream(FROZEN)
    original = upstream.pages[CHANGED_PATH]
    db = folder / "desk.db"
    desk = Desk(folder, desk_env(folder, upstream.config_file(folder, farside_interval=10), FROZEN.isoformat()))
    reader = Store.open(db, readonly=True)
    rows = []
    load = os.getloadavg()
    try:
        collector = desk.start("collector", [PY, "-m", "bench.clockshift", "collect", "--db", str(db)])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (reader.flows("btc") and reader.heartbeat()):
            time.sleep(0.2)
        pids: dict[str, int] = {}
        for size in (1, 10, 20):
            for n in range(len(pids) + 1, size + 1):
                pids[f"v{n}"] = desk.start(f"v{n}", viewer_argv(db))
            names = list(pids)
            desk.wait_for_all(names, lambda s: "IBIT" in s and "collector ok" in s, 300)
            time.sleep(10)  # start-up computations done
            everyone = [collector, *pids.values()]
            cpu0, t0 = [cpu_seconds(p) for p in everyone], time.monotonic()
            time.sleep(idle_s)
            cpu = [(cpu_seconds(p) - c) / (time.monotonic() - t0) * 100 for p, c in zip(everyone, cpu0, strict=True)]
            rss = [rss_mb(p) for p in everyone]
            # One changed Farside cell (alternately changed and restored): the collector's commit to each screen.
            before = {(c.date, c.fund): c.usd_m for c in reader.flows("btc")}
            upstream.pages[CHANGED_PATH] = upstream._changed if upstream.pages[CHANGED_PATH] is original else original
            deadline, moved = time.monotonic() + 60, None
            while moved is None and time.monotonic() < deadline:
                cells = {(c.date, c.fund): c.usd_m for c in reader.flows("btc")}
                moved = next((v for k, v in cells.items() if before.get(k) != v), None)
                time.sleep(0.02)
            paint = desk.wait_for_all(names, lambda s, shown=f"{moved:+,.1f}": shown in s, 60) if moved is not None else {}
            rows.append((size, rss, cpu, sorted(paint.values())))
    finally:
        reader.close()
        desk.close()
        upstream.close()
    print(f"flowtape desk benchmark: {os.cpu_count()} cores, load avg {load[0]:.1f} at the start, {dt.date.today()}")
    print(
        f"{'viewers':>7}  {'viewer RSS MB (median / max)':>28}  {'collector RSS':>13}  {'total RSS':>9}  "
        f"{'viewer idle CPU % (median / max)':>32}  {'collector CPU %':>15}  {'commit to paint s (median / max)':>32}"
    )
    for size, rss, cpu, paint in rows:
        v_rss, v_cpu = rss[1:], cpu[1:]
        painted = f"{statistics.median(paint):.2f} / {max(paint):.2f}" if paint else "not seen"
        print(
            f"{size:>7}  {f'{statistics.median(v_rss):.0f} / {max(v_rss):.0f}':>28}  {rss[0]:>13.0f}  {sum(rss):>9.0f}  "
            f"{f'{statistics.median(v_cpu):.1f} / {max(v_cpu):.1f}':>32}  {cpu[0]:>15.1f}  {painted:>32}"
        )
    print(f"load avg after: {os.getloadavg()[0]:.1f}; idle window {idle_s:.0f} s; follow check every 2 s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
