"""Run the real `flowtape` entry point with its wall clock starting at $FLOWTAPE_BENCH_NOW (ISO) and running.

The benchmark's year-sized store and recorded upstream are dated around the demo's clock; a live run at
today's date would see them a year stale. Only the clock is replaced (cli.main.wall_clock, what a live
session reads); everything else is the live path. Nothing here is imported before cli.main, so start-up
costs are the entry point's own.
"""

import datetime as dt
import os
import sys
import time

import cli.main as entry

if hasattr(entry, "wall_clock"):  # if the entry point stops reading it, the run is at today's date (the bench says so)
    _start, _t0 = dt.datetime.fromisoformat(os.environ["FLOWTAPE_BENCH_NOW"]), time.monotonic()
    if _epoch := os.environ.get("FLOWTAPE_BENCH_EPOCH"):  # a UNIX time: every process given it shares one clock
        _t0 -= time.time() - float(_epoch)  # (a desk's collector and viewers, reading one heartbeat)
    entry.wall_clock = lambda: _start + dt.timedelta(seconds=time.monotonic() - _t0)

raise SystemExit(entry.main(sys.argv[1:]))
