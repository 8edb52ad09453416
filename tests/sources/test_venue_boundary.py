"""The derivatives venues as a validated boundary: real captured responses parse into Quotes within
common/bounds.py; hostile ones are refused by rule (a DataError naming the field), out-of-scope rows
are skipped by rule, and nothing else ever escapes a parser.

Fixtures are verbatim copies in tests/data/real/<venue>/ (see ORIGINS.md there); variants are derived here.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common import bounds
from common.records import DataError
from sources.venues import binance, bybit, cme, deribit, okx
from sources.venues.common import Quote, VenueDataError, loads

UTC = dt.UTC
REAL = Path(__file__).resolve().parents[1] / "data" / "real"


def real(venue: str, name: str):
    return json.loads((REAL / venue / name).read_text())


# ---- real responses, per venue, and the clock each was captured at ---------------------------------

DERIBIT_NOW = dt.datetime(2025, 12, 12, 12, 30, tzinfo=UTC)  # the ticker sample: 2025-12-12 12:11


def deribit_responses():
    listing = real("deribit", "http_get_instruments__nautilus_fixture.json")
    ticker = {
        **{k: v for k, v in listing.items() if k != "result"},  # the real JSON-RPC envelope
        "result": real("deribit", "deribit_ws_ticker_BTC-PERPETUAL__nautilus_fixture.json")["params"]["data"],
    }
    return {
        "ticker": ticker,
        "book": real("deribit", "http_get_book_summary_by_currency__nautilus_fixture.json"),
        "instruments": listing,
    }


def deribit_with_dated_future(responses, name="BTC-27MAR26", expiry_ms=1774598400000, listed=True):
    """A live dated future: the listing's real BTC-27DEC24 row renamed, and a book row made of the real
    ticker's own fields (no dated-future book row was found in public code)."""
    r = copy.deepcopy(responses)
    if listed:
        row = next(x for x in r["instruments"]["result"] if x["instrument_name"] == "BTC-27DEC24")
        r["instruments"]["result"].append({**row, "instrument_name": name, "expiration_timestamp": expiry_ms})
    t = r["ticker"]["result"]
    r["book"]["result"].append(
        {
            "instrument_name": name,
            "mark_price": t["mark_price"],
            "open_interest": t["open_interest"],
            "estimated_delivery_price": t["estimated_delivery_price"],
            "creation_timestamp": t["timestamp"],
        }
    )
    return r


USDM_NOW = dt.datetime(2026, 8, 27, 10, 0, tzinfo=UTC)  # the live premiumIndex capture: 2026-08-27 09:35


def usdm_responses():
    return {
        "premium": real("binance", "binance_fapi_premiumIndex_BTCUSDT__real_capture_markdown_2026-08-27.json"),
        "open_interest": real("binance", "binance_fapi_openInterest_BTCUSDT__real_capture_markdown_2026-08-27.json"),
        "funding_info": real("binance", "binance_fapi_fundingInfo__official_connector_docs_example.json"),
        "basis_current": real("binance", "binance_fapi_futures_data_basis__official_connector_docs_example.json"),
        "basis_next": real("binance", "binance_fapi_futures_data_basis__official_connector_docs_example.json"),
    }


COINM_NOW = dt.datetime(2020, 7, 30, 8, 0, tzinfo=UTC)  # the dapi premiumIndex example: 2020-07-30 07:27


def coinm_responses():
    oi = real("binance", "binance_dapi_openInterest__official_connector_docs_example.json")  # a BTCUSD_200626 row
    return {
        "premium": real("binance", "binance_dapi_premiumIndex__official_connector_docs_example.json"),
        "open_interest": {**oi, "symbol": "BTCUSD_PERP", "contractType": "PERPETUAL"},
    }


BYBIT_NOW = dt.datetime(2025, 11, 4, 2, 0, tzinfo=UTC)  # the live BTCUSDT capture: 2025-11-04 01:46


def bybit_responses(*extra_rows):
    obj = real("bybit", "bybit_v5_market_tickers_linear_BTCUSDT__real_capture_python_comment_2025-11-04.json")
    obj["result"]["list"].extend(copy.deepcopy(list(extra_rows)))
    return {"tickers": obj}


