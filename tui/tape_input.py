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


def parse_day(text: str) -> tuple[dt.date, dt.date] | None:
    """The days a trader means, first and last: 2025-11-03, 3 Nov 2025 or 03/11/2025 is one day; 2025-11 or
    Nov 2025 is the month. None when it reads as neither."""
    text = " ".join(text.split())
    for formats, month_only in ((_DAY_FORMATS, False), (_MONTH_FORMATS, True)):
        for f in formats:
            try:
                parsed = dt.datetime.strptime(text, f).date()
            except ValueError:
                continue
            if not month_only:
                return parsed, parsed
            following = (parsed.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return parsed, following - dt.timedelta(days=1)
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
        # Textual's Escape minimizes a maximized pane before any binding sees it; here Escape belongs to the input.
        self.screen.ESCAPE_TO_MINIMIZE = False  # type: ignore[misc]  # an instance value, dropped on close
        self.focus()

    def _close(self, submitted: bool) -> None:
        if not self.has_class("-open"):
            return
        self.remove_class("-open")
        self.screen.__dict__.pop("ESCAPE_TO_MINIMIZE", None)
        self.post_message(self.Closed(self.mode, self.value, submitted))

    def on_blur(self) -> None:
        self._close(False)  # focus moved away (Tab, a click): a filter stays as typed

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

    def close_quietly(self) -> None:
        """Hide without a message (the pane is restoring and drops its filter itself)."""
        self.remove_class("-open")
        self.screen.__dict__.pop("ESCAPE_TO_MINIMIZE", None)
