"""The derivatives pane: Basis, Funding and Open interest tiles; maximized, the per-venue breakdown
and a plotext history chart. Stale venues are marked and never averaged in (analytics does that); each
tile names the venues its aggregate leaves out.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

if TYPE_CHECKING:
    from analytics.derivatives import Derivatives

from . import format as fmt
from .format import pct, usd_bn
from .paint import sparkline_if_changed, update_if_changed
from .panes import Pane
from .theme import palette

VENUE_NAMES = {
    "deribit": "Deribit",
    "binance": "Binance USD-M",
    "binance_coinm": "Binance COIN-M",
    "bybit": "Bybit",
    "okx": "OKX",
    "cme": "CME",
}
SPARK_POINTS = 48


def excluded(missing: tuple[str, ...], entries: dict, *, stale_shown: bool = False, unused: str = "unused") -> str:
    """'excl. bybit, okx (stale); binance (no data)': the venues an aggregate leaves out and why (its
    entry is stale; it has none; or it has a fresh one the aggregate cannot use, `unused`); '' when
    none. With `stale_shown` the stale ones are left to the tile's STALE line."""
    groups: dict[str, list[str]] = {"stale": [], unused: [], "no data": []}
    for venue in missing:
        entry = entries.get(venue)
        groups["no data" if entry is None else "stale" if entry.stale else unused].append(venue)
    if stale_shown:
        del groups["stale"]
    parts = [f"{', '.join(venues)} ({why})" for why, venues in groups.items() if venues]
    return f"excl. {'; '.join(parts)}" if parts else ""


class Tile(Vertical):
    """One headline number with its qualifier, change, sparkline and data age."""

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id, classes="tile")
        self.border_title = title

    def compose(self) -> ComposeResult:
        yield Static("", classes="tile-text")
        with Horizontal(classes="tile-foot"):
            yield Sparkline([], summary_function=max, classes="tile-spark")
            yield Static("", classes="tile-age")

    def show(self, text: Text, series: tuple[float, ...], age: str = "") -> bool:
        """True when anything on the tile is drawn differently. The data age has a widget of its own: its
        tick (every status refresh) repaints those few cells, not the tile."""
        painted = update_if_changed(self.query_one(".tile-text", Static), text)
        painted = update_if_changed(self.query_one(".tile-age", Static), Text(age, style="dim"), layout=False) or painted
        spark = self.query_one(Sparkline)
        if spark.display != (len(series) > 1):
            spark.display = len(series) > 1
            painted = True
        return sparkline_if_changed(spark, series[-SPARK_POINTS:]) or painted


