"""Coinbase candles as a validated boundary: the real response and hostile variants derived from it."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.bounds import BOUNDS, EARLIEST_INSTANT
from common.config import SourceConfig
from common.records import DataError
from sources.coinbase import CandleError, parse_candles, poll_coinbase
from sources.http import make_client
from store import Store
from tests.conftest import sample

D = dt.date
NOW = dt.datetime(2024, 3, 14, 12, 0, tzinfo=dt.UTC)  # the day after the sample's candle
REAL = json.loads(sample("coinbase_exchange_products_BTC-USDT_candles_1h__ccxt_static.json"))
TIME, LOW, HIGH, OPEN, CLOSE, VOLUME = range(6)


def two_candles() -> list[list]:
    """The real candle and the real candle a day earlier: index 1 is the one the tests break."""
    first = copy.deepcopy(REAL[0])
    second = copy.deepcopy(REAL[0])
    second[TIME] -= 86400
    return [first, second]


def test_real_candles_parse():
    assert parse_candles(two_candles(), now=NOW) == [
        (D(2024, 3, 12), 73243.33, 73402.47, 73241.5, 73370.65, 1.56794406),
        (D(2024, 3, 13), 73243.33, 73402.47, 73241.5, 73370.65, 1.56794406),
    ]


@pytest.mark.parametrize(
    "field,value,named,why",
    [
        ("time", 0, "time", "not epoch seconds"),  # 1970
        ("time", 1710327600000, "time", "not epoch seconds"),  # milliseconds
        ("time", 4102444800, "time", "outside"),  # 2100: beyond tomorrow
        ("time", 10**400, "time", "out of range"),  # past float range
        ("time", 1e300, "time", "not epoch seconds"),  # fromtimestamp would overflow
        ("low", 1e-9, "low", "outside"),
        ("high", 1e9, "high", "outside"),
        ("open", 73000.0, "open", "outside its candle's low"),  # below low
        ("close", 74000.0, "close", "outside its candle's low"),  # above high
        ("low", 73300.0, "open", "outside its candle's low 73300"),  # low above open: the price outside is named
        ("high", 73300.0, "close", "outside its candle's low .* high 73300"),  # high below close
        ("volume", -1.0, "volume", "outside"),
        ("volume", float("nan"), "volume", "non-finite"),
        ("close", float("inf"), "close", "non-finite"),
        ("open", "73243.33", "open", "expected a number, got str"),
        ("open", None, "open", "expected a number, got NoneType"),
        ("open", True, "open", "expected a number, got bool"),
        ("open", [73243.33], "open", "expected a number, got list"),
        ("open", {"price": 1}, "open", "expected a number, got dict"),
    ],
)
def test_bad_candle_refuses_the_response_naming_index_and_field(field, value, named, why):
    rows = two_candles()
    rows[1][(TIME, LOW, HIGH, OPEN, CLOSE, VOLUME)[("time", "low", "high", "open", "close", "volume").index(field)]] = value
    with pytest.raises(CandleError, match=rf"candles\[1\]\.{named}.*{why}"):
        parse_candles(rows, now=NOW)


def test_second_different_candle_for_a_day_is_refused():
    rows = two_candles()
    rows[1][TIME] = rows[0][TIME] + 60
    rows[1][CLOSE] = 73300.0
    with pytest.raises(CandleError, match=r"candles\[1\]\.time: a second, different candle for 2024-03-13"):
        parse_candles(rows, now=NOW)


@pytest.mark.parametrize("obj", [None, {}, "[]", [None], [[]], [REAL[0][:5]], [[REAL[0]]], 7])
def test_odd_shapes_are_candle_errors(obj):
    with pytest.raises(CandleError):
        parse_candles(obj, now=NOW)


def test_extra_trailing_field_is_ignored():
    assert len(parse_candles([REAL[0] + [0.0, "x"]], now=NOW)) == 1  # additive drift; the six fields still checked


# ---- whatever the mutation: bounded candles or a DataError ------------------------------------------

EDGES = st.sampled_from([0, -1, 1e-9, 1e9, 10**400, -(10**400), 1e300, 1710327600000, 4102444800, float("nan"), True])
JUNK = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.text(max_size=8),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(10**40), 10**40),
        EDGES,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6,
)


def _mutate(data, rows: list) -> list:
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["value", "drop", "append", "row", "shift"]))
        if not rows:
            rows.append(data.draw(JUNK))
            continue
        i = data.draw(st.integers(0, len(rows) - 1))
        row = rows[i]
        if kind == "row" or not isinstance(row, list) or not row:
            rows[i] = data.draw(JUNK)
        elif kind == "value":
            row[data.draw(st.integers(0, len(row) - 1))] = data.draw(st.one_of(EDGES, JUNK))
        elif kind == "drop":
            del row[data.draw(st.integers(0, len(row) - 1))]
        elif kind == "append":
            row.append(data.draw(JUNK))
        else:  # scale one price or the volume, as a unit error would
            k = data.draw(st.integers(1, 5)) % len(row)
            if type(row[k]) is float:
                row[k] *= data.draw(st.sampled_from([-1, 0.5, 1.001, 10, 1e6]))
    return rows


def assert_bounded(candles) -> None:
    price, volume = BOUNDS["btc_usd"], BOUNDS["volume"]
    for day, open_, high, low, close, vol in candles:
        assert EARLIEST_INSTANT.date() <= day <= (NOW + dt.timedelta(days=1)).date()
        assert all(price.holds(p) for p in (open_, high, low, close)) and volume.holds(vol)
        assert low <= min(open_, close) <= max(open_, close) <= high


@settings(max_examples=250, deadline=None)
@given(st.data())
def test_mutated_candles_give_bounded_rows_or_data_error(data):
    rows = _mutate(data, two_candles())
    try:
        candles = parse_candles(rows, now=NOW)
    except DataError:
        return
    assert_bounded(candles)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 6), st.binary(max_size=8)), min_size=1, max_size=4))
def test_mutated_bytes_through_the_poll_never_raise(splices):
    raw = bytearray(json.dumps(two_candles()).encode())
    for at, cut, insert in splices:
        raw[at : at + cut] = insert
    outcome = _poll_once(bytes(raw))
    assert outcome.state in ("ok", "stale", "error", "blocked")


def _poll_once(body: bytes):
    import asyncio
    import tempfile
    from pathlib import Path

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    async def run():
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(Path(tmp) / "c.db")
            try:
                async with make_client(httpx.MockTransport(handler)) as client:
                    cfg = SourceConfig("coinbase", "https://coinbase.test", 3600, deadline=5)
                    return await poll_coinbase(client, store, cfg, cycle_start=D(2024, 3, 1), now=NOW, rng=random.Random(0))
            finally:
                store.close()

    return asyncio.run(run())


def test_integer_past_pythons_digit_limit_is_a_named_error_not_a_crash():
    # json.loads raises a bare ValueError for a 5,000-digit integer: it escaped the poll.
    out = _poll_once(b"[[" + b"9" * 5000 + b", 1, 2, 1, 1, 1]]")
    assert out.state == "error" and "digits" in out.error
