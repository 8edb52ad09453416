"""The tape's full history from hand-made rows: totals rows, missing values, provisional sessions, chart series."""

from __future__ import annotations

import datetime as dt

from analytics.frames import frames_from_rows
from analytics.history import tape_history

D = dt.date
TODAY = D(2025, 11, 30)


def frames(rows: list[tuple[str, dict[str, float | None], float | None, bool]], funds=("IBIT", "FBTC", "GBTC")):
    """rows: (date, {fund: usd_m or None}, total, provisional); a fund absent from the dict has no stored row."""
    sessions = [("btc", d, total, prov) for d, _, total, prov in rows]
    flows = [("btc", d, f, v) for d, values, _, _ in rows for f, v in values.items()]
    return frames_from_rows("btc", list(funds), sessions, flows, today=TODAY)


ROWS = [
    ("2025-10-30", {"IBIT": 100.0, "FBTC": -20.0, "GBTC": None}, 80.0, False),
    ("2025-10-31", {"IBIT": -50.0, "FBTC": None, "GBTC": -10.0}, -60.0, False),
    ("2025-11-03", {"IBIT": 30.5, "FBTC": 5.2, "GBTC": None}, 35.7, False),
    ("2025-11-04", {"IBIT": None, "FBTC": 7.0, "GBTC": None}, 7.0, True),  # provisional: IBIT not in yet
]


def test_cumulative_and_month_totals_count_complete_sessions_only():
    h = tape_history(frames(ROWS), D(2025, 11, 4))
    assert h.funds == ("IBIT", "FBTC", "GBTC")
    assert [r.date for r in h.rows] == [D(2025, 10, 30), D(2025, 10, 31), D(2025, 11, 3), D(2025, 11, 4)]
    assert h.cumulative.funds == (80.5, -14.8, -10.0) and h.cumulative.total == 55.7
    assert (h.cumulative.sessions, h.cumulative.provisional_left_out) == (3, 1)
    # November: GBTC reported nothing in the counted sessions: missing, not 0.
    assert h.month_to_date.label == "Nov 2025 MTD"
    assert h.month_to_date.funds == (30.5, 5.2, None) and h.month_to_date.total == 35.7
    assert (h.month_to_date.sessions, h.month_to_date.provisional_left_out) == (1, 1)


def test_missing_values_stay_missing_and_provisional_sessions_are_marked():
    h = tape_history(frames(ROWS), D(2025, 11, 4))
    assert h.rows[0].funds == (100.0, -20.0, None)
    assert [r.provisional for r in h.rows] == [False, False, False, True]
    blank = [*ROWS[:3], ("2025-11-04", {"IBIT": None, "FBTC": None, "GBTC": None}, 0.0, True)]
    assert tape_history(frames(blank), D(2025, 11, 4)).rows[-1].total is None  # Farside's 0.0 before anyone reports


def test_a_month_with_no_complete_session_totals_none():
    h = tape_history(frames(ROWS[:2] + ROWS[3:]), D(2025, 11, 4))
    assert h.month_to_date.funds == (None, None, None) and h.month_to_date.total is None
    assert h.month_to_date.sessions == 0


def test_as_of_cuts_the_history_and_funds_without_values_get_no_column():
    h = tape_history(frames(ROWS, funds=("IBIT", "FBTC", "GBTC", "NEWF")), D(2025, 10, 31))
    assert [r.date for r in h.rows] == [D(2025, 10, 30), D(2025, 10, 31)]
    assert h.funds == ("IBIT", "FBTC", "GBTC")
    assert h.month_to_date.label == "Oct 2025 MTD" and h.month_to_date.total == 20.0


def test_cumulative_series_per_fund_starts_at_its_first_value_and_carries_over_gaps():
    h = tape_history(frames(ROWS), D(2025, 11, 4))
    s = h.series
    assert s.dates == (D(2025, 10, 30), D(2025, 10, 31), D(2025, 11, 3))  # the provisional session is not a point
    assert s.total == (80.0, 20.0, 55.7)
    assert s.by_fund[1] == (-20.0, -20.0, -14.8)  # FBTC's `-` on 31 Oct adds nothing
    assert s.by_fund[2] == (None, -10.0, -10.0)  # GBTC before its first value: no point
    assert h.fund_series("GBTC") == ((D(2025, 10, 31), -10.0), (D(2025, 11, 3), -10.0))


