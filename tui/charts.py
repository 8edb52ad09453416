"""The gauge's expanded charts: monthly totals with the record line, and the month's daily totals.

Imported only when the gauge is first maximized (plotext costs start-up time). Replots only when the
series change (each replot is 5-80 ms and ~16 KB on the wire), using each widget's own `.plt`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual_plotext import PlotextPlot

if TYPE_CHECKING:
    from analytics.dashboard import AssetView
    from analytics.derivatives import Derivatives

from . import format as fmt
from .theme import chart_color, palette

MAX_POINTS = 60  # bars beyond ~2x the width only cost bytes


class MonthCharts(Horizontal):
    def __init__(self, view: AssetView | None) -> None:
        super().__init__(id="month-charts")
        self._series: object = None
        self._pending = view
        self._ready = False
        self.replots = 0

    def on_mount(self) -> None:
        self._ready = True  # children exist only once mounted
        self.show(self._pending)

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="monthly-plot")
        yield PlotextPlot(id="daily-plot")

    def show(self, view: AssetView | None) -> None:
        if not self._ready:
            self._pending = view
            return
        series = (
            None
            if view is None
            else (
                view.asset,
                view.monthly[-MAX_POINTS:],
                view.month_daily,
                view.report.record_outflow_month,
                view.report.record_inflow_month,
            )
        )
        key = series and (*series, palette())  # a theme switch replots in the new colours
        if key == self._series:
            return
        self._series = key
        self.replots += 1
        monthly_plot = self.query_one("#monthly-plot", PlotextPlot)
        daily_plot = self.query_one("#daily-plot", PlotextPlot)
        for plot in (monthly_plot, daily_plot):
            plot.plt.clear_figure()
            plot.plt.theme("clear")
        if view is None or not view.monthly:
            monthly_plot.plt.title("No monthly data")
        else:
            months = [m for m, _ in view.monthly[-MAX_POINTS:]]
            values = [v for _, v in view.monthly[-MAX_POINTS:]]
            plt = monthly_plot.plt
            _signed_bars(plt, values)
            plt.xticks(list(range(len(months))), [fmt.month(m) for m in months])
            rec = view.report.record_outflow_month
            if rec is not None:
                plt.hline(rec.total_usd_m, chart_color(palette().outflow))
            plt.title(f"{view.asset.upper()} monthly net flow, US$m (line: record outflow month)")
        if view is not None and view.month_daily:
            plt = daily_plot.plt
            days = [d for d, _ in view.month_daily]
            values = [v for _, v in view.month_daily]
            _signed_bars(plt, values)
            plt.xticks(list(range(len(days))), [f"{d:%d}" for d in days])
            plt.title(f"Daily totals, {view.month_daily[0][0]:%b %Y}, US$m")
        else:
            daily_plot.plt.title("No complete session this month")
        monthly_plot.refresh()
        daily_plot.refresh()


def _signed_bars(plt, values: list[float]) -> None:
    """Inflows and outflows in the theme's colours, as two series (plotext's per-bar colour lists are unreliable)."""
    pal = palette()
    for keep, color in ((lambda v: v >= 0, chart_color(pal.inflow)), (lambda v: v < 0, chart_color(pal.outflow))):
        xs = [i for i, v in enumerate(values) if keep(v)]
        if xs:
            plt.bar(xs, [values[i] for i in xs], color=color, width=0.6)


class DerivativesChart(Horizontal):
    """Hourly history: the 3-month basis and offshore open interest (replotted only on change)."""

    def __init__(self, d: Derivatives | None) -> None:
        super().__init__(id="deriv-chart")
        self._pending = d
        self._ready = False
        self._series: object = None
        self._palette: object = None
        self.replots = 0

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="basis-plot")
        yield PlotextPlot(id="oi-plot")

    def on_mount(self) -> None:
        self._ready = True
        self.show(self._pending)

    def show(self, d: Derivatives | None) -> None:
        if not self._ready:
            self._pending = d
            return
        series = None if d is None else (d.basis_history[-MAX_POINTS * 4 :], d.oi_history[-MAX_POINTS * 4 :])
        if series == self._series and self._palette == palette():
            return
        self._series, self._palette = series, palette()
        self.replots += 1
        for plot_id, values, title in (
            ("#basis-plot", series[0] if series else (), "3m basis, % annualized (hourly)"),
            ("#oi-plot", [v / 1e9 for v in series[1]] if series else (), "Offshore OI, US$bn (hourly)"),
        ):
            plot = self.query_one(plot_id, PlotextPlot)
            plot.plt.clear_figure()
            if values:
                plot.plt.plot(list(range(len(values))), list(values), marker="braille")
                plot.plt.xticks([0, len(values) - 1], ["oldest", "now"])
            plot.plt.title(title if values else f"{title}: no history yet")
            plot.refresh()
