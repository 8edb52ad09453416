"""The dashboard panes. Each takes a frozen view and repaints only what would be drawn differently
(tui/paint.py: Textual re-sends a widget's whole region on refresh and has no character diff, so "compare
what is drawn before you write" is how flowtape stays cheap over SSH).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from analytics.dashboard import AssetView

from common.records import ATTRIBUTION

from . import format as fmt
from .paint import title_if_changed, update_if_changed
from .theme import palette


class Pane(Vertical, can_focus=True):
    """A bordered, focusable, maximizable pane. `renders` counts real repaints (the repaint budget tests read it)."""

    ALLOW_MAXIMIZE = True

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id, classes="pane")
        self.border_title = title
        self.renders = 0
        self._shown: object = None

    def changed(self, key: object) -> bool:
        """For a pane drawn from one key in one go (the flow tape): True, counted, when `key` differs from the
        last one. Key it on what is drawn, never on view objects (their invisible float digits differ every poll)."""
        if key == self._shown:
            return False
        self._shown = key
        self.renders += 1
        return True

    def paint(self, widget: Static, content: Text | str, *, layout: bool = True) -> bool:
        """Update one of the pane's widgets when what it would draw changed (counted in `renders`)."""
        if not update_if_changed(widget, content, layout=layout):
            return False
        self.renders += 1
        return True

    def set_title(self, title: str) -> None:
        """The border title, reassigned only when its text changes."""
        title_if_changed(self, title)

    def mark_stale(self, note: str | None) -> None:
        subtitle = f"STALE: {note}" if note else ""
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle
            self.set_class(bool(note), "-stale")


class TapeTable(DataTable):
    """The flow tape grid. Enter maximizes; Left/Right scroll when the table is wider than the pane,
    otherwise they step the as-of date like everywhere else."""

    BINDINGS = [Binding("enter", "screen.toggle_maximize", show=False)]

    # Textual awaits an action that is a coroutine; DataTable declares these sync, hence the override ignores.
    async def action_cursor_left(self) -> None:  # type: ignore[override]
        if self.scroll_x > 0:
            self.scroll_relative(x=-8, animate=False)
        else:
            await self.run_action("screen.step_as_of(-1)")

    async def action_cursor_right(self) -> None:  # type: ignore[override]
        if self.scroll_x < self.max_scroll_x:
            self.scroll_relative(x=8, animate=False)
        else:
            await self.run_action("screen.step_as_of(1)")


class FlowTapePane(Pane, can_focus=False):
    """Its table takes the focus (so the pane needs none of its own)."""

    def compose(self) -> ComposeResult:
        table = TapeTable(cursor_type="none", zebra_stripes=False, show_cursor=False, id="tape-table")
        yield table
        yield Static("", id="tape-caption")

    def show(self, view: AssetView | None) -> None:
        if not self.changed(view):
            return
        table = self.query_one(TapeTable)
        caption = self.query_one("#tape-caption", Static)
        self.border_title = f"1 Flow tape · {view.asset.upper() if view else ''} spot ETFs, US$m"
        with self.app.batch_update():
            table.clear(columns=True)
            if view is None or not view.tape:
                caption.update(Text("No sessions stored yet for this asset.", style="dim"))
                return
            records = view.report.fund_records
            pal = palette()
            table.add_column("Date", key="date")
            for fund in view.funds:
                table.add_column(fmt.safe(fund, max_len=8), key=f"f:{fund}")
            table.add_column(Text("Total", style="bold"), key="total")
            for row in view.tape:
                label = fmt.date(row.date) + ("*" if row.provisional else " ")
                cells: list[Text] = [Text(label, style=pal.provisional if row.provisional else "")]
                for fund, value in zip(view.funds, row.funds, strict=True):
                    rec = records.get(fund)
                    is_record = bool(
                        rec
                        and value is not None
                        and not row.provisional
                        and (
                            (rec.max_outflow and rec.max_outflow.date == row.date)
                            or (rec.max_inflow and rec.max_inflow.date == row.date)
                        )
                    )
                    cells.append(
                        fmt.flow(value, record=is_record, missing_style=pal.provisional if fund in row.missing else None)
                    )
                cells.append(fmt.flow(row.total, bold=True))
                table.add_row(*cells, key=row.date.isoformat())
            caption.update(self._caption(view), layout=False)

    @staticmethod
    def _caption(view: AssetView) -> Text:
        last = view.tape[-1]
        out, pal = Text(), palette()
        if last.provisional:
            out.append(f"* {fmt.date(last.date)} is provisional: ", style=pal.provisional)
            out.append("awaiting " + ", ".join(fmt.safe(f, max_len=8).plain for f in last.missing), style=pal.provisional)
            out.append(" · ")
        out.append(
            f"{fmt.OUT} outflow  {fmt.IN} inflow  {fmt.RECORD} fund's record day  {fmt.MISSING} no data · {ATTRIBUTION}",
            style="dim",
        )
        return out


