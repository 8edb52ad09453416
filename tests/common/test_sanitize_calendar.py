from __future__ import annotations

import datetime as dt
import re

from hypothesis import given
from hypothesis import strategies as st

from common.calendar import is_trading_day, month_trading_days, new_york_today, nyse_holidays
from common.sanitize import clean

_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b-\u200f]")


@given(st.text(max_size=400))
def test_clean_leaves_no_controls_and_is_idempotent(text):
    out = clean(text)
    assert not _BAD.search(out.replace("\n", "").replace("\t", ""))
    assert "\n" not in out and len(out) <= 200
    assert clean(out) == out


def test_clean_neutralises_terminal_attacks():
    evil = "IBIT\x1b]52;c;Y3VybA==\x07\x1b]0;title\x07\x9b31m\u202eevil"
    out = clean(evil)
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out and "\x07" not in out
    assert out.startswith("IBIT")


def test_nyse_holidays_2025():
    h = nyse_holidays(2025)
    for day in [
        "2025-01-01",
        "2025-01-09",
        "2025-01-20",
        "2025-02-17",
        "2025-04-18",
        "2025-05-26",
        "2025-06-19",
        "2025-07-04",
        "2025-09-01",
        "2025-11-27",
        "2025-12-25",
    ]:
        assert dt.date.fromisoformat(day) in h
    assert len(h) == 11


def test_month_sessions_match_published_counts():
    assert len(month_trading_days(2025, 2)) == 19  # Feb 2025: 19 sessions, as the record month ran
    assert len(month_trading_days(2025, 11)) == 19  # Thanksgiving
    assert not is_trading_day(dt.date(2025, 11, 27)) and is_trading_day(dt.date(2025, 11, 28))


def test_new_york_today_crosses_midnight_utc():
    assert new_york_today(dt.datetime(2025, 11, 25, 3, 0, tzinfo=dt.UTC)) == dt.date(2025, 11, 24)
