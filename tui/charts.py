"""The expanded charts. The gauge (pane 2 maximized): monthly totals with the record months as lines, and the
month's daily totals. The tape (pane 1 maximized): the cumulative flow of all funds and of the fund under the
cursor. Time axes carry dates. Pure series builders (`*_series`) are tested apart from plotext.

Imported only when a chart is first shown (plotext costs start-up time). Replots only when the
series change (each replot is 5-80 ms and ~16 KB on the wire), using each widget's own `.plt`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual_plotext import PlotextPlot

if TYPE_CHECKING:
    from analytics.dashboard import AssetView
    from analytics.derivatives import Derivatives
    from analytics.flows import MonthRecord
    from analytics.history import TapeHistory

from . import format as fmt
from .theme import chart_color, palette

MAX_POINTS = 60  # bars beyond ~2x the width only cost bytes
MAX_TICKS = 6  # date labels on a time axis (more overlap at 80 columns)


def ticks(n: int, most: int = MAX_TICKS) -> list[int]:
    """Up to `most` indices spread over 0..n-1, first and last included."""
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


@dataclass(frozen=True)
class Line:
    label: str
    xs: tuple[int, ...]  # date ordinals: the axis is real time, so a gap in the sessions shows as one
    ys: tuple[float, ...]


@dataclass(frozen=True)
class CumulativeSeries:
    lines: tuple[Line, ...]  # all funds, then the focused fund (if any, on the right axis)
    ticks: tuple[int, ...]
    labels: tuple[str, ...]


def cumulative_series(history: TapeHistory | None, fund: str | None) -> CumulativeSeries | None:
    """The chart's data: all funds' cumulative net flow and the focused fund's, on a date axis."""
    if history is None or not history.series.dates:
        return None
    s = history.series
    lines = [Line("All funds", tuple(d.toordinal() for d in s.dates), s.total)]
    if fund is not None and fund in history.funds:
        points = history.fund_series(fund)
        if points:
            lines.append(Line(fund, tuple(d.toordinal() for d, _ in points), tuple(v for _, v in points)))
    first, last = s.dates[0].toordinal(), s.dates[-1].toordinal()
    if len(s.dates) <= MAX_TICKS:
        at = [d.toordinal() for d in s.dates]
    else:  # evenly spaced in time, so labels never crowd (plotext would drop some, not always the same)
        at = sorted({round(first + k * (last - first) / (MAX_TICKS - 1)) for k in range(MAX_TICKS)})
    return CumulativeSeries(tuple(lines), tuple(at), tuple(f"{dt.date.fromordinal(x):%d %b %y}" for x in at))


@dataclass(frozen=True)
class MonthlySeries:
    values: tuple[float, ...]
    ticks: tuple[int, ...]
    labels: tuple[str, ...]
    records: tuple[tuple[str, float, tuple[int, int, int] | str], ...]  # (label, US$m, colour): the record months drawn as lines


def monthly_series(
    monthly: tuple[tuple[str, float], ...], record_out: MonthRecord | None, record_in: MonthRecord | None
) -> MonthlySeries:
    shown = monthly[-MAX_POINTS:]
    at = ticks(len(shown))
    records = tuple(
        (f"record {kind} {fmt.month(r.month)} {fmt.usd_m(r.total_usd_m)}", r.total_usd_m, colour)
        for kind, r, colour in (
            ("outflow", record_out, chart_color(palette().outflow)),
            ("inflow", record_in, chart_color(palette().inflow)),
        )
        if r is not None
    )
    return MonthlySeries(
        tuple(v for _, v in shown), tuple(at), tuple(f"{fmt.month(shown[i][0])[:3]} {shown[i][0][2:4]}" for i in at), records
    )


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
            m = monthly_series(view.monthly, view.report.record_outflow_month, view.report.record_inflow_month)
            plt = monthly_plot.plt
            _signed_bars(plt, list(m.values))
            plt.xticks([float(i) for i in m.ticks], list(m.labels))
            for _label, value, colour in m.records:
                plt.hline(value, colour)
            lines = "; ".join(label for label, _, _ in m.records) or "no record month before this one"
            plt.title(f"{view.asset.upper()} monthly net flow, US$m (lines: {lines})")
        if view is not None and view.month_daily:
            plt = daily_plot.plt
            days = [d for d, _ in view.month_daily]
            values = [v for _, v in view.month_daily]
            _signed_bars(plt, values)
            at = ticks(len(days), 4)  # more crowd the half-width plot: plotext then drops labels, not always the same
            plt.xticks([float(i) for i in at], [f"{days[i]:%d %b}" for i in at])
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


def hour_ticks(times: tuple[dt.datetime, ...], n: int, most: int = 3) -> tuple[list[int], list[str]]:
    """Tick positions and their UTC date-hour labels ('24 Nov 14h') for an hourly series of n points; the
    positions alone when the times are not known (an older view)."""
    at = ticks(n, most)
    if len(times) != n:
        return at, [str(i) for i in at]
    return at, [f"{times[i]:%d %b %Hh}" for i in at]


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
        n = MAX_POINTS * 4
        series = None if d is None else (d.basis_history[-n:], d.oi_history[-n:], d.basis_times[-n:], d.oi_times[-n:])
        if series == self._series and self._palette == palette():
            return
        self._series, self._palette = series, palette()
        self.replots += 1
        basis, oi, basis_times, oi_times = series if series else ((), (), (), ())
        for plot_id, values, times, title in (
            ("#basis-plot", basis, basis_times, "3m basis, % annualized (hourly, UTC)"),
            ("#oi-plot", tuple(v / 1e9 for v in oi), oi_times, "Offshore OI, US$bn (hourly, UTC)"),
        ):
            plot = self.query_one(plot_id, PlotextPlot)
            plot.plt.clear_figure()
            if values:
                plot.plt.plot(list(range(len(values))), list(values), marker="braille")
                at, labels = hour_ticks(times, len(values))
                plot.plt.xticks([float(i) for i in at], labels)
            plot.plt.title(title if values else f"{title}: no history yet")
            plot.refresh()


class CumulativeChart(PlotextPlot):
    """The maximized tape's chart: cumulative net flow since the first stored session, all funds (left axis)
    and the fund under the cursor (right axis: one fund is a fraction of the total). Replots on change only."""

    def __init__(self) -> None:
        super().__init__(id="tape-chart")
        self._series: object = ()
        self.replots = 0

    def show(self, history: TapeHistory | None, fund: str | None) -> None:
        series = cumulative_series(history, fund)
        if series == self._series:
            return
        self._series = series
        self.replots += 1
        plt = self.plt
        plt.clear_figure()
        if series is None:
            plt.title("Cumulative net flow: no complete session yet")
        else:
            pal = palette()  # all funds in the inflow colour, the focused fund in the record colour
            colours = (chart_color(pal.inflow), chart_color(pal.record))
            for line, side, colour in zip(series.lines, ("left", "right"), colours, strict=False):
                plt.plot(list(line.xs), list(line.ys), marker="braille", color=colour, yside=side, label=line.label)
            plt.xticks([float(i) for i in series.ticks], list(series.labels))
            focus = f", {series.lines[1].label} right" if len(series.lines) > 1 else " (move to a fund column for its line)"
            plt.title(f"{history.asset.upper() if history else ''} cumulative net flow, US$m: all funds left{focus}")
        self.refresh()
