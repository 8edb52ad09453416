"""The flow tape as a trader scrolls it: pinned Date and Total, the maximized history (page, home/end, jump,
filter), the cumulative chart following the cursor, and repaints of only what changed. Pilot tests, no network."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.dashboard_fixtures import make_app
from tui.panes import FlowTapePane, TapeTable

D = dt.date
SIZES = [(120, 40), (80, 24)]


async def started(app, pilot):
    await pilot.pause()
    await app.settle()
    await pilot.pause()


def header(table: TapeTable) -> str:
    return table.render_line(0).text


def cursor_key(table: TapeTable) -> tuple[str, str]:
    at = table.coordinate_to_cell_key(table.cursor_coordinate)
    return str(at.row_key.value), str(at.column_key.value)


async def maximized(app, pilot) -> TapeTable:
    await started(app, pilot)
    await pilot.press("1", "enter")
    await pilot.pause()
    assert isinstance(app.screen.maximized, FlowTapePane)
    return app.query_one(TapeTable)


async def test_compact_tape_at_80x24_pins_date_and_total_while_funds_scroll(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        table = app.query_one(TapeTable)
        assert [str(k.value) for k in table.columns][:2] == ["date", "total"] and table.fixed_columns == 2
        assert table.row_count == 10 and table.max_scroll_x > 0
        await pilot.press("1", "right", "right", "right")
        await pilot.pause()
        assert app.as_of_pinned is None  # wider than the pane: Right scrolls, time stays
        assert table.scroll_x > 0
        line = header(table)
        assert "Date" in line and "Total" in line and "IBIT" not in line  # IBIT scrolled away, the pins stayed
        await pilot.press("left", "left", "left")
        assert table.scroll_x == 0 and app.as_of_pinned is None
        await pilot.press("left")  # at the left edge Left steps time, as before
        await app.settle()
        assert app.effective_as_of() == D(2025, 11, 21)


@pytest.mark.parametrize("size", SIZES)
async def test_maximized_tape_holds_every_session_and_pages(store, size):
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        table = await maximized(app, pilot)
        sessions = len(store.sessions("btc"))
        assert table.row_count == sessions + 2 and table.fixed_rows == 2  # cumulative and MTD rows pinned
        assert cursor_key(table) == ("2025-11-24", "total")  # the latest session
        assert "Cumulative" in str(table.get_row_at(0)[0]) and "Nov 2025 MTD" in str(table.get_row_at(1)[0])
        await pilot.press("pageup")
        paged = table.cursor_row
        assert paged < sessions + 1
        await pilot.press("home")
        assert table.cursor_row == 2 and cursor_key(table)[0] == "2024-01-11"  # the first stored session
        await pilot.press("pagedown")
        assert table.cursor_row > 2
        await pilot.press("end")
        assert cursor_key(table)[0] == "2025-11-24"
        for _ in range(12):  # across every fund column: the pins stay on screen
            await pilot.press("right")
        await pilot.pause()
        line = header(table)
        assert line.lstrip().startswith("Date") and "Total" in line
        assert cursor_key(table)[1] == str(table.ordered_columns[-1].key.value)
        assert app.as_of_pinned is None  # moving between columns is not time travel
        await pilot.press("m")
        assert app.screen.maximized is None and table.row_count == 10 and table.cursor_type == "none"


@pytest.mark.parametrize("size", SIZES)
async def test_jump_to_a_date(store, size):
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        table = await maximized(app, pilot)
        await pilot.press("g", *"2025-02-05", "enter")
        assert cursor_key(table)[0] == "2025-02-05" and app.focused is table
        await pilot.press("g", *"8 Feb 2025", "enter")  # a Saturday: the session before it
        assert cursor_key(table)[0] == "2025-02-07"
        await pilot.press("g", *"Nov 2025", "enter")  # a month: its first session
        assert cursor_key(table)[0] == "2025-11-03"
        await pilot.press("g", *"2024-06", "enter")  # a month the store has no session in: the one before
        assert cursor_key(table)[0] == "2024-01-11"
        await pilot.press("g", *"soon", "enter")  # not a date: the cursor stays, a notice says so
        await pilot.pause()
        assert cursor_key(table)[0] == "2024-01-11"
        assert any("not a date" in n.message for n in app._notifications)
        await pilot.press("g", "1", "escape")
        assert cursor_key(table)[0] == "2024-01-11" and app.focused is table


@pytest.mark.parametrize("size", SIZES)
async def test_filter_funds_or_dates_and_escape_clears(store, size):
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        table = await maximized(app, pilot)
        everything = table.row_count, len(table.columns)
        await pilot.press("slash", "i", "b")
        await pilot.pause()
        assert [str(k.value) for k in table.columns] == ["date", "total", "f:IBIT"]
        assert table.row_count == everything[0]
        assert "IBIT" in header(table) and "Date" in header(table)
        await pilot.press("enter")  # kept while browsing
        assert app.focused is table and len(table.columns) == 3
        await pilot.press("slash", "escape")  # Escape clears
        await pilot.pause()
        assert (table.row_count, len(table.columns)) == everything
        await pilot.press("slash", *"2025-02", "enter")
        await pilot.pause()
        dates = [str(r.key.value) for r in table.ordered_rows][2:]
        assert dates and all(d.startswith("2025-02") for d in dates)
        assert str(table.ordered_rows[0].key.value) == "cumulative"  # totals stay whatever the filter
        await pilot.press("m")  # restore: the compact tape, no filter
        assert table.row_count == 10 and len(table.columns) == everything[1]


async def test_filter_key_on_the_compact_tape_opens_the_history(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("1", "slash")
        await pilot.pause()
        assert isinstance(app.screen.maximized, FlowTapePane)
        assert app.focused.id == "tape-input"


async def test_cumulative_chart_follows_the_fund_under_the_cursor(store):
    from tui.charts import CumulativeChart

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await maximized(app, pilot)
        await pilot.pause()
        chart = app.query_one(CumulativeChart)
        assert chart.display and [line.label for line in chart._series.lines] == ["All funds"]
        await pilot.press("right")
        await pilot.pause()
        assert cursor_key(table)[1] == "f:IBIT"
        assert [line.label for line in chart._series.lines] == ["All funds", "IBIT"]
        replots = chart.replots
        await pilot.press("down", "up")  # same fund: no replot
        assert chart.replots == replots


async def test_small_maximized_tape_has_no_chart(store):
    from tui.charts import CumulativeChart

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await maximized(app, pilot)
        assert not app.query(CumulativeChart)
        assert "from 30 rows" in str(app.query_one("#tape-caption").render())


@pytest.mark.parametrize("maximize", [False, True])
async def test_unchanged_view_leaves_the_table_alone_and_one_changed_cell_updates_one_cell(store, maximize):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        if maximize:
            await pilot.press("1", "enter")
            await pilot.pause()
        pane, table = app.query_one(FlowTapePane), app.query_one(TapeTable)
        calls: list[str] = []
        for name in ("clear", "add_row", "add_column", "update_cell", "refresh_coordinate"):
            original = getattr(table, name)
            setattr(table, name, lambda *a, _n=name, _o=original, **k: (calls.append(_n), _o(*a, **k))[1])
        repaints: list[tuple] = []  # the pane's own (border and title): assigning a title repaints it, even unchanged
        pane_refresh = pane.refresh
        pane.refresh = lambda *a, **k: (repaints.append(a), pane_refresh(*a, **k))[1]
        view = app.views["btc"]
        pane.show(dataclasses.replace(view))  # equal but not the same object
        assert calls == [] and repaints == []
        # Farside revises one fund's figure on the latest session: the tape and the history carry it.
        last = view.tape[-1]
        i = view.funds.index("FBTC")
        changed = dataclasses.replace(
            view,
            tape=(*view.tape[:-1], dataclasses.replace(last, funds=(*last.funds[:i], 44.4, *last.funds[i + 1 :]))),
        )
        assert view.history is not None
        h_last = view.history.rows[-1]
        j = view.history.funds.index("FBTC")
        history = dataclasses.replace(
            view.history,
            rows=(
                *view.history.rows[:-1],
                dataclasses.replace(h_last, funds=(*h_last.funds[:j], 44.4, *h_last.funds[j + 1 :])),
            ),
        )
        pane.show(dataclasses.replace(changed, history=history))
        assert calls == ["update_cell", "refresh_coordinate"] and repaints == []
        assert "44.4" in str(table.get_cell("2025-11-24", "f:FBTC"))


async def test_palette_entries_open_the_jump_and_filter_inputs(store):
    from tui.commands import COMMANDS

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        jump = next(c for c in app.get_system_commands(app.screen) if c.title == "Jump to date")
        assert any(c.id == "tape-jump" and c.keys == "g" for c in COMMANDS)
        await jump.callback()
        await pilot.pause()
        assert isinstance(app.screen.maximized, FlowTapePane) and app.focused.id == "tape-input"
