"""The scenario pane: each scenario's state and checklist, and the latest state changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from analytics.scenarios import METRICS, Condition

from . import format as fmt
from .panes import Pane
from .theme import Palette, palette

if TYPE_CHECKING:
    from analytics.scenarios import ScenarioResult, Transition


def state_style(state: str, pal: Palette) -> str:
    return {"active": f"{pal.ok} bold reverse", "building": f"{pal.warn} bold", "inactive": "dim"}.get(state, "")


def mark(met: bool | None, pal: Palette) -> tuple[str, str]:
    """✓ met, ✗ not met, ? unknown (missing or stale data)."""
    return {True: ("✓", pal.ok), False: ("✗", "dim"), None: ("?", pal.warn)}[met]


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


def _value(v, metric: str, short: bool = False) -> str:
    """A condition's value (or threshold) in the units its metric names: flows as flows, % as %, counts whole."""
    if v is None:
        return fmt.MISSING if short else "missing"
    if isinstance(v, float):
        if metric.endswith("_usd_m"):
            return fmt.flow_str(v)
        if metric.endswith("_pct"):
            return fmt.pct(v, decimals=1 if short else 2)
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.1f}"
    return str(v)


def condition_label(c: Condition) -> str:
    """'latest BTC ETF day < ▼-1,000.0': the rule's words, its threshold formatted like the figures on screen."""
    m = METRICS[c.metric]
    text = m.label.format(**{**m.params, **dict(c.params)})
    return f"{text} {c.op} {_value(c.threshold, c.metric)}"


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
        out, pal = Text(), palette()
        if not results:
            out.append("No scenarios configured.", style="dim")
        for r in results:
            out.append(f"{r.scenario.name}: ", style="bold")
            out.append(r.label, style=state_style(r.state, pal))
            out.append("\n")
            if not full:
                for c in r.conditions:
                    sign, style = mark(c.met, pal)
                    out.append(f" {sign}", style=style)
                    out.append(
                        f"{SHORT.get(c.condition.metric, c.condition.metric)} {_value(c.value, c.condition.metric, True)}",
                        style="bold" if c.met else "dim" if c.met is False else pal.warn,
                    )
                out.append("\n")
                continue
            for c in r.conditions:
                sign, style = mark(c.met, pal)
                out.append(f" {sign} ", style=style)
                out.append_text(fmt.safe(condition_label(c.condition), max_len=70))
                out.append(f": {_value(c.value, c.condition.metric)}", style="bold" if c.met else "")
                if c.stale:
                    out.append(" stale", style=pal.stale)
                out.append("\n")
        if transitions:
            out.append("Last changes: ", style="bold")
            shown = transitions[-10:] if full else transitions[-1:]
            sep = "\n  " if full else "; "
            out.append(sep.join(f"{fmt.date(t.date)} {t.name}: {t.before} → {t.after}" for t in shown), style="dim")
        else:
            out.append("No state changes in the stored history.", style="dim")
        self.paint(self.query_one("#scenarios-text", Static), out)
