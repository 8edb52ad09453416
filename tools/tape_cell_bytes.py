"""Bytes written to a terminal when one Farside cell changes (issue 14's "one changed cell" figure).

`python tools/tape_cell_bytes.py [TREE] [--cols 120 --rows 40] [--tape-only]` runs flowtape from the source tree
TREE (default: this one; pass an exported older tree to compare) in a real pty on a demo store, offline (no
polling). At T+8 s and T+11 s it posts the app's own views with FBTC's latest figure changed (44.4, then 45.5),
and counts what reached the terminal in the 2 s after the second one (the first change after start-up can also
carry a repaint Textual left pending from the last layout) against the 2 s before it. `--tape-only` shows the
changed view to the tape alone; otherwise the app paints it as it paints computed views (every pane).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def child(tree: str, mark: str, tape_only: bool) -> None:
    import dataclasses

    sys.path.insert(0, tree)
    from tests.dashboard_fixtures import demo_store, make_app

    store = demo_store(Path(tempfile.mkdtemp()) / "demo.db")
    app = make_app(store, mode="offline")

    def with_fbtc(rows, funds, value):
        i = funds.index("FBTC")
        last = rows[-1]
        return (*rows[:-1], dataclasses.replace(last, funds=(*last.funds[:i], value, *last.funds[i + 1 :])))

    def change(value: float, marked: bool) -> None:
        btc = app.views["btc"]
        made = dataclasses.replace(btc, tape=with_fbtc(btc.tape, btc.funds, value))
        history = getattr(btc, "history", None)
        if history is not None:
            made = dataclasses.replace(
                made, history=dataclasses.replace(history, rows=with_fbtc(history.rows, history.funds, value))
            )
        if marked:
            Path(mark).write_text(str(time.time()))
        if tape_only:
            from tui.panes import FlowTapePane

            app.dashboard.query_one(FlowTapePane).show(made)
            return
        app.views = {**app.views, "btc": made}  # what the App does with computed views, then the same paint
        with app.batch_update():
            app.dashboard.render_views()

    def arm() -> None:
        app.set_timer(8, lambda: change(44.4, False))
        app.set_timer(11, lambda: change(45.5, True))
        app.set_timer(14, app.exit)

    app.call_later(arm)
    app.run()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", nargs="?", default=str(HERE))
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--tape-only", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.tree, args.child, args.tape_only)
        return
    mark = tempfile.mktemp(prefix="tape-cell-mark-")
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        argv = [sys.executable, __file__, args.tree, "--child", mark] + (["--tape-only"] if args.tape_only else [])
        os.execv(sys.executable, argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", args.rows, args.cols, 0, 0))
    chunks: list[tuple[float, int]] = []
    while True:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append((time.time(), len(data)))
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
    at = float(Path(mark).read_text())
    os.unlink(mark)
    idle = sum(n for t, n in chunks if at - 2 <= t < at)
    changed = sum(n for t, n in chunks if at <= t < at + 2)
    path = "tape only" if args.tape_only else "every pane"
    print(f"{args.tree} {args.cols}x{args.rows} ({path}): 2 s before {idle} B, 2 s after one changed cell {changed} B")


if __name__ == "__main__":
    main()
