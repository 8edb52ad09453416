"""A bad stored row is set aside with a notice naming it; every other figure still shows.

Rows are written with raw sqlite3 into a demo store, as a damaged or hand-edited file would hold them
(SQLite keeps TEXT in a REAL column). Each reader's figures must equal those of the clean store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import shutil
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import rows
from analytics.dashboard import load_views
from analytics.derivatives import _METRIC_BOUNDS, compute, load_derivatives
from analytics.fed import load_fed
from analytics.snapshot import build_snapshot
from analytics.trend import compute_trend
from store import Store
from tests.dashboard_fixtures import FROZEN, demo_store

EDGES = (0.0, 3.5, 7.0, 11.0)
ASSETS = ("btc", "eth", "sol")
QUIET_HOUR = "2025-11-24T19:00:00+00:00"  # the demo polls venues every 6 h: nothing else stored in this hour
CYCLE = dt.date(2022, 11, 21)


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("clean") / "demo.db"
    demo_store(path).close()
    return path


@pytest.fixture
def stores(clean_db, tmp_path):
    """(the clean demo store, a copy to damage)."""
    bad = tmp_path / "bad.db"
    shutil.copy(clean_db, bad)
    a, b = Store.open(clean_db, readonly=True), Store.open(bad)
    yield a, b
    a.close()
    b.close()


def insert(store: Store, sql: str, *rows: tuple) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.executemany(sql, rows)


def without_notices(record):
    return dataclasses.replace(record, notices=())


BAD_OBSERVATIONS = (
    ("deribit", "BTC-PERPETUAL", "mark", QUIET_HOUR, "abc"),
    ("okx", "BTC-USDT-SWAP", "oi_usd", QUIET_HOUR, math.inf),
    ("bybit", "BTCUSDT", "index", QUIET_HOUR, 1e300),
    ("binance", "BTCUSDT", "funding_rate", QUIET_HOUR, b"\x00\x01"),
    ("deribit", "BTC-27MAR26", "expiry", QUIET_HOUR, 1.8e15),  # milliseconds in microseconds
    ("deribit", "BTC-PERPETUAL", "oi_usd", "2025-11-24T19:61:00+00:00", 1e9),
    ("deribit", "BTC-PERPETUAL", "mark", "garbage", 90_000.0),
)


@pytest.fixture
def name_all(monkeypatch):
    """Every bad row named in its notice (rows of one instant come in no fixed order)."""
    monkeypatch.setattr("analytics.rows.NAMED", 10)


def test_bad_observations_are_set_aside_and_named(stores, name_all):
    clean, bad = stores
    insert(bad, "INSERT INTO observations VALUES (?, ?, ?, ?, ?)", *BAD_OBSERVATIONS)
    before = load_derivatives(clean, FROZEN, band_edges=EDGES, trend_pct=5.0)
    after = load_derivatives(bad, FROZEN, band_edges=EDGES, trend_pct=5.0)
    assert not before.notices and not before.empty
    assert without_notices(after) == before
    (notice,) = after.notices
    assert notice.startswith("store: 6 bad rows set aside in observations (")  # 'garbage' sorts after any as-of
    for named in (
        f"deribit BTC-PERPETUAL at {QUIET_HOUR}: mark = 'abc' is not a number",
        f"okx BTC-USDT-SWAP at {QUIET_HOUR}: oi_usd = inf is not finite",
        f"bybit BTCUSDT at {QUIET_HOUR}: index = 1e+300 is outside [100, 10,000,000] USD",
        f"binance BTCUSDT at {QUIET_HOUR}: funding_rate = b'\\x00\\x01' is not a number",
        f"deribit BTC-27MAR26 at {QUIET_HOUR}: expiry = 1.8e+15 is not epoch seconds",
        "deribit BTC-PERPETUAL at 2025-11-24T19:61:00+00:00: ts = '2025-11-24T19:61:00+00:00' is not a timestamp",
    ):
        assert named in notice


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e300, -5.0, "1e9", None, True])
def test_every_kind_of_bad_value_is_named(value):
    """NaN cannot reach SQLite's NOT NULL column; rows handed to compute() can still carry it."""
    now = dt.datetime(2025, 11, 24, 22, tzinfo=dt.UTC)
    ts = now.isoformat(timespec="seconds")
    good = [("deribit", "BTC-PERPETUAL", "oi_usd", ts, 1e9), ("deribit", "BTC-PERPETUAL", "mark", ts, 90_000.0)]
    d = compute(good + [("okx", "BTC-USDT-SWAP", "oi_usd", ts, value)], now)
    assert d.offshore_usd == 1e9 and "okx" not in d.open_interest
    assert len(d.notices) == 1 and f"okx BTC-USDT-SWAP at {ts}: oi_usd = " in d.notices[0]