def bybit_dated():
    return real("bybit", "bybit_docs_ws_tickers_LinearFutures_BTC-26DEC25_example.json")["data"]


OKX_NOW = dt.datetime(2025, 4, 2, 10, 20, tzinfo=UTC)  # the funding-rate example's ts: 2025-04-02 10:11


def okx_responses():
    index = real("okx", "okx_market_index-tickers_NVDA-USD__real_capture_markdown_2026-09-22.json")
    index["data"][0].update(instId="BTC-USD", idxPx="84500.1", ts="1743588686291")  # no real BTC-USD sample found
    futures = real("okx", "okx_public_mark-price_SWAP__docs_example.json")
    swap_row = futures["data"][0]
    futures["data"].append(
        {**swap_row, "instType": "FUTURES", "instId": "BTC-USD-250627", "markPx": "86210.4", "ts": "1743588686291"}
    )
    return {
        "funding": real("okx", "okx_public_funding-rate_BTC-USDT-SWAP__docs_example.json"),
        "open_interest": real("okx", "okx_public_open-interest_BTC-USDT-SWAP__docs_example.json"),
        "index": index,
        "futures": futures,
    }


CFTC_NOW = dt.datetime(2025, 11, 24, 22, tzinfo=UTC)


def cftc_responses():  # the documented shape (no verbatim capture found: tests/data/real/cftc/ORIGINS.md)
    return {
        "cot": [
            {
                "id": "251118133741F",
                "market_and_exchange_names": "BITCOIN - CHICAGO MERCANTILE EXCHANGE",
                "report_date_as_yyyy_mm_dd": "2025-11-18T00:00:00.000",
                "cftc_contract_market_code": "133741",
                "open_interest_all": "27512",
            }
        ]
    }


def cme_responses():  # the documented shape (tests/data/real/cme/ORIGINS.md)
    return {
        "settlements": {
            "settlements": [
                {"month": "DEC 25", "settle": "91,230", "openInterest": "12,345"},
                {"month": "Total", "openInterest": "12,345"},
            ]
        }
    }


PARSERS = {  # name -> (parse, responses, now)
    "deribit": (deribit.parse, lambda: deribit_with_dated_future(deribit_responses()), DERIBIT_NOW),
    "binance": (binance.parse_usdm, usdm_responses, USDM_NOW),
    "binance_coinm": (binance.parse_coinm, coinm_responses, COINM_NOW),
    "bybit": (bybit.parse, lambda: bybit_responses(bybit_dated()), BYBIT_NOW),
    "okx": (okx.parse, okx_responses, OKX_NOW),
    "cftc": (cme.parse_cftc, cftc_responses, CFTC_NOW),
    "cme": (cme.parse_cme, cme_responses, CFTC_NOW),
}
OUR_NAMES = {"BTC futures (CFTC COT)", "BTC futures (CME settlements)"}  # constants, not outside text


def assert_within_bounds(quotes, now):
    """What every parser's output must be: typed Quotes, every value finite and inside BOUNDS, names
    identifiers, venue instants in range, no expired contract."""
    assert isinstance(quotes, list) and quotes
    for q in quotes:
        assert isinstance(q, Quote)
        assert q.instrument in OUR_NAMES or bounds.identifier(q.instrument, "name") == q.instrument
        bounds.check_time(q.ts, "ts", now=now)
        assert q.expiry is None or now < q.expiry <= now + bounds.MAX_EXPIRY_AHEAD
        for attr, kind in (
            ("mark", "btc_usd"),
            ("index", "btc_usd"),
            ("funding_rate", "funding_rate"),
            ("funding_interval_h", "funding_interval_h"),
            ("oi_usd", "oi_usd"),
            ("oi_btc", "oi_btc"),
        ):
            value = getattr(q, attr)
            bounded = isinstance(value, float) and math.isfinite(value) and bounds.BOUNDS[kind].holds(value)
            assert value is None or bounded, (attr, value)


# ---- real fixtures parse ----------------------------------------------------------------------------


@pytest.mark.parametrize("venue", sorted(PARSERS))
def test_real_fixtures_parse_into_quotes_within_bounds(venue):
    parse, responses, now = PARSERS[venue]
    assert_within_bounds(parse(responses(), now), now)


