"""Flow analytics against published figures (demo/data/README.md lists them) and hand-checkable series."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.flows import asset_report
from analytics.frames import frames_from_rows
from common.calendar import month_trading_days
from demo import load_dataset

D = dt.date
SEED_WEEK = [
    (D(2025, 11, 3), -186.5),
    (D(2025, 11, 4), -566.4),
    (D(2025, 11, 5), -137.0),
    (D(2025, 11, 6), 239.9),
    (D(2025, 11, 7), -558.4),
]


def frames(series, asset="btc", provisional=(), funds=None):
    """Frames from (date, total[, {fund: value}]) tuples."""
    sessions, flows = [], []
    for item in series:
        day, total = item[0], item[1]
        per_fund = item[2] if len(item) > 2 else {"IBIT": total}
        sessions.append((asset, day.isoformat(), total, day in provisional))
        flows.extend((asset, day.isoformat(), f, v) for f, v in per_fund.items())
    names = funds or sorted({f for *_, f, _ in flows})
    return frames_from_rows(asset, names, sessions, flows)


def feb_2025():
    """Feb 2025 as published: -3,560.4 over 19 sessions, 25 Feb -1,113.7 (other days from the demo CSV)."""
    _, rows = load_dataset("btc")
    return [(d, t) for d, _, t in rows if d.year == 2025 and d.month == 2]


def test_published_feb_2025_shape():
    feb = feb_2025()
    assert len(feb) == 19 == len(month_trading_days(2025, 2))
    assert round(sum(t for _, t in feb), 1) == -3560.4
    assert dict(feb)[D(2025, 2, 25)] == -1113.7


def test_seed_week_3_to_7_nov_2025():
    r = asset_report(frames(SEED_WEEK), D(2025, 11, 7))
    assert r.week_to_date.start == D(2025, 11, 3)
    assert r.week_to_date.total_usd_m == -1208.4 and r.week_to_date.sessions == 5
    assert (r.streak.direction, r.streak.sessions) == ("red", 1)  # 6 Nov was green
    assert r.month_to_date.total_usd_m == -1208.4 and r.month_to_date.sessions == 5
    # The following Monday, that week is "last week" and this week has no session yet.
    after = asset_report(frames(SEED_WEEK), D(2025, 11, 10))
    assert (after.last_week.start, after.last_week.end, after.last_week.total_usd_m) == (D(2025, 11, 3), D(2025, 11, 7), -1208.4)
    assert after.week_to_date.total_usd_m is None and after.week_to_date.sessions == 0  # missing, not 0


def test_streak_midweek_and_sized_counts():
    r = asset_report(frames(SEED_WEEK), D(2025, 11, 5))
    assert (r.streak.direction, r.streak.sessions) == ("red", 3)
    assert r.streak.red_at_size == 0  # -137.0 breaks the >= $200M run
    r4 = asset_report(frames(SEED_WEEK), D(2025, 11, 4))
    assert r4.streak.red_at_size == 1 and r4.streak.sessions == 2
    greens = [(D(2025, 12, 1), 250.0), (D(2025, 12, 2), 210.0), (D(2025, 12, 3), 205.5)]
    g = asset_report(frames(greens), D(2025, 12, 3))
    assert (g.streak.direction, g.streak.sessions, g.streak.green_at_size) == ("green", 3, 3)
    g150 = asset_report(frames(greens), D(2025, 12, 3), streak_size_usd_m=208.0)
    assert g150.streak.green_at_size == 0


@pytest.mark.parametrize("as_of", [D(2025, 3, 3), D(2025, 6, 30), D(2025, 11, 18)])
def test_feb_2025_is_the_record_outflow_month_and_25_feb_the_record_day(as_of):
    history = [(D(2024, 1, 11), 655.3)] + feb_2025() + [(d, t) for d, t in SEED_WEEK]
    r = asset_report(frames(history), as_of)
    assert (r.record_outflow_month.month, r.record_outflow_month.total_usd_m) == ("2025-02", -3560.4)
    assert (r.record_outflow_day.date, r.record_outflow_day.usd_m) == (D(2025, 2, 25), -1113.7)


def test_record_month_needs_a_completed_month():
    r = asset_report(frames(feb_2025()), D(2025, 2, 28))
    assert r.record_outflow_month is None  # February is the as-of month, not a completed one
    assert r.month_to_date.total_usd_m == -3560.4 and r.month_to_date.sessions == 19


def test_as_of_ignores_later_rows():
    r = asset_report(frames(SEED_WEEK), D(2025, 11, 4))
    assert r.latest.date == D(2025, 11, 4) and r.month_to_date.total_usd_m == -752.9
    assert r.cumulative_usd_m == -752.9


def test_month_passing_the_record_and_projection():
    _, rows = load_dataset("btc")
    history = [(d, t) for d, _, t in rows if d < D(2025, 11, 24)]
    r = asset_report(frames(history), D(2025, 11, 20))
    assert r.month_to_date.total_usd_m == -3775.0 and r.month_to_date.sessions == 14
    assert r.mtd_passed_record_outflow
    # 19 sessions in Nov 2025; 5 left after the 20th: -3775.0 + (-3775.0 / 14) * 5
    assert r.month_to_date.sessions_left == 5
    assert r.month_to_date.projected_usd_m == round(-3775.0 + -3775.0 / 14 * 5, 1)
    r18 = asset_report(frames(history), D(2025, 11, 18))
    assert not r18.mtd_passed_record_outflow and round(r18.month_to_date.total_usd_m) == -2947


def test_provisional_row_is_latest_but_not_aggregated():
    series = SEED_WEEK + [(D(2025, 11, 10), 40.0, {"IBIT": None, "FBTC": 40.0})]
    r = asset_report(frames(series, provisional={D(2025, 11, 10)}, funds=["IBIT", "FBTC"]), D(2025, 11, 10))
    assert r.latest.provisional and r.latest.missing == ("IBIT",) and r.latest.total_usd_m == 40.0
    assert r.latest_complete == D(2025, 11, 7)
    assert r.week_to_date.sessions == 0 and r.month_to_date.total_usd_m == -1208.4
    assert (r.streak.direction, r.streak.sessions) == ("red", 1)


def test_provisional_row_with_nothing_reported_has_no_total():
    series = SEED_WEEK + [(D(2025, 11, 10), 0.0, {"IBIT": None})]
    r = asset_report(frames(series, provisional={D(2025, 11, 10)}), D(2025, 11, 10))
    assert r.latest.total_usd_m is None  # Farside's 0.0 before anyone reports is not a zero flow


def test_fund_records_and_latest_sets_record_flag():
    series = [
        (D(2025, 11, 13), -866.7, {"IBIT": -463.1, "FBTC": -403.6}),
        (D(2025, 11, 14), -492.1, {"IBIT": -328.6, "FBTC": -163.5}),
        (D(2025, 11, 17), -254.5, {"IBIT": -145.9, "FBTC": -108.6}),
        (D(2025, 11, 18), -372.7, {"IBIT": -523.2, "FBTC": 150.5}),
    ]
    r = asset_report(frames(series), D(2025, 11, 18))
    ibit = r.fund_records["IBIT"]
    assert (ibit.max_outflow.date, ibit.max_outflow.usd_m) == (D(2025, 11, 18), -523.2)
    assert ibit.latest_sets_outflow and ibit.max_inflow is None
    fbtc = r.fund_records["FBTC"]
    assert not fbtc.latest_sets_outflow and fbtc.latest_sets_inflow and fbtc.max_inflow.usd_m == 150.5
    assert not r.latest_sets_record_outflow_day
    # Fund share of the month: IBIT -1,460.8 of -1,986.0.
    assert r.fund_mtd_usd_m["IBIT"] == -1460.8
    assert r.fund_share_mtd_pct["IBIT"] == round(-1460.8 / -1986.0 * 100, 1)
    earlier = asset_report(frames(series), D(2025, 11, 17))
    assert earlier.fund_records["IBIT"].max_outflow.usd_m == -463.1


def test_fund_that_never_reported_has_no_records():
    r = asset_report(frames([(D(2025, 11, 3), 5.0, {"IBIT": 5.0, "MSBT": None})]), D(2025, 11, 3))
    assert r.fund_records["MSBT"] is None and r.cumulative_by_fund["MSBT"] is None


def test_empty_store_gives_missing_not_zero():
    r = asset_report(frames([]), D(2025, 11, 3))
    assert r.latest is None and r.month_to_date.total_usd_m is None and r.cumulative_usd_m is None
    assert r.record_outflow_day is None and r.streak.sessions == 0
