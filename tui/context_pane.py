"""The context pane: the 50/200-day trend and its crosses, the weekly ledger, the next FOMC meeting's odds."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from . import format as fmt
from .panes import Pane
from .theme import palette

if TYPE_CHECKING:
    from analytics.fed import FedOdds
    from analytics.trend import Trend


class ContextPane(Pane):
    DEFAULT_CSS = """
    ContextPane #context-text { min-height: 3; }  /* trend, ledger, Fed: sized before the figures arrive */
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="context-text")

    def show(self, trend: Trend | None, ledger: dict[str, Any] | None, fed: FedOdds | None = None) -> None:
        out, pal = Text(), palette()
        out.append("Trend ", style="bold")
        if trend is None:
            out.append("needs 200 daily closes (Coinbase candles)", style="dim")
        else:
            out.append(f"BTC ${trend.close:,.0f} · 50d ${trend.sma50:,.0f} · 200d ${trend.sma200:,.0f} ")
            out.append(
                f"50d {trend.regime.replace('50 ', '').replace(' 200', ' 200d')}",
                style=pal.down if "below" in trend.regime else pal.up,
            )
            if trend.latest_cross:
                out.append(f" · {trend.latest_cross} cross {fmt.date(trend.latest_cross_date)}", style="bold")
            out.append(
                f" · since {trend.cycle_start:%b %Y}: {trend.death_crosses} death, {trend.golden_crosses} golden", style="dim"
            )
        out.append("\n")
        out.append("Weekly ledger ", style="bold")
        if ledger is None:
            out.append("no data", style="dim")
        else:
            flows = ledger["us_spot_etf_usd_m"]
            week = [dt.date.fromisoformat(ledger[k]) for k in ("week_start", "week_ending")]
            out.append(f"{fmt.date_range(*week)}: ")
            for asset in ("btc", "eth", "sol", "all"):
                out.append(f"{asset.upper()} ")
                out.append_text(fmt.flow(flows[asset]))
                out.append(" ")
            cs = ledger["coinshares_print_usd_m"]
            out.append("· CoinShares ", style="dim")
            out.append_text(fmt.flow(cs) if cs is not None else Text("not entered", style=pal.missing))
        out.append("\n")
        out.append("Fed ", style="bold")
        out.append_text(fed_text(fed))
        self.paint(self.query_one("#context-text", Static), out)


def fed_text(fed) -> Text:
    """The next meeting's odds per venue; a venue with no event listed for it says so, with the date."""
    out = Text()
    if fed is None:
        out.append("no FOMC meeting ahead in the calendar: add [fed] decision_days to the config", style="dim")
        return out
    pal = palette()
    out.append(f"{fmt.date(fed.meeting)}: ")
    if not fed.venues:
        names = ", ".join(v.capitalize() for v in fed.unlisted) if fed.unlisted else "Polymarket, Kalshi"
        out.append(f"{fed.state} ({names})", style="dim")
        return out
    for i, (venue, v) in enumerate(sorted(fed.venues.items())):
        out.append(" · " if i else "")
        out.append(f"{venue.capitalize()} ", style=pal.stale if v.stale else "")
        out.append(
            " ".join(f"{b} {v.odds[b] * 100:.0f}%" if b in v.odds else f"{b} {fmt.MISSING}" for b in ("cut", "hold", "hike"))
        )
        change = v.month_change_pt.get("cut")
        if change is not None:
            out.append(f" ({change:+.0f}pt 1m)", style="dim")  # the cut odds, a month ago; short: 114 columns fit it
        if v.stale:
            out.append(" STALE", style=f"{pal.stale} bold")
    for venue in fed.unlisted:
        out.append(f" · {venue.capitalize()} no market listed yet", style="dim")
    return out