def test_deribit_real_listing_with_the_year_3000_perpetual_parses():
    """Defect 1: the real listing stamps BTC-PERPETUAL with expiration_timestamp 32503708800000; it was
    refused whole ("out of range"), so live Deribit never worked. The perpetual row is skipped by rule."""
    quotes = deribit.parse(deribit_responses(), DERIBIT_NOW)
    assert [q.instrument for q in quotes] == ["BTC-PERPETUAL"]  # the options in the book and the expired BTC-27DEC24 skipped
    assert quotes[0].oi_usd == 1132329370.0
    dated = deribit.parse(deribit_with_dated_future(deribit_responses()), DERIBIT_NOW)
    assert dated[1].instrument == "BTC-27MAR26" and dated[1].expiry == dt.datetime(2026, 3, 27, 8, tzinfo=UTC)


def test_real_binance_capture_units_and_default_interval():
    (perp,) = binance.parse_usdm(usdm_responses(), USDM_NOW)  # the basis examples are PERPETUAL rows: no quarter
    assert perp.oi_btc == 109039.496 and perp.mark == 80065.24544928
    assert perp.funding_interval_h == 8.0  # BTCUSDT is not in fundingInfo: Binance's documented default


def test_real_bybit_capture_reads_the_interval():
    (perp,) = bybit.parse(bybit_responses(), BYBIT_NOW)
    assert perp.funding_interval_h == 8.0 and perp.oi_btc == 50923.331 and perp.oi_usd == 5453073976.80


@pytest.mark.parametrize(
    "parse,responses,now,needle",
    [
        (
            bybit.parse,
            lambda: {"tickers": real("bybit", "bybit_v5_market_tickers_linear_10000LADYSUSDT__real_capture_kotlin_comment.json")},
            dt.datetime(2024, 2, 19, 18, tzinfo=UTC),
            "no BTCUSDT",
        ),
        (
            okx.parse,
            lambda: {
                **okx_responses(),
                "index": real("okx", "okx_market_index-tickers_NVDA-USD__real_capture_markdown_2026-09-22.json"),
            },
            dt.datetime(2026, 9, 22, 12, tzinfo=UTC),
            "index: no BTC-USD",
        ),
        (
            binance.parse_coinm,
            lambda: {
                **coinm_responses(),
                "open_interest": real("binance", "binance_dapi_openInterest__official_connector_docs_example.json"),
            },
            COINM_NOW,
            "symbol 'BTCUSD_200626' where BTCUSD_PERP",
        ),
    ],
)
def test_real_response_for_another_symbol_is_refused_by_name(parse, responses, now, needle):
    with pytest.raises(DataError, match=needle):
        parse(responses(), now)


# ---- one test per defect class ----------------------------------------------------------------------


def test_bad_required_row_refuses_and_names_the_field():
    r = deribit_responses()
    r["ticker"]["result"]["instrument_name"] = "BTC-27MAR26"
    with pytest.raises(DataError, match="instrument_name 'BTC-27MAR26' is not BTC-PERPETUAL"):
        deribit.parse(r, DERIBIT_NOW)


@pytest.mark.parametrize("hours", ["0", "-8", "25", "NaN"])
def test_bybit_funding_interval_within_bounds(hours):
    r = bybit_responses()
    r["tickers"]["result"]["list"][0]["fundingIntervalHour"] = hours
    with pytest.raises(DataError, match="fundingIntervalHour"):
        bybit.parse(r, BYBIT_NOW)


def test_bybit_absent_interval_is_unknown_not_assumed():
    r = bybit_responses()
    del r["tickers"]["result"]["list"][0]["fundingIntervalHour"]
    assert bybit.parse(r, BYBIT_NOW)[0].funding_interval_h is None  # Bybit documents no default


def test_okx_and_binance_funding_interval_within_bounds():
    r = okx_responses()
    r["funding"]["data"][0]["nextFundingTime"] = r["funding"]["data"][0]["fundingTime"]
    with pytest.raises(DataError, match="nextFundingTime - fundingTime = 0 is outside"):
        okx.parse(r, OKX_NOW)
    u = usdm_responses()
    u["funding_info"].append({**u["funding_info"][0], "symbol": "BTCUSDT", "fundingIntervalHours": 0})
    with pytest.raises(DataError, match="fundingIntervalHours = 0 is outside"):
        binance.parse_usdm(u, USDM_NOW)