class DerivativesPane(Pane):
    # Sized from the start (a tile's usual height: figure, change and age lines, a STALE or CME line, the
    # sparkline): the first figures then repaint the tiles alone, not every pane below them.
    DEFAULT_CSS = """
    DerivativesPane .tile { min-height: 7; }
    DerivativesPane .tile-foot { height: 1; }
    DerivativesPane .tile-spark { width: 1fr; }
    DerivativesPane .tile-age { width: 5; height: 1; text-align: right; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="tiles"):
            yield Tile("Basis 3m", id="tile-basis")
            yield Tile("Funding", id="tile-funding")
            yield Tile("OI offshore", id="tile-oi")
        yield Static("", id="deriv-breakdown")

    def show(self, d: Derivatives | None, now: dt.datetime) -> None:
        """Called on every status refresh (ages tick) and recompute: only what reads differently repaints."""
        breakdown = self.query_one("#deriv-breakdown", Static)
        if d is None or d.empty:
            for tile in self.query(Tile):
                if tile.show(Text("no venue data yet", style=palette().missing), ()):
                    self.renders += 1
            self.paint(breakdown, "")
            return
        for tile_id, text, series, age in (
            ("#tile-basis", self._basis(d), d.basis_history, self._fresh_age(d.basis, now)),
            ("#tile-funding", self._funding(d), d.funding_history, self._fresh_age(d.funding, now)),
            ("#tile-oi", self._oi(d, now), d.oi_history, ""),
        ):
            if self.query_one(tile_id, Tile).show(text, series, age):
                self.renders += 1
        self.paint(breakdown, self._breakdown(d, now))
        if self.has_class("-maximized"):
            self.show_chart(d)

    def show_chart(self, d: Derivatives | None) -> None:
        from .charts import DerivativesChart  # plotext loads only on expand

        charts = self.query(DerivativesChart)
        if charts:
            charts.first().show(d)
        else:
            self.mount(DerivativesChart(d))

    @staticmethod
    def _fresh_age(entries: dict, now: dt.datetime) -> str:
        """The age of the newest fresh venue's data (the tile's age widget)."""
        ts = [v.as_of for v in entries.values() if not v.stale]
        return fmt.age((now - max(ts)).total_seconds()) if ts else fmt.MISSING

    def _footer(self, out: Text, change: float | None, entries: dict, missing: tuple[str, ...], unused: str) -> Text:
        """24 h change, how many fresh venues (their data age is the tile's age widget), the stale ones by
        name, and any other venue the aggregate leaves out."""
        venues, pal = list(entries.values()), palette()
        out.append_text(fmt.change(change, "24h", unit="bp"))
        fresh = [v for v in venues if not v.stale]
        out.append(f" {len(fresh)}v", style="dim")
        stale = [v.venue for v in venues if v.stale]
        if stale:
            out.append(f"\nSTALE: {', '.join(stale)}", style=pal.stale)
        other = excluded(missing, entries, stale_shown=True, unused=unused)
        if other:
            out.append(f"\n{other}", style=pal.warn)
        return out

    def _basis(self, d: Derivatives) -> Text:
        out = Text()
        out.append(pct(d.headline_basis_pct), style="bold")
        out.append(
            f" {d.band or fmt.MISSING}\n",
            style=f"{palette().warn} bold" if d.band in ("compressed", "snapback", "backwardation") else "",
        )
        return self._footer(out, d.basis_change_24h_pt, d.basis, d.basis_missing, "unused")

    def _funding(self, d: Derivatives) -> Text:
        out = Text()
        out.append(pct(d.oi_weighted_funding_pct), style="bold")
        out.append(" ann. OI-wtd\n")
        return self._footer(out, d.funding_change_24h_pt, d.funding, d.funding_missing, "no OI to weigh by")

    def _oi(self, d: Derivatives, now: dt.datetime) -> Text:
        out, pal = Text(), palette()
        out.append(usd_bn(d.offshore_usd), style="bold")
        out.append(f" {d.trend}\n", style=pal.down if d.trend == "bleeding" else pal.up if d.trend == "rebuilding" else "dim")
        left_out = excluded(d.offshore_missing, d.open_interest)
        if left_out:  # the total and its changes are of the venues left
            out.append(f"{left_out}\n", style=pal.warn)
        out.append_text(fmt.change(d.change_24h_pct, "24h", unit="%"))
        out.append(" ")
        out.append_text(fmt.change(d.change_7d_pct, "7d", unit="%"))
        cme = d.open_interest.get("cme")
        out.append(f"\nCME {usd_bn(d.cme_usd)}")
        if cme and cme.btc:
            out.append(f" {fmt.age((now - cme.as_of).total_seconds())}", style="dim")
        return out

    @staticmethod
    def _breakdown(d: Derivatives, now: dt.datetime) -> Text:
        out, pal = Text(), palette()
        out.append(
            f"{'venue':<15}{'3m basis':>10}{'future':>17}{'days':>7}{'funding/ann.':>22}{'OI USD':>10}{'OI BTC':>11}  age\n",
            style="bold",
        )
        for venue in sorted(set(d.basis) | set(d.funding) | set(d.open_interest)):
            b, f, o = d.basis.get(venue), d.funding.get(venue), d.open_interest.get(venue)
            stale = any(x.stale for x in (b, f, o) if x)
            times = [x.as_of for x in (b, f, o) if x]
            out.append(f"{VENUE_NAMES.get(venue, venue):<15}", style=pal.stale if stale else "")
            out.append(
                f"{pct(b.annualized_pct) if b else fmt.MISSING:>10}{(b.instrument if b else fmt.MISSING):>17}"
                f"{(f'{b.days_to_expiry:.0f}' if b else fmt.MISSING):>7}"
            )
            fund = f"{f.rate * 100:.4f}%/{f.interval_hours:g}h {pct(f.annualized_pct)}" if f else fmt.MISSING
            out.append(
                f"{fund:>22}{usd_bn(o.usd) if o else fmt.MISSING:>10}{(f'{o.btc:,.0f}' if o and o.btc else fmt.MISSING):>11}"
            )
            out.append(f"  {fmt.age((now - max(times)).total_seconds()) if times else fmt.MISSING}")
            out.append(" STALE" if stale else "", style=f"{pal.stale} bold")
            out.append("\n")
        out.append("Constant-maturity 90d basis: ", style="dim")
        out.append(pct(d.constant_maturity_pct))
        out.append("  · derivatives figures are venue data, not Farside's", style="dim")
        return out
