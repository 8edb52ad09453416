"""The dashboard panes. Each takes a frozen view and repaints only what would be drawn differently
(tui/paint.py: Textual re-sends a widget's whole region on refresh and has no character diff, so "compare
what is drawn before you write" is how flowtape stays cheap over SSH).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

if TYPE_CHECKING:
    from analytics.dashboard import AssetView
    from analytics.history import TapeHistory

from common.records import ATTRIBUTION

from . import format as fmt
from .paint import title_if_changed, update_if_changed
from .tape_input import Mode, TapeInput, parse_day
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


CellSig = tuple[str, str, tuple[object, ...]]
Grid = tuple[tuple[tuple[str, Text], ...], tuple[tuple[str, tuple[Text, ...]], ...], int]  # columns, rows, fixed rows
ORIGIN_MARK = "°"  # a tape value from a source other than Farside (legend under the table)
WARN_MARK = "!"  # another source disagrees with the value shown beyond the [flows] tolerance
CHART_MIN_HEIGHT = 30  # the maximized tape shows its cumulative chart from this pane height (rows) up


def _sig(cell: Text) -> CellSig:
    """What a cell draws: two equal signatures paint the same characters."""
    return cell.plain, str(cell.style), tuple(cell.spans)


class TapeTable(DataTable):
    """The flow tape grid: Date and Total pinned left while the funds scroll. Enter maximizes.

    Compact (no cursor): Left/Right scroll when the table is wider than the pane, otherwise they step the as-of
    date like everywhere else. Maximized (a cell cursor, every stored session): Left/Right move between columns
    and step the date only past the first / last column; Home/End go to the first / latest session."""

    BINDINGS = [
        Binding("enter", "screen.toggle_maximize", show=False),
        Binding("g", "open_input('jump')", "Jump to date", show=False),
        Binding("slash", "open_input('filter')", "Filter", show=False),
        Binding("home", "session_edge(-1)", show=False),
        Binding("end", "session_edge(1)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(cursor_type="none", zebra_stripes=False, show_cursor=False, fixed_columns=2, id="tape-table")
        self.cell_updates = 0  # cells repainted alone
        self.rebuilds = 0  # whole-table rebuilds (structure changed)

    def set_cell(self, row_key: str, column_key: str, value: Text) -> None:
        """update_cell, repainting that cell's region alone (update_cell itself refreshes the whole table, which
        re-sends every line of it). A value wider than its column needs the column resized: a full repaint."""
        column = self.columns[ColumnKey(column_key)]
        if value.cell_len > column.content_width:
            self.update_cell(row_key, column_key, value, update_width=True)
        else:
            self.refresh = lambda *a, **k: self  # type: ignore[method-assign]  # the region refresh below instead
            try:
                self.update_cell(row_key, column_key, value)
            finally:
                del self.refresh
            self.refresh_coordinate(self.get_cell_coordinate(row_key, column_key))
        self.cell_updates += 1

    @property
    def browsing(self) -> bool:
        return self.cursor_type == "cell"

    # Textual awaits an action that is a coroutine; DataTable declares these sync, hence the override ignores.
    async def action_cursor_left(self) -> None:  # type: ignore[override]
        if self.browsing and self.cursor_column > 0:
            super().action_cursor_left()
            self.call_after_refresh(self._snap_to_column)
        elif not self.browsing and self.scroll_x > 0:
            self._scroll_by_column(-1)
        else:
            await self.run_action("screen.step_as_of(-1)")

    async def action_cursor_right(self) -> None:  # type: ignore[override]
        if self.browsing and self.cursor_column < len(self.columns) - 1:
            super().action_cursor_right()
            self.call_after_refresh(self._snap_to_column)
        elif not self.browsing and self.scroll_x < self.max_scroll_x:
            self._scroll_by_column(1)
        else:
            await self.run_action("screen.step_as_of(1)")

    def _column_edges(self) -> list[int]:
        """The scroll_x values that put a whole column right after the pinned ones (never half a column)."""
        widths = [c.get_render_width(self) for c in self.ordered_columns]
        pinned = sum(widths[: self.fixed_columns])
        starts = [sum(widths[:i]) for i in range(len(widths))]
        return [x - pinned for x in starts[self.fixed_columns :]]

    def _scroll_by_column(self, direction: int) -> None:
        edges = self._column_edges()
        if direction > 0:
            x = next((e for e in edges if e > self.scroll_x), self.max_scroll_x)
        else:
            x = max((e for e in edges if e < self.scroll_x), default=0)
        self.scroll_to(x=min(x, self.max_scroll_x), animate=False)

    def _snap_to_column(self) -> None:
        """After the cursor scrolled the funds, show whole columns (the cursor cell stays in view)."""
        x = next((e for e in self._column_edges() if e >= self.scroll_x), self.max_scroll_x)
        self.scroll_to(x=min(x, self.max_scroll_x), animate=False)

    def action_session_edge(self, direction: int) -> None:
        if not self.browsing:
            self.action_scroll_home() if direction < 0 else self.action_scroll_end()
        elif self.row_count:
            self.move_cursor(row=self.fixed_rows if direction < 0 else self.row_count - 1)

    async def action_open_input(self, mode: str) -> None:
        pane = cast(FlowTapePane, self.parent)
        if not pane.has_class("-maximized"):  # the history lives in the maximized tape
            await self.run_action("screen.toggle_maximize")
        pane.open_input(mode)


class FlowTapePane(Pane, can_focus=False):
    """Its table takes the focus (so the pane needs none of its own).

    Compact: the last sessions of the view (as before). Maximized: every stored session up to the as-of date
    (view.history), the cumulative and month-to-date rows pinned on top, `g` jump, `/` filter, and the
    cumulative-flow chart (all funds and the fund under the cursor) when the pane is tall enough.
    Repaints only what changed: same columns and rows means only the changed cells are updated."""

    DEFAULT_CSS = """
    FlowTapePane #tape-chart { display: none; height: 14; }
    FlowTapePane.-maximized.-tall #tape-chart { display: block; }
    """

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(title, id=id)
        self._view: AssetView | None = None
        self._filter = ""
        self._browsing = False
        self._structure: tuple[object, ...] = ((), (), 0)  # what the table holds: column sigs, row keys, fixed rows
        self._cells: dict[tuple[str, str], CellSig] = {}
        self._caption: CellSig | None = None
        self._fund: str | None = None  # the fund column under the cursor (the chart's second line)

    def compose(self) -> ComposeResult:
        yield TapeTable()
        yield TapeInput()
        yield Static("", id="tape-caption")

    def on_mount(self) -> None:
        self.watch(self.screen, "maximized", self._on_maximized, init=False)

    @property
    def table(self) -> TapeTable:
        return self.query_one(TapeTable)

    def show(self, view: AssetView | None) -> None:
        if not self.changed(view):
            return
        self._view = view
        title = f"1 Flow tape · {view.asset.upper() if view else ''} spot ETFs, US$m"
        if self.border_title != title:
            self.border_title = title
        self._draw()

    # ---- maximize: the history ------------------------------------------------------------------
    def _on_maximized(self, maximized: object) -> None:
        browsing = maximized is self
        if browsing == self._browsing:
            return
        self._browsing = browsing
        table = self.table
        if browsing:
            table.styles.height = "1fr"  # inline: the compact rule (height auto, capped) must not apply here
            table.cursor_type, table.show_cursor = "cell", True
        else:
            table.styles.clear_rule("height")
            table.cursor_type, table.show_cursor = "none", False
            self._filter = ""
            self.query_one(TapeInput).close_quietly()
        self._draw()
        if browsing and table.row_count:
            table.move_cursor(row=table.row_count - 1, column=1)  # the latest session's total
        self._fit_chart()

    def on_resize(self) -> None:
        self._fit_chart()

    def _fit_chart(self) -> None:
        tall = self._browsing and self.size.height >= CHART_MIN_HEIGHT
        if tall != self.has_class("-tall"):
            self.set_class(tall, "-tall")
            self._set_caption(self._caption_text(self._view))  # it says where the chart is
        if tall:
            from .charts import CumulativeChart  # plotext loads only when someone expands the tape

            charts = self.query(CumulativeChart)
            if not charts:
                self.mount(CumulativeChart(), before=self.query_one("#tape-caption"))
            self._show_chart()

    def _show_chart(self) -> None:
        from .charts import CumulativeChart

        charts = self.query(CumulativeChart)
        if charts and self.has_class("-tall"):
            view = self._view
            charts.first().show(view.history if view else None, self._fund)

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        key = event.cell_key.column_key.value or ""
        fund = key[2:] if key.startswith("f:") else None
        if fund != self._fund:
            self._fund = fund
            self._show_chart()

    def open_input(self, mode: str) -> None:
        self.query_one(TapeInput).open(cast(Mode, mode), self._filter if mode == "filter" else "")

    def on_tape_input_filtered(self, event: TapeInput.Filtered) -> None:
        self._filter = event.text.strip()
        self._draw()

    def on_tape_input_closed(self, event: TapeInput.Closed) -> None:
        table = self.table
        table.focus()
        if event.mode == "filter":
            self._filter = event.text.strip()
            self._draw()
        elif event.submitted and event.text.strip():
            days = parse_day(event.text)
            if days is None:
                self.notify(f"not a date: {fmt.safe(event.text, max_len=30).plain}", severity="warning")
            elif not self.jump_to(*days):
                self.notify("no session shown to jump to", severity="warning")

    def jump_to(self, first: dt.date, last: dt.date) -> bool:
        """The cursor to the first session shown between `first` and `last`, else the last one before `first`
        (else the first shown): a date without a session lands on the one before it."""
        table = self.table
        keys = [str(r.key.value) for r in table.ordered_rows][table.fixed_rows :]
        if not keys:
            return False
        start, end = first.isoformat(), last.isoformat()
        inside = [i for i, k in enumerate(keys) if start <= k <= end]
        earlier = [i for i, k in enumerate(keys) if k < start]
        index = inside[0] if inside else earlier[-1] if earlier else 0
        table.move_cursor(row=table.fixed_rows + index, scroll=True)
        return True

    # ---- drawing --------------------------------------------------------------------------------
    def _draw(self) -> None:
        view = self._view
        with self.app.batch_update():
            if self._browsing and view is not None and view.history is not None:
                self._apply(self._history_grid(view))
            else:
                self._apply(self._compact_grid(view))
            self._set_caption(self._caption_text(view))
            self._show_chart()

    @staticmethod
    def _date_cell(day: dt.date, provisional: bool) -> Text:
        return Text(fmt.date(day) + ("*" if provisional else " "), style=palette().provisional if provisional else "")

    @staticmethod
    def _fund_cell(view: AssetView, fund: str, value: float | None, day: dt.date, provisional: bool, awaited: bool) -> Text:
        rec = view.report.fund_records.get(fund)
        is_record = bool(
            rec
            and value is not None
            and not provisional
            and ((rec.max_outflow and rec.max_outflow.date == day) or (rec.max_inflow and rec.max_inflow.date == day))
        )
        pal = palette()
        return fmt.flow(value, record=is_record, missing_style=pal.provisional if awaited else pal.missing)

    @staticmethod
    def _columns(funds: tuple[str, ...]) -> tuple[tuple[str, Text], ...]:
        head = (("date", Text("Date")), ("total", Text("Total", style="bold")))
        return head + tuple((f"f:{f}", fmt.safe(f, max_len=8)) for f in funds)

    @staticmethod
    def _marked(cell: Text, origin: str | None, disputed: bool) -> Text:
        """A value from a source other than Farside gets ORIGIN_MARK, one another source disagrees with WARN_MARK."""
        if origin is None and not disputed:
            return cell
        pal = palette()
        out = cell.copy()
        if origin is not None:
            out.append(ORIGIN_MARK, style=pal.stale)
        if disputed:
            out.append(WARN_MARK, style=pal.warn)
        return out

    def _compact_grid(self, view: AssetView | None) -> Grid:
        if view is None or not view.tape:
            return (), (), 0
        rows = tuple(
            (
                row.date.isoformat(),
                (
                    self._date_cell(row.date, row.provisional),
                    self._marked(fmt.flow(row.total, bold=True), row.total_origin, False),
                    *(
                        self._marked(
                            self._fund_cell(view, f, v, row.date, row.provisional, f in row.missing),
                            row.origins[i] if row.origins else None,
                            bool(row.disputed and row.disputed[i]),
                        )
                        for i, (f, v) in enumerate(zip(view.funds, row.funds, strict=True))
                    ),
                ),
            )
            for row in view.tape
        )
        return self._columns(view.funds), rows, 0

    def _history_grid(self, view: AssetView) -> Grid:
        history = cast("TapeHistory", view.history)
        shown = tuple(range(len(history.funds)))
        rows = history.rows
        query = self._filter.lower()
        if query:
            matching = tuple(i for i, f in enumerate(history.funds) if query in f.lower())
            if matching:  # a fund name: those columns; otherwise the sessions whose date reads that way
                shown = matching
            else:
                rows = tuple(r for r in rows if query in f"{r.date:%Y-%m-%d %d %b %Y %a}".lower())
        funds = tuple(history.funds[i] for i in shown)
        totals = tuple(
            (
                key,
                (
                    Text(t.label, style="bold"),
                    fmt.flow(t.total, bold=True),
                    *(fmt.flow(t.funds[i], bold=True) for i in shown),
                ),
            )
            for key, t in (("cumulative", history.cumulative), ("mtd", history.month_to_date))
        )
        body = tuple(
            (
                r.date.isoformat(),
                (
                    self._date_cell(r.date, r.provisional),
                    fmt.flow(r.total, bold=True),
                    *(self._fund_cell(view, history.funds[i], r.funds[i], r.date, r.provisional, r.provisional) for i in shown),
                ),
            )
            for r in rows
        )
        return self._columns(funds), totals + body, len(totals)

    def _apply(self, grid: Grid) -> None:
        """Update the changed cells when the columns and rows are the same; rebuild otherwise."""
        columns, rows, fixed = grid
        table = self.table
        structure = (tuple((k, _sig(label)) for k, label in columns), tuple(k for k, _ in rows), fixed)
        if structure == self._structure:
            for row_key, cells in rows:
                for (column_key, _), cell in zip(columns, cells, strict=True):
                    sig = _sig(cell)
                    if self._cells.get((row_key, column_key)) != sig:
                        table.set_cell(row_key, column_key, cell)
                        self._cells[row_key, column_key] = sig
            return
        keep_row = keep_column = None
        if table.browsing and table.row_count:
            at = table.coordinate_to_cell_key(table.cursor_coordinate)
            keep_row, keep_column = at.row_key.value, at.column_key.value
        table.clear(columns=True)
        table.fixed_rows = fixed
        for key, label in columns:
            table.add_column(label, key=key)
        for key, cells in rows:
            table.add_row(*cells, key=key)
        # DataTable measures the new columns on idle without invalidating the lines it drew meanwhile: the pinned
        # rows kept the old widths after a filter. Drop those lines once measured.
        table.call_after_refresh(table._clear_caches)
        self._structure = structure
        self._cells = {(r, c): _sig(cell) for r, cells in rows for (c, _), cell in zip(columns, cells, strict=True)}
        table.rebuilds += 1
        if table.browsing and rows:
            row_keys, column_keys = structure[1], [k for k, _ in columns]
            row = row_keys.index(keep_row) if keep_row in row_keys else len(rows) - 1
            column = column_keys.index(keep_column) if keep_column in column_keys else min(1, len(columns) - 1)
            table.move_cursor(row=row, column=column, scroll=True)

    def _set_caption(self, text: Text) -> None:
        sig = _sig(text)
        if sig != self._caption:
            self._caption = sig
            self.query_one("#tape-caption", Static).update(text)

    def _caption_text(self, view: AssetView | None) -> Text:
        if view is None or not view.tape:
            return Text("No sessions stored yet for this asset.", style="dim")
        out, pal = Text(), palette()
        if self._browsing and view.history is not None:
            h = view.history
            first = fmt.date(h.rows[0].date) if h.rows else fmt.MISSING
            left = h.cumulative.provisional_left_out
            out.append(f"{fmt.plural(len(h.rows), 'session')} from {first}", style="bold")
            out.append(" · totals: complete sessions" + (f" ({left} provisional* out)" if left else ""), style="dim")
            if self._filter:
                out.append(f"\nfilter '{fmt.safe(self._filter, max_len=20).plain}': / edits, Esc clears", style=pal.warn)
                out.append(" · g date  PgUp/PgDn  Home/End · Source: Farside", style="dim")
            else:
                out.append("\ng date  / filter  PgUp/PgDn  Home/End", style="bold dim")
                out.append(f"  {fmt.OUT}out {fmt.IN}in {fmt.RECORD}record · Source: Farside", style="dim")
            if not self.has_class("-tall"):
                out.append(f"\ncumulative-flow chart below the tape from {CHART_MIN_HEIGHT} rows", style="dim")
            return out
        else:
            last = view.tape[-1]
            if last.provisional:
                out.append(f"* {fmt.date(last.date)} is provisional: ", style=pal.provisional)
                out.append("awaiting " + ", ".join(fmt.safe(f, max_len=8).plain for f in last.missing), style=pal.provisional)
                out.append(" · ")
            marked = {o for r in view.tape for o in (*r.origins, r.total_origin) if o}
            if marked or any(any(r.disputed) for r in view.tape):
                from analytics.preferred import name as source_name  # polars is loaded by then

                names = ", ".join(sorted(source_name(o) for o in marked))
                out.append(f"{ORIGIN_MARK} from {names}  " if names else "", style=pal.stale)
                out.append(f"{WARN_MARK} sources disagree  " if view.disagreements else "", style=pal.warn)
                out.append(f"series: {view.series}\n", style="dim")
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
    RecordsPane #records-text { min-height: 8; }  /* its usual lines, before the figures arrive */
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
        for fund, _kind, day_rec in hits[:1]:  # the newest, biggest; one line at half of 120 columns
            out.append(f"{fmt.safe(fund, max_len=8).plain} ")
            out.append_text(fmt.flow(day_rec.usd_m))
            out.append(f" {fmt.date(day_rec.date)}")
        if len(hits) > 1:
            out.append(f" +{len(hits) - 1}", style="dim")
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
            out.append(" · all ")  # BTC+ETH+SOL together (glossary: Week); short, so a 120-column half fits it
            out.append_text(fmt.flow(combined))
            out.append("\n")
        out.append("Cumulative since launch: ")
        out.append_text(fmt.flow(r.cumulative_usd_m))
        return out