@pytest.mark.parametrize(
    "parse,responses,now,mutate,needle",
    [
        (
            deribit.parse,
            deribit_responses,
            DERIBIT_NOW,
            lambda r: r["ticker"]["result"].update(index_price=1e-9),
            "index_price = 1e-09",
        ),
        (
            binance.parse_usdm,
            usdm_responses,
            USDM_NOW,
            lambda r: r["open_interest"].update(openInterest="3e7"),
            "openInterest = 3e\\+07",
        ),
        (
            bybit.parse,
            lambda: bybit_responses(bybit_dated()),
            BYBIT_NOW,
            lambda r: r["tickers"]["result"]["list"][1].update(basisRateYear="30.6"),
            "basisRateYear x 100 = 3060",
        ),
        (okx.parse, okx_responses, OKX_NOW, lambda r: r["funding"]["data"][0].update(fundingRate="0.5"), "fundingRate = 0.5"),
        (
            cme.parse_cftc,
            cftc_responses,
            CFTC_NOW,
            lambda r: r["cot"][0].update(open_interest_all="2e7"),
            "open_interest_all = 2e\\+07",
        ),
        (
            cme.parse_cme,
            cme_responses,
            CFTC_NOW,
            lambda r: r["settlements"]["settlements"][0].update(openInterest="-5"),
            "openInterest = -5",
        ),
    ],
)
def test_prices_oi_basis_funding_through_bounds(parse, responses, now, mutate, needle):
    r = responses()
    mutate(r)
    with pytest.raises(DataError, match=needle):
        parse(r, now)


@pytest.mark.parametrize(
    "value,needle",
    [
        (0, "not epoch milliseconds"),
        (1765541474, "1970-01-21"),
        (1765541474086 + 3 * 86400_000, "outside 2010-07-17 .. tomorrow"),
    ],
)
def test_venue_instants_through_bounds(value, needle):
    r = deribit_responses()
    r["ticker"]["result"]["timestamp"] = value  # 0; seconds sent as milliseconds; days ahead of our clock
    with pytest.raises(DataError, match=needle):
        deribit.parse(r, DERIBIT_NOW)


def test_instrument_names_are_identifiers_at_ingest():
    hostile = "BTC-PERPETUAL\x1b]52;c;ZWNobyBwd25lZA==\x07"
    r = deribit_responses()
    r["ticker"]["result"]["instrument_name"] = hostile  # the required row: refused, named, and printed escaped
    with pytest.raises(DataError, match="ticker: instrument_name: .* is not an instrument name") as err:
        deribit.parse(r, DERIBIT_NOW)
    assert "\x1b" not in str(err.value) and "\x07" not in str(err.value)
    row = {**bybit_dated(), "symbol": "BTC-26DEC25\x1b]0;owned\x07"}  # an out-of-scope row: skipped
    quotes = bybit.parse(bybit_responses(row), BYBIT_NOW)
    assert [q.instrument for q in quotes] == ["BTCUSDT"]


def test_huge_integers_and_odd_shapes_raise_only_data_errors():
    with pytest.raises(VenueDataError, match="a JSON integer of 5000 digits"):
        loads('{"result": {"open_interest": ' + "9" * 5000 + "}}")
    r = deribit_responses()
    r["ticker"]["result"]["open_interest"] = 10**400  # float() of it overflows
    with pytest.raises(DataError, match="open_interest is not a number"):
        deribit.parse(r, DERIBIT_NOW)
    shapes = [
        (
            deribit.parse,
            deribit_responses,
            DERIBIT_NOW,
            lambda r: r["ticker"].update(result=[1, 2]),
            "expected an object, got list",
        ),
        (
            bybit.parse,
            bybit_responses,
            BYBIT_NOW,
            lambda r: r["tickers"]["result"].update(list="BTCUSDT"),
            "expected a list, got str",
        ),
        (
            binance.parse_usdm,
            usdm_responses,
            USDM_NOW,
            lambda r: r.update(funding_info={"symbol": "BTCUSDT"}),
            "expected a list, got dict",
        ),
        (okx.parse, okx_responses, OKX_NOW, lambda r: r["index"].update(data=[["BTC-USD"]]), "index: no BTC-USD"),
        (
            cme.parse_cftc,
            cftc_responses,
            CFTC_NOW,
            lambda r: r["cot"][0].update(report_date_as_yyyy_mm_dd=None),
            "bad report date",
        ),
        # a huge int inside a list: quoting it in the message must not itself raise (repr would, ValueError)
        (
            binance.parse_coinm,
            coinm_responses,
            COINM_NOW,
            lambda r: r["open_interest"].update(symbol=[1, 10**5000]),
            r"openInterest: symbol: \[1, <an integer of 16610 bits>\] is not an instrument name",
        ),
    ]
    for parse, responses, now, mutate, needle in shapes:
        r = responses()
        mutate(r)
        with pytest.raises(DataError, match=needle):
            parse(r, now)


