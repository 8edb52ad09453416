"""Build the year-sized demo store into the user cache, in the background (`python -m demo.build_cache CONFIG`).

A first `flowtape --demo` on a machine starts at once on the compact demo and starts this process; the
next start finds the year-sized store cached. One builder at a time (a lock beside the cache); a build that
dies leaves nothing half-written (demo._build_cache writes to a temporary file and renames it)."""

from __future__ import annotations

import asyncio
import fcntl
import sys
from pathlib import Path

from common.config import ConfigError, load_config
from store import Store

from . import DEMO_NOW, cache_dir, demo_config, replay_history


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv and Path(argv[0]).is_file() else None
    try:
        config = demo_config(load_config(path))
    except ConfigError as exc:
        print(f"flowtape demo cache: {exc}", file=sys.stderr)
        return 2
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another start is building it
        scratch = folder / "scratch.db"
        scratch.unlink(missing_ok=True)
        store = Store.open(scratch)
        try:  # replay_history builds the cache first, then copies it into this throw-away store
            asyncio.run(replay_history(store, config, [DEMO_NOW], compact=False))
        finally:
            store.close()
            for leftover in folder.glob("scratch.db*"):
                leftover.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
