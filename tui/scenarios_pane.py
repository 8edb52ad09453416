"""The scenario pane: each scenario's state and checklist, and the latest state changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from . import format as fmt
from .panes import Pane

if TYPE_CHECKING:
    from analytics.scenarios import ScenarioResult, Transition

STATE_STYLE = {"active": "bold reverse green", "building": "bold yellow", "inactive": "dim"}
MARKS = {True: ("✓", "green"), False: ("✗", "dim"), None: ("?", "yellow")}
SHORT = {
    "btc_green_sessions_at_size": "green run",
    "btc_red_sessions": "red run",
    "btc_green_sessions": "green",
    "btc_max_day_usd_m": "big day",
    "btc_latest_day_usd_m": "day",
    "weekly_ledger_usd_m": "week",
    "weekly_ledger_flip": "flip",
    "basis_3m_pct": "basis",
    "funding_annualized_pct": "funding",
    "oi_trend": "OI",
}


def _value(v, short: bool = False) -> str:
    if v is None:
        return "-" if short else "missing"
    if isinstance(v, float):
        return f"{v:,.0f}" if short and abs(v) >= 100 else f"{v:,.1f}"
    return str(v)


class ScenariosPane(Pane):
    _results: tuple[ScenarioResult, ...] = ()
    _transitions: tuple[Transition, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", id="scenarios-text")

    def on_mount(self) -> None:
        # Sized from the start for the configured scenarios (name, a checklist that wraps once at 120
        # columns): their first states repaint this pane alone, not the panes below it.
        count = len(getattr(self.app, "scenarios", ()))
        self.query_one("#scenarios-text").styles.min_height = max(2, 3 * count)

    def show(self, results: tuple[ScenarioResult, ...], transitions: tuple[Transition, ...]) -> None:
        self._results, self._transitions = results, transitions
        self.redraw()

    def redraw(self) -> None:
        results, transitions = self._results, self._transitions
        full = self.has_class("-maximized")
        out = Text()
        if not results:
            out.append("No scenarios configured.", style="dim")
        for r in results:
            out.append(f"{r.scenario.name}: ", style="bold")
            out.append(r.label, style=STATE_STYLE.get(r.state, ""))
            out.append("\n")
            if not full:
                for c in r.conditions:
                    mark, style = MARKS[c.met]
                    out.append(f" {mark}", style=style)
                    out.append(
                        f"{SHORT.get(c.condition.metric, c.condition.metric)} {_value(c.value, True)}",
                        style="bold" if c.met else "dim" if c.met is False else "yellow",
                    )
                out.append("\n")
                continue
            for c in r.conditions:
                mark, style = MARKS[c.met]
                out.append(f" {mark} ", style=style)
                out.append_text(fmt.safe(c.condition.label, max_len=70))
                out.append(f": {_value(c.value)}", style="bold" if c.met else "")
                if c.stale:
                    out.append(" stale", style="yellow")
                out.append("\n")
        if transitions:
            out.append("Last changes: ", style="bold")
            shown = transitions[-10:] if full else transitions[-1:]
            sep = "\n  " if full else "; "
            out.append(sep.join(f"{t.date:%d %b %Y} {t.name}: {t.before} → {t.after}" for t in shown), style="dim")
        else:
            out.append("No state changes in the stored history.", style="dim")
        self.paint(self.query_one("#scenarios-text", Static), out)