def test_bad_sessions_and_flows_are_set_aside_and_named(stores, name_all):
    clean, bad = stores
    insert(
        bad,
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
        ("btc", "0001-01-01", 5.0, 0, "farside", "x"),
        ("btc", "garbage", 5.0, 0, "farside", "x"),
        ("btc", "2025-11-23", "abc", 0, "farside", "x"),
        ("eth", "2025-11-22", 1e300, 0, "farside", "x"),
    )
    insert(
        bad,
        "INSERT INTO flows VALUES (?, ?, ?, ?)",
        ("btc", "2025-11-20", "XBAD", "abc"),
        ("btc", "2025-11-21", "XBAD", math.inf),
        ("sol", "2025-11-20", "ZZZ", 1e300),
        ("btc", "garbage", "IBIT", 1.0),
        ("btc", "2025-11-20", "\x1b]0;pwned\x07", 1.0),
    )
    as_of = FROZEN.date()
    before, dates = load_views(clean, ASSETS, as_of, streak_size_usd_m=200)
    after, bad_dates = load_views(bad, ASSETS, as_of, streak_size_usd_m=200)
    assert bad_dates == dates
    assert {a: without_notices(v) for a, v in after.items()} == before
    assert not any(v.notices for v in before.values())
    btc = after["btc"].notices
    assert btc[0] == (
        "store: 3 bad rows set aside in sessions (btc session 0001-01-01: date = 0001-01-01 is outside "
        "2024-01-11 .. tomorrow; btc session 2025-11-23: total = 'abc' is not a number; "
        "btc session garbage: date = 'garbage' is not a date)"
    )
    assert btc[1].startswith("store: 4 bad rows set aside in flows (")
    assert "btc XBAD on 2025-11-20: XBAD = 'abc' is not a number" in btc[1]
    assert "btc XBAD on 2025-11-21: XBAD = inf is not finite" in btc[1]
    assert "btc IBIT on garbage: date = 'garbage' is not a date" in btc[1]
    assert "btc \ufffd]0;pwned\ufffd on 2025-11-20: fund: '\\x1b]0;pwned\\x07' is not" in btc[1]
    assert "eth session 2025-11-22: total = 1e+300 is outside" in after["eth"].notices[0]
    assert "sol ZZZ on 2025-11-20: ZZZ = 1e+300 is outside" in after["sol"].notices[0]


def test_bad_fed_odds_and_candles_are_set_aside_and_named(stores, name_all):
    clean, bad = stores
    meeting = clean.observations(venues=("polymarket",))[-1][1]
    insert(
        bad,
        "INSERT INTO observations VALUES (?, ?, ?, ?, ?)",
        ("polymarket", meeting, "cut", QUIET_HOUR, "abc"),
        ("kalshi", meeting, "hold", QUIET_HOUR, 1.5),
    )
    insert(
        bad,
        "INSERT INTO candles VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("BTC-USD", "garbage", 1, 1, 1, 1, 1),
        ("BTC-USD", "2009-01-03", 1, 1, 1, 1e300, 1),
    )
    fed_before, fed_after = load_fed(clean, FROZEN), load_fed(bad, FROZEN)
    assert fed_before.venues and without_notices(fed_after) == fed_before
    (notice,) = fed_after.notices
    assert notice.startswith("store: 2 bad rows set aside in observations (")
    assert f"polymarket {meeting} at {QUIET_HOUR}: cut = 'abc' is not a number" in notice
    assert f"kalshi {meeting} at {QUIET_HOUR}: hold = 1.5 is outside [0, 1]" in notice
    trend_before = compute_trend(clean.candles(), FROZEN.date(), CYCLE)
    trend_after = compute_trend(bad.candles(), FROZEN.date(), CYCLE)
    assert trend_before is not None and without_notices(trend_after) == trend_before
    assert "BTC-USD candle garbage: day = 'garbage' is not a date" in trend_after.notices[0]
    assert "BTC-USD candle 2009-01-03: day = 2009-01-03 is outside 2010-07-17 .. tomorrow" in trend_after.notices[0]


