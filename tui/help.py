"""The help screen: every key (from the one command table), the sources, the store path."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from common.records import ATTRIBUTION

from . import format as fmt
from .commands import COMMANDS


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", show=True)]

    def __init__(self, *, store_path: str, mode: str, notices: list[str]) -> None:
        super().__init__(id="help")
        self._store_path = store_path
        self._mode = mode
        self._notices = notices

    def compose(self) -> ComposeResult:
        width = max(len(c.display) for c in COMMANDS) + 2
        keys = Text()
        keys.append(f"{'Key':<{width}}Does\n", style="bold")
        for c in COMMANDS:
            keys.append(f"{c.display:<{width}}", style="bold")
            keys.append(f"{c.help}\n")
        keys.append(f"{'Ctrl+P':<{width}}", style="bold")
        keys.append("Command palette: every command above by name")
        about = Text()
        about.append("\nData: ", style="bold")
        about.append(f"{ATTRIBUTION} (daily US spot ETF flows, US$ millions).\n")
        about.append("Store: ", style="bold")
        about.append_text(fmt.safe(self._store_path, max_len=300))
        about.append(f"\nMode: {self._mode}\n")
        for note in self._notices:
            about.append_text(fmt.safe(note, max_len=300, style="yellow"))
            about.append("\n")
        about.append(
            "\nA provisional day (*) is still being reported fund by fund; it is shown but not added into "
            "month, week, record or streak figures until complete. '-' means no data, never zero.",
            style="dim",
        )
        with VerticalScroll(id="help-body"):
            yield Static(Text("flowtape: keys", style="bold"))
            yield Static(keys)
            yield Static(about)
            yield Static(Text("Escape, q or ? closes this screen.", style="dim"))
