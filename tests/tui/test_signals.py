"""SIGTERM, SIGHUP and Ctrl+C in a real terminal (a pty): flowtape exits with status 0, the terminal is
restored (alternate screen off, mouse tracking off, cursor shown) after the last frame, and the demo's
temporary store is gone.

Robust on a loaded 2-core machine: each wait has a generous deadline and nothing asserts how long anything took.
"""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a pty"),
]

FIRST_FRAME_S = 120.0  # the demo replays its history first; minutes apart on a machine shared by many runs
EXIT_S = 60.0
FLOWTAPE = shutil.which("flowtape", path=str(Path(sys.executable).parent)) or ""

ALT_ON, ALT_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
MOUSE_ON, MOUSE_OFF = b"\x1b[?1000h", b"\x1b[?1000l"
CURSOR_HIDDEN, CURSOR_SHOWN = b"\x1b[?25l", b"\x1b[?25h"


class Terminal:
    """flowtape --demo on a 120x40 pty, with TMPDIR pointed at `tmp` so its temporary store can be watched."""

    def __init__(self, tmp: Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TEXTUAL")}
        env = {k: v for k, v in env.items() if not k.startswith("FLOWTAPE_")}  # the defaults, not the caller's config
        env.update(TMPDIR=str(tmp), TERM="xterm-256color", HOME=str(tmp / "home"), FLOWTAPE_DEMO_COMPACT="1")
        self.proc = subprocess.Popen(
            [FLOWTAPE, "--demo"], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.out = b""

    def read(self, until: bytes | None, timeout: float) -> bool:
        """Collect output until `until` appears after the alternate screen came on (None: until the pty closes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if not ready:
                if self.proc.poll() is not None:
                    return until is None
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every writer closed the pty
                return until is None
            if not chunk:
                return until is None
            self.out += chunk
            if until is not None and ALT_ON in self.out and until in self.out[self.out.index(ALT_ON) :]:
                return True
        return False

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path):
    if not FLOWTAPE:
        pytest.skip("the flowtape entry point is not installed in this environment")
    t = Terminal(tmp_path)
    yield t
    t.close()


def demo_stores(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("flowtape-demo-*"))


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda t: t.proc.send_signal(signal.SIGTERM), id="SIGTERM"),
        pytest.param(lambda t: os.write(t.master, b"\x03"), id="ctrl-c"),
        pytest.param(lambda t: t.proc.send_signal(signal.SIGHUP), id="SIGHUP"),
        pytest.param(lambda t: os.write(t.master, b"q"), id="q"),
    ],
)
def test_stopping_the_dashboard_restores_the_terminal_and_removes_the_demo_store(terminal, tmp_path, stop):
    assert terminal.read(b"DEMO", FIRST_FRAME_S), f"no first frame: {terminal.out[-500:]!r}"
    assert len(demo_stores(tmp_path)) == 1  # the demo's temporary store exists while it runs
    stop(terminal)
    terminal.read(None, EXIT_S)
    assert terminal.proc.wait(EXIT_S) == 0
    out = terminal.out
    assert out.rfind(ALT_OFF) > out.rfind(ALT_ON), "alternate screen left on"
    assert out.rfind(MOUSE_OFF) > out.rfind(MOUSE_ON), "mouse tracking left on"
    assert out.rfind(CURSOR_SHOWN) > out.rfind(CURSOR_HIDDEN), "cursor left hidden"
    assert b"Traceback" not in out
    assert demo_stores(tmp_path) == []


def test_sigterm_while_the_demo_starts_still_removes_its_store(terminal, tmp_path):
    """Before the first frame (the demo replaying its history) the app's own handler is not there yet."""
    deadline = time.monotonic() + FIRST_FRAME_S
    while not demo_stores(tmp_path) and time.monotonic() < deadline and terminal.proc.poll() is None:
        time.sleep(0.01)
    assert demo_stores(tmp_path), "the demo never made its temporary store"
    terminal.proc.send_signal(signal.SIGTERM)
    terminal.read(None, EXIT_S)
    assert terminal.proc.wait(EXIT_S) == 0
    assert b"Traceback" not in terminal.out
    assert demo_stores(tmp_path) == []


def test_a_terminal_closed_without_a_hangup_ends_flowtape(terminal, tmp_path):
    """The pty's other end closed and no SIGHUP sent (here the pty is not the process's controlling terminal, as
    under some harnesses and multiplexers): stdin reads end-of-file for ever, which left Textual's input thread
    spinning a core. flowtape notices (tui/app.py TERMINAL_CHECK_S) and exits as on SIGHUP, its demo store removed."""
    assert terminal.read(b"DEMO", FIRST_FRAME_S), f"no first frame: {terminal.out[-500:]!r}"
    os.close(terminal.master)
    terminal.master = os.open(os.devnull, os.O_RDONLY)  # close() closes something
    assert terminal.proc.wait(EXIT_S) == 0
    assert demo_stores(tmp_path) == []