class GaugePane(Pane):
    """Month to date against the record month; maximized, it adds plotext charts (built lazily)."""

    def compose(self) -> ComposeResult:
        yield Static("", id="gauge-text")

    def show(self, view: AssetView | None) -> None:
        self.paint(self.query_one("#gauge-text", Static), self._text(view))
        if self.has_class("-maximized"):  # the charts compare their own series
            self.show_charts(view)

    def show_charts(self, view: AssetView | None) -> None:
        from .charts import MonthCharts  # plotext loads only when someone expands the gauge

        charts = self.query(MonthCharts)
        if charts:
            charts.first().show(view)
        else:
            self.mount(MonthCharts(view))

    @staticmethod
    def _text(view: AssetView | None) -> Text:
        if view is None:
            return Text("No data yet.", style="dim")
        r = view.report
        mtd = r.month_to_date
        out = Text()
        month, pal = fmt.month(mtd.month), palette()
        out.append(f"{month} to date  ", style="bold")
        if mtd.total_usd_m is None:
            out.append("no complete session yet", style="dim")
        else:
            out.append_text(fmt.flow(mtd.total_usd_m, bold=True))
            out.append(f"  ({fmt.plural(mtd.sessions, 'session')}, {mtd.sessions_left} left)")
        out.append("\n")
        outflow = mtd.total_usd_m is not None and mtd.total_usd_m < 0
        record = r.record_outflow_month if outflow or mtd.total_usd_m is None else r.record_inflow_month
        kind = "outflow" if record is r.record_outflow_month else "inflow"
        passed = r.mtd_passed_record_outflow if kind == "outflow" else r.mtd_passed_record_inflow
        if record is None:
            out.append(f"Record {kind} month: none before {month}\n", style="dim")
        else:
            out.append(f"Record {kind} month: {fmt.month(record.month)} ")
            out.append_text(fmt.flow(record.total_usd_m))
            out.append("\n")
            if mtd.total_usd_m is not None:
                share = mtd.total_usd_m / record.total_usd_m if record.total_usd_m else 0.0
                width = 24
                filled = max(0, min(width, int(width * share)))  # floor: 99% never looks full
                bar_style = f"{pal.outflow if kind == 'outflow' else pal.inflow} bold"
                out.append("█" * filled, style=bar_style)
                out.append("░" * (width - filled), style="dim")
                out.append(f" {share * 100:.0f}% of record\n")
                if passed:
                    beyond = abs(mtd.total_usd_m - record.total_usd_m)
                    out.append(f"NEW RECORD {kind.upper()} MONTH", style=f"{pal.record} reverse")
                    out.append(f" ({fmt.usd_m(beyond)} beyond {fmt.month(record.month)})\n")
        if mtd.projected_usd_m is not None:
            out.append("Projected month end at this pace: ", style="dim")
            out.append_text(fmt.flow(mtd.projected_usd_m))
            out.append(" (not data)", style="dim")
        return out


