"""Coinbase spot (ticker + 24 h stats): the parser on real responses and hostile variants of them, the poll
storing it, and the title's reading of it (analytics/spot.py)."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import math
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.spot import load_spot
from common.config import parse_config
from common.records import DataError
from sources import registry
from sources.coinbase import SpotError, parse_spot
from store import Store

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "coinbase"
BTC_TICKER = json.loads((REAL / "coinbase_exchange_products_BTC-USDT_ticker__ccxt_static.json").read_text())
ETH_TICKER = json.loads((REAL / "coinbase_exchange_products_ETH-USD_ticker__ex_gdax_docs.json").read_text())
ETH_STATS = json.loads((REAL / "coinbase_exchange_products_ETH-USD_stats__ex_gdax_docs.json").read_text())
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def test_real_responses_parse():
    q = parse_spot(ETH_TICKER, ETH_STATS, now=NOW)
    assert (q.price, q.bid, q.ask, q.open_24h, q.high_24h, q.low_24h) == (200.47, 200.46, 200.47, 197.97, 205.8, 194.42)
    assert q.ts == dt.datetime(2017, 7, 27, 8, 0, 43, 697000, tzinfo=dt.UTC)
    q = parse_spot(BTC_TICKER, ETH_STATS | {"open": "73000", "high": "74000", "low": "72000"}, now=NOW)
    assert q.price == 73367.8 and q.volume_24h == 1207.50668151


def test_nanosecond_times_are_read():
    q = parse_spot(BTC_TICKER | {"time": "2026-08-22T17:51:35.388253286Z"}, ETH_STATS, now=NOW)
    assert q.ts == dt.datetime(2026, 8, 22, 17, 51, 35, 388253, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("which", "key", "value", "names"),
    [
        ("ticker", "price", "-5", "ticker.price"),
        ("ticker", "price", "NaN", "ticker.price"),
        ("ticker", "price", "1e400", "ticker.price"),
        ("ticker", "price", None, "ticker.price"),
        ("ticker", "price", [1], "ticker.price"),
        ("ticker", "price", "73367.8\x1b[31m", "ticker.price"),
        ("ticker", "time", "1970-01-01T00:00:00Z", "ticker.time"),
        ("ticker", "time", "not a time", "ticker.time"),
        ("ticker", "time", "2024-03-13T11:10:41", "ticker.time"),  # no zone
        ("ticker", "bid", "99999", "ticker.bid"),  # above the ask
        ("stats", "open", "0.001", "stats.open"),
        ("stats", "open", "300", "stats.open"),  # outside low .. high
        ("stats", "low", True, "stats.low"),
    ],
)
def test_hostile_values_are_refused_naming_the_field(which, key, value, names):
    ticker, stats = copy.deepcopy(ETH_TICKER), copy.deepcopy(ETH_STATS)
    (ticker if which == "ticker" else stats)[key] = value
    with pytest.raises(SpotError, match=names.replace(".", r"\.")):
        parse_spot(ticker, stats, now=NOW)


@pytest.mark.parametrize(("which", "key"), [("ticker", "price"), ("ticker", "time"), ("stats", "open"), ("stats", "high")])
def test_a_missing_required_key_is_named(which, key):
    ticker, stats = copy.deepcopy(ETH_TICKER), copy.deepcopy(ETH_STATS)
    del (ticker if which == "ticker" else stats)[key]
    with pytest.raises(SpotError, match=f"{which}.{key}"):
        parse_spot(ticker, stats, now=NOW)


def test_optional_fields_missing_are_none_never_zero():
    ticker = {k: v for k, v in ETH_TICKER.items() if k not in ("bid", "ask", "volume")}
    q = parse_spot(ticker, ETH_STATS, now=NOW)
    assert (q.bid, q.ask, q.volume_24h) == (None, None, None)
    assert {m for _, _, m, _, _ in q.rows()} == {"last", "open_24h", "high_24h", "low_24h"}


_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(
    which=st.sampled_from(["ticker", "stats"]),
    key=st.sampled_from(["price", "time", "bid", "ask", "volume", "open", "high", "low", "last", "junk"]),
    value=_junk,
    drop=st.booleans(),
)
def test_any_mutation_gives_a_bounded_quote_or_a_named_refusal(which, key, value, drop):
    ticker, stats = copy.deepcopy(ETH_TICKER), copy.deepcopy(ETH_STATS)
    target = ticker if which == "ticker" else stats
    if drop:
        target.pop(key, None)
    else:
        target[key] = value
    try:
        q = parse_spot(ticker, stats, now=NOW)
    except DataError as exc:
        assert str(exc)
        return
    for v in (q.price, q.open_24h, q.high_24h, q.low_24h):
        assert math.isfinite(v) and 100 <= v <= 10_000_000
    assert q.low_24h <= q.open_24h <= q.high_24h


@settings(max_examples=100, deadline=None)
@given(st.one_of(_junk, st.lists(_junk, max_size=3)), st.one_of(_junk, st.lists(_junk, max_size=3)))
def test_any_shape_is_refused_by_name(ticker, stats):
    with pytest.raises(DataError):
        parse_spot(ticker, stats, now=NOW)


def _answer(ticker: object, stats: object, status: int = 200) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        body = ticker if request.url.path.endswith("/ticker") else stats
        return httpx.Response(status, text=json.dumps(body))

    return httpx.MockTransport(handle)


def _poll(store: Store, transport: httpx.MockTransport, now: dt.datetime):
    config = parse_config({}, Path("<defaults>"))

    async def run():
        async with httpx.AsyncClient(transport=transport) as client:
            return await registry.poll(registry.spec("coinbase_spot"), client, store, config, now=now)

    return asyncio.run(run())


def test_poll_stores_the_spot_and_the_title_reads_it_with_its_age(tmp_path):
    store = Store.open(tmp_path / "s.db")
    traded = NOW - dt.timedelta(seconds=30)
    ticker = BTC_TICKER | {"time": traded.isoformat().replace("+00:00", "Z")}
    stats = ETH_STATS | {"open": "72000", "high": "74000", "low": "71000"}
    out = _poll(store, _answer(ticker, stats), NOW)
    assert out.state == "ok", out
    spot = load_spot(store, NOW + dt.timedelta(minutes=2))
    assert spot is not None and spot.price == 73367.8 and not spot.stale
    assert spot.change_24h_pct == pytest.approx((73367.8 / 72000 - 1) * 100)
    assert spot.as_of == traded.replace(microsecond=0)
    limit = registry.stale_after_s("coinbase_spot")
    assert limit is not None and load_spot(store, NOW + dt.timedelta(seconds=limit + 60)).stale  # type: ignore[union-attr]
    assert load_spot(store, NOW + dt.timedelta(days=2)) is None  # too old to show at all
    store.close()


def test_a_refused_answer_stores_nothing_and_names_the_field(tmp_path):
    store = Store.open(tmp_path / "s.db")
    out = _poll(store, _answer(BTC_TICKER | {"price": "-5"}, ETH_STATS), NOW)
    assert out.state == "error" and "ticker.price" in (out.error or "")
    assert load_spot(store, NOW) is None
    store.close()


def test_spot_observations_stay_out_of_the_derivatives_venues():
    assert "coinbase_spot" not in registry.VENUE_IDS