def test_empty_history():
    h = tape_history(frames([]), D(2025, 11, 4))
    assert h.rows == () and h.funds == ()
    assert h.cumulative.total is None and h.series.dates == ()


def test_cumulative_chart_series_is_the_history_on_a_date_axis():
    from tui.charts import cumulative_series

    h = tape_history(frames(ROWS), D(2025, 11, 4))
    all_only = cumulative_series(h, None)
    assert all_only is not None and [line.label for line in all_only.lines] == ["All funds"]
    assert all_only.lines[0].ys == (80.0, 20.0, 55.7)
    assert all_only.lines[0].xs == tuple(d.toordinal() for d in h.series.dates)  # real time: gaps stay gaps
    assert all_only.labels == ("30 Oct 25", "31 Oct 25", "03 Nov 25")
    with_fund = cumulative_series(h, "GBTC")
    assert with_fund is not None and with_fund.lines[1].label == "GBTC"
    assert with_fund.lines[1].ys == (-10.0, -10.0) and with_fund.lines[1].xs[0] == D(2025, 10, 31).toordinal()
    assert cumulative_series(h, "NOPE") == all_only  # the cursor on Date/Total or an unknown column
    assert cumulative_series(tape_history(frames([]), D(2025, 11, 4)), None) is None


def test_monthly_chart_series_labels_months_and_draws_both_records():
    from analytics.flows import MonthRecord
    from tui.charts import MAX_TICKS, monthly_series

    monthly = tuple((f"{2024 + i // 12}-{i % 12 + 1:02d}", float(i - 10)) for i in range(20))
    m = monthly_series(monthly, MonthRecord("2024-01", -10.0), MonthRecord("2025-08", 9.0))
    assert m.values == tuple(v for _, v in monthly)
    assert len(m.ticks) == MAX_TICKS and m.ticks[0] == 0 and m.ticks[-1] == 19
    assert m.labels[0] == "Jan 24" and m.labels[-1] == "Aug 25"
    from tui.theme import chart_color, palette

    pal = palette()  # the theme's outflow and inflow colours, not literal red and green
    assert [(v, c) for _, v, c in m.records] == [(-10.0, chart_color(pal.outflow)), (9.0, chart_color(pal.inflow))]
    assert "Jan 2024" in m.records[0][0]
    assert monthly_series(monthly[:3], None, None).records == ()


def test_cumulative_chart_ticks_are_spread_in_time():
    from tui.charts import MAX_TICKS, cumulative_series

    rows = [(f"2025-{m:02d}-{d:02d}", {"IBIT": 1.0}, 1.0, False) for m in (1, 2, 3) for d in (6, 7, 8, 9, 10)]
    series = cumulative_series(tape_history(frames(rows), D(2025, 3, 31)), None)
    assert series is not None and len(series.ticks) == MAX_TICKS
    assert series.labels[0] == "06 Jan 25" and series.labels[-1] == "10 Mar 25"
    gaps = {b - a for a, b in zip(series.ticks, series.ticks[1:], strict=False)}
    assert max(gaps) - min(gaps) <= 1  # even in days, not in sessions (sessions bunch in 5-day weeks here)


def test_derivatives_chart_axis_is_labelled_with_the_hours_of_its_points():
    import datetime as dt

    from tui.charts import hour_ticks

    times = tuple(dt.datetime(2025, 11, 20, tzinfo=dt.UTC) + dt.timedelta(hours=h) for h in range(100))
    at, labels = hour_ticks(times, 100)
    assert at[0] == 0 and at[-1] == 99
    assert labels[0] == "20 Nov 00h" and labels[-1] == "24 Nov 03h"  # dates, not "oldest ... now"