class RecordsPane(Pane):
    DEFAULT_CSS = """
    RecordsPane #records-text { min-height: 9; }  /* its usual lines, before the figures arrive */
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="records-text")

    def show(self, view: AssetView | None, weeks: tuple[float | None, float | None] | None) -> None:
        self.paint(self.query_one("#records-text", Static), self._text(view, weeks))

    @staticmethod
    def _text(view: AssetView | None, weeks) -> Text:
        if view is None:
            return Text("No data yet.", style="dim")
        r = view.report
        out, pal = Text(), palette()
        s = r.streak
        out.append("Streak: ", style="bold")
        if s.sessions == 0:
            out.append("no complete session", style="dim")
        else:
            style = pal.outflow if s.direction == "red" else pal.inflow if s.direction == "green" else pal.missing
            mark = fmt.OUT if s.direction == "red" else fmt.IN if s.direction == "green" else "="
            out.append(f"{mark} {s.direction} {fmt.plural(s.sessions, 'session')}", style=style)
            sized = s.red_at_size if s.direction == "red" else s.green_at_size
            out.append(f"  ({sized} in a row of {fmt.usd_m(s.size_usd_m)}+)", style="dim")
        out.append("\n")
        for label, rec, sets in (
            ("Record outflow day", r.record_outflow_day, r.latest_sets_record_outflow_day),
            ("Record inflow day ", r.record_inflow_day, r.latest_sets_record_inflow_day),
        ):
            out.append(f"{label}: ")
            if rec is None:
                out.append("none", style="dim")
            else:
                out.append_text(fmt.flow(rec.usd_m))
                out.append(f" {fmt.date(rec.date)}")
                if sets:
                    out.append(" ← latest session", style=f"{pal.record} reverse")
            out.append("\n")
        recent = {t.date for t in view.tape}
        hits = []
        for fund, fund_rec in r.fund_records.items():
            if fund_rec is None:
                continue
            for kind, day_rec in (("outflow", fund_rec.max_outflow), ("inflow", fund_rec.max_inflow)):
                if day_rec and day_rec.date in recent:
                    hits.append((fund, kind, day_rec))
        hits.sort(key=lambda h: (h[2].date, abs(h[2].usd_m)), reverse=True)  # newest, biggest first
        out.append(f"Fund records {fmt.RECORD} in tape: ")
        if not hits:
            out.append("none", style="dim")
        for i, (fund, _kind, day_rec) in enumerate(hits[:2]):
            out.append(", " if i else "")
            out.append(f"{fmt.safe(fund, max_len=8).plain} ")
            out.append_text(fmt.flow(day_rec.usd_m))
            out.append(f" {fmt.date(day_rec.date)}")
        if len(hits) > 2:
            out.append(f" +{len(hits) - 2}", style="dim")
        out.append("\n")
        shares = sorted(((f, p) for f, p in r.fund_share_mtd_pct.items() if p), key=lambda fp: -abs(fp[1]))[:4]
        out.append(f"Share of {fmt.month(r.month_to_date.month)}: ")
        out.append(
            ", ".join(f"{fmt.safe(f, max_len=8).plain} {p:.0f}%" for f, p in shares) or fmt.MISSING,
            style="" if shares else pal.missing,
        )
        out.append("\n")
        for label, week, combined in (
            ("This week", r.week_to_date, weeks[0] if weeks else None),
            ("Last week", r.last_week, weeks[1] if weeks else None),
        ):
            out.append(f"{label} {fmt.date(week.start)}: ")
            out.append_text(fmt.flow(week.total_usd_m))
            out.append(f" ({week.sessions}d)", style="dim")
            out.append(" · BTC+ETH+SOL ")
            out.append_text(fmt.flow(combined))
            out.append("\n")
        out.append("Cumulative since launch: ")
        out.append_text(fmt.flow(r.cumulative_usd_m))
        return out
