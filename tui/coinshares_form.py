"""A small form for CoinShares' weekly print: week ending (a Friday), total and BTC in US$ millions."""

from __future__ import annotations

import datetime as dt
import math

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


def last_friday(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=(today.weekday() - 4) % 7)


def parse_form(week: str, total: str, btc: str) -> tuple[dt.date, float, float | None]:
    """The form's values, or ValueError with what to fix."""
    try:
        day = dt.date.fromisoformat(week.strip())
    except ValueError:
        raise ValueError("week ending: a date like 2025-11-07") from None
    if day.weekday() != 4:
        raise ValueError(f"week ending: {day} is a {day:%A}; CoinShares weeks end on a Friday")
    btc = btc.strip().replace(",", "")
    return day, _weekly_flow("total", total.strip().replace(",", "")), _weekly_flow("BTC", btc) if btc else None


def _weekly_flow(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: a number of US$ millions, outflows negative (e.g. -1170)") from None
    if not math.isfinite(value) or abs(value) > 1e6:
        raise ValueError(f"{name}: not a plausible weekly flow in US$ millions")
    return value


class CoinSharesForm(ModalScreen[tuple[dt.date, float, float | None] | None]):
    BINDINGS = [Binding("escape", "dismiss", "Cancel")]

    def __init__(self, today: dt.date) -> None:
        super().__init__(id="coinshares-form")
        self._default_week = last_friday(today).isoformat()

    def compose(self) -> ComposeResult:
        with Vertical(id="coinshares-body"):
            yield Static(Text("CoinShares weekly print (US$ millions, outflows negative)", style="bold"))
            yield Input(self._default_week, placeholder="week ending, YYYY-MM-DD (a Friday)", id="cs-week")
            yield Input("", placeholder="total, e.g. -1170", id="cs-total")
            yield Input("", placeholder="bitcoin products (optional), e.g. -946", id="cs-btc")
            yield Static("", id="cs-error")
            yield Static(Text("Enter saves · Escape cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#cs-total", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            values = parse_form(*(self.query_one(f"#cs-{k}", Input).value for k in ("week", "total", "btc")))
        except ValueError as exc:
            self.query_one("#cs-error", Static).update(Text(str(exc), style="bold red"))
            return
        self.dismiss(values)