def test_snapshot_lists_every_notice_and_keeps_every_figure(stores):
    clean, bad = stores
    insert(bad, "INSERT INTO observations VALUES (?, ?, ?, ?, ?)", BAD_OBSERVATIONS[0])
    insert(bad, "INSERT INTO flows VALUES (?, ?, ?, ?)", ("btc", "2025-11-20", "XBAD", "abc"))
    insert(bad, "INSERT INTO candles VALUES (?, ?, ?, ?, ?, ?, ?)", ("BTC-USD", "garbage", 1, 1, 1, 1, 1))
    kw = dict(as_of=FROZEN.date(), mode="demo", assets=ASSETS, now=FROZEN)
    before, after = build_snapshot(clean, **kw), build_snapshot(bad, **kw)
    notices = after.pop("data_notices")
    assert before.pop("data_notices") == []
    for doc in (before, after):
        doc.pop("store")
    assert after == before
    assert [n.split(" (")[0] for n in notices] == [
        "store: 1 bad row set aside in flows",
        "store: 1 bad row set aside in observations",
        "store: 1 bad row set aside in candles",
    ]


ROW = ("deribit", "BTC-27MAR26", "mark", "2025-11-24T19:00:00+00:00", 91_000.0)
ODD_TS = [
    "2025-11-24T19:00:00+00:00",
    "2025-11-24T19:00:00",
    "2025-11-24T21:00:00+02:00",
    "2025-11-24T19:00:00.5+00:00",
    "2025-11-26T19:00:00+00:00",
    "1970-01-01T00:00:00+00:00",
    "2025-11-24T19:61:00+00:00",
    "",
    "garbage",
    "2025-11-24",
]


@settings(max_examples=200, deadline=None)
@given(
    metric=st.sampled_from(sorted(_METRIC_BOUNDS)),
    ts=st.sampled_from(ODD_TS),
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 100.0, 0.1, 24.0, 1.8e9, 1.8e15])),
    names=st.sampled_from([("deribit", "BTC-27MAR26"), ("", "X"), ("okx", "")]),
)
def test_rows_cleared_in_bulk_are_rows_the_one_by_one_check_accepts(metric, ts, value, names):
    """The bulk path only saves time: whatever it clears, the named check accepts with the same value."""
    now = dt.datetime(2025, 11, 24, 22, tzinfo=dt.UTC)
    row = (*names, metric, ts, value)
    if rows._frame([row]).select(rows._cleared(_METRIC_BOUNDS, now=now))[0, 0]:
        assert rows.check_observation(row, _METRIC_BOUNDS, now=now) == row


async def test_the_dashboard_names_a_bad_row_and_keeps_every_other_figure(stores):
    from tests.dashboard_fixtures import make_app
    from tui.bars import StatusBar
    from tui.panes import Pane

    _, bad = stores
    insert(bad, "INSERT INTO observations VALUES (?, ?, ?, ?, ?)", ("deribit", "BTC-PERPETUAL", "mark", QUIET_HOUR, "abc"))
    app = make_app(bad)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        status = app.query_one(StatusBar).text
        assert "STORE: 1 bad row set aside" in status
        named = [n.message for n in app._notifications if "set aside in observations" in n.message]
        assert len(named) == 1 and "deribit BTC-PERPETUAL" in named[0] and "'abc' is not a number" in named[0]
        assert app.derivatives is not None and not app.derivatives.empty and app.views["btc"].report.latest is not None
        assert app.analytics_problem is None and not any(p.border_subtitle for p in app.query(Pane))