def test_expired_and_delisted_contracts_are_not_returned():
    r = deribit_with_dated_future(deribit_responses(), name="BTC-28NOV25", expiry_ms=1764316800000)  # expired 2025-11-28
    assert [q.instrument for q in deribit.parse(r, DERIBIT_NOW)] == ["BTC-PERPETUAL"]
    r = deribit_with_dated_future(deribit_responses(), listed=False)  # in the book, gone from the listing
    assert [q.instrument for q in deribit.parse(r, DERIBIT_NOW)] == ["BTC-PERPETUAL"]
    after = dt.datetime(2025, 12, 26, 9, tzinfo=UTC)  # BTC-26DEC25 delivered at 08:00
    r = bybit_responses(bybit_dated())
    r["tickers"]["time"] = int(after.timestamp() * 1000) - 60_000
    r["tickers"]["result"]["list"][0]["fundingIntervalHour"] = "8"
    assert [q.instrument for q in bybit.parse(r, after)] == ["BTCUSDT"]
    okx_after = dt.datetime(2025, 4, 2, 10, 20, tzinfo=UTC)
    o = okx_responses()
    o["futures"]["data"][-1]["instId"] = "BTC-USD-250328"  # delivered 2025-03-28
    assert [q.instrument for q in okx.parse(o, okx_after)] == ["BTC-USDT-SWAP"]


# ---- Hypothesis: whatever the values, Quotes within bounds or a DataError ----------------------------

HOSTILE = st.one_of(
    st.sampled_from(
        [
            None,
            "",
            "NaN",
            "-Infinity",
            "1e999",
            -1,
            0,
            1e-9,
            1e300,
            True,
            "12abc",
            " 5 ",
            "0x10",
            "\x1b]52;c;eA==\x07",
            "BTC-PERPETUAL",
            "BTCUSDT",
            "BTC-27MAR26",
            32503708800000,
            "0",
        ]
    ),
    st.just(10**5000),
    st.builds(lambda: [[[[]]]]),
    st.builds(lambda: {"nested": {"deeper": [1, "x"]}}),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)


def _paths(node, prefix=()):
    """Every (container path, key) in a JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix, k
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix, i
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated(draw, venue):
    parse, responses, now = PARSERS[venue]
    r = responses()
    for key in list(r):  # sometimes a whole response is of the wrong shape
        if draw(st.integers(0, 19)) == 0:
            r[key] = draw(HOSTILE)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(r) if p[0]]  # inside a response: the dict of responses is poll.py's own
        if not paths:
            break
        where, key = draw(st.sampled_from(paths))
        parent = r
        for step in where:
            parent = parent[step]
        action = draw(st.sampled_from(["swap", "swap", "swap", "drop", "junk"]))
        if action == "swap":
            parent[key] = draw(HOSTILE)
        elif action == "drop":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(HOSTILE)
    return r


@pytest.mark.parametrize("venue", sorted(PARSERS))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_quotes_within_bounds_or_a_data_error(venue, data):
    parse, _, now = PARSERS[venue]
    r = data.draw(mutated(venue))
    try:
        quotes = parse(r, now)
    except DataError:
        return
    assert_within_bounds(quotes, now)


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(st.text(max_size=60), st.sampled_from(['{"a": ' + "1" * 4400 + "}", "[" * 5000, '{"a": 1e999}', '"\\ud800"']))
)
def test_property_loads_returns_json_or_a_data_error(text):
    try:
        loads(text)
    except DataError:
        pass
