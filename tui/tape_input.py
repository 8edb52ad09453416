"""The one-line input under the maximized flow tape: `g` jumps to a date, `/` filters funds or dates.

Pure parsing lives here too (`parse_day`), so the tape and its tests share one reading of what a trader types.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

Mode = Literal["jump", "filter"]

_DAY_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%d/%m/%Y")
_MONTH_FORMATS = ("%Y-%m", "%b %Y", "%B %Y")


def parse_day(text: str) -> dt.date | None:
    """A date as traders write it: 2025-11-03, 3 Nov 2025, 03/11/2025; a month (2025-11, Nov 2025) means its
    first day. None when it reads as neither."""
    text = " ".join(text.split())
    for formats, month_only in ((_DAY_FORMATS, False), (_MONTH_FORMATS, True)):
        for f in formats:
            try:
                parsed = dt.datetime.strptime(text, f).date()
            except ValueError:
                continue
            return parsed.replace(day=1) if month_only else parsed
    return None


class TapeInput(Input):
    """Hidden until `g` or `/`; Enter submits, Escape leaves (and clears a filter)."""

    DEFAULT_CSS = """
    TapeInput { display: none; height: 1; border: none; padding: 0 1; }
    TapeInput.-open { display: block; }
    """
    BINDINGS = [Binding("escape", "leave", "Close", show=False)]

    class Closed(Message):
        def __init__(self, mode: Mode, text: str, submitted: bool) -> None:
            super().__init__()
            self.mode = mode
            self.text = text
            self.submitted = submitted

    class Filtered(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    PROMPTS = {
        "jump": "jump to date (2025-11-03, 3 Nov 2025, Nov 2025) · Enter go · Esc cancel",
        "filter": "filter funds (IBIT) or dates (Nov 2025, 2025-11) · Enter keep · Esc clear",
    }

    def __init__(self) -> None:
        super().__init__(id="tape-input", compact=True)
        self.mode: Mode = "jump"

    def open(self, mode: Mode, text: str = "") -> None:
        self.mode = mode
        self.placeholder = self.PROMPTS[mode]
        self.value = text
        self.add_class("-open")
        self.focus()

    def _close(self, submitted: bool) -> None:
        self.remove_class("-open")
        self.post_message(self.Closed(self.mode, self.value, submitted))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.mode == "filter" and self.has_class("-open"):
            self.post_message(self.Filtered(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close(True)

    def action_leave(self) -> None:
        if self.mode == "filter":
            self.value = ""
        self._close(False)
