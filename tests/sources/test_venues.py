"""Derivatives venue parsers against the real samples, hostile variants, units and expiry arithmetic."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from common.records import DataError
from sources.http import RateLimitedError
from sources.venues import binance, bybit, cme, deribit, okx
from sources.venues.common import VenueDataError, days_between, expiry_from_code, loads, quarterly_expiries
from tests.conftest import sample

UTC = dt.UTC
NOW = dt.datetime(2025, 12, 12, 12, tzinfo=UTC)


def js(name):
    return json.loads(sample(name))


def deribit_ticker():
    return {"jsonrpc": "2.0", "result": js("deribit_ws_ticker_BTC-PERPETUAL__nautilus_fixture.json")["params"]["data"]}


def test_deribit_ticker_sample_exact_and_units():
    q = deribit.parse_ticker(deribit_ticker(), NOW)
    assert q.instrument == "BTC-PERPETUAL" and q.perpetual
    assert q.funding_rate == 0.00001742 and q.funding_interval_h == 8.0
    assert q.oi_usd == 1132329370.0  # Deribit inverse OI is in USD
    assert q.oi_btc == pytest.approx(1132329370.0 / 92263.55)
    assert q.ts == dt.datetime.fromtimestamp(1765541474.086, UTC)


def test_deribit_docs_ticker_sample_in_rest_envelope():
    q = deribit.parse_ticker({"result": js("deribit_docs_incremental_ticker_BTC-PERPETUAL_example.json")["data"]}, NOW)
    assert q.funding_rate == 0.0000211 and q.oi_usd == 502097590


def test_deribit_futures_from_book_and_instruments():
    book = {
        "result": [
            {
                "instrument_name": "BTC-PERPETUAL",
                "mark_price": 92281.78,
                "estimated_delivery_price": 92263.55,
                "open_interest": 1.1e9,
            },
            {
                "instrument_name": "BTC-27MAR26",
                "mark_price": 93500.0,
                "estimated_delivery_price": 92263.55,
                "open_interest": 2.5e8,
                "creation_timestamp": 1765541474086,
            },
        ]
    }
    instruments = {"result": [{"instrument_name": "BTC-27MAR26", "expiration_timestamp": 1774598400000}]}
    quotes = deribit.parse({"ticker": deribit_ticker(), "book": book, "instruments": instruments}, NOW)
    fut = [q for q in quotes if not q.perpetual]
    assert len(fut) == 1 and fut[0].expiry == dt.datetime(2026, 3, 27, 8, tzinfo=UTC)
    assert fut[0].oi_btc == pytest.approx(2.5e8 / 92263.55)


def test_deribit_rate_limit_code_10028():
    with pytest.raises(RateLimitedError):
        deribit.check("ticker", {"jsonrpc": "2.0", "error": {"code": 10028, "message": "too_many_requests"}}, NOW)


def usdm_responses():
    return {
        "premium": js("binance_fapi_premiumIndex__official_connector_docs_example.json"),
        "open_interest": js("binance_fapi_openInterest__official_connector_docs_example.json"),
        "funding_info": js("binance_fapi_fundingInfo__official_connector_docs_example.json"),
        "basis_current": usdm_basis("CURRENT_QUARTER"),
        "basis_next": usdm_basis("NEXT_QUARTER"),
    }


def usdm_basis(contract_type):
    """The real COIN-M basis row (pair BTCUSD, CURRENT_QUARTER) relabelled to the USD-M pair and the asked type."""
    rows = js("binance_dapi_futures_data_basis__official_connector_docs_example.json")
    return [{**r, "pair": "BTCUSDT", "contractType": contract_type} for r in rows]


BASIS_NOW = dt.datetime(2022, 5, 24, 12, tzinfo=UTC)  # just after the basis sample's hour


def test_binance_usdm_samples_and_units():
    quotes = binance.parse_usdm(usdm_responses(), BASIS_NOW)
    perp = quotes[0]
    assert perp.funding_rate == 0.00038246 and perp.funding_interval_h == 8.0  # BTCUSDT not in fundingInfo
    assert perp.oi_btc == 10659.509  # Binance USD-M OI is in BTC
    assert perp.oi_usd == pytest.approx(10659.509 * 11793.63104562)
    assert [q.expiry for q in quotes[1:]] == [dt.datetime(2022, 6, 24, 8, tzinfo=UTC), dt.datetime(2022, 9, 30, 8, tzinfo=UTC)]
    assert quotes[1].mark == 29341.3 and quotes[1].index == 29269.93972727


def test_binance_funding_interval_is_read_not_assumed():
    r = usdm_responses()
    r["funding_info"] = [{"symbol": "BTCUSDT", "fundingIntervalHours": 4}]
    assert binance.parse_usdm(r, BASIS_NOW)[0].funding_interval_h == 4.0


def test_binance_coinm_units_and_delivery_contracts():
    prem = js("binance_dapi_premiumIndex__official_connector_docs_example.json")
    prem.append(
        {
            "symbol": "BTCUSD_251226",
            "pair": "BTCUSD",
            "markPrice": "11100.5",
            "indexPrice": "10979.144375",
            "estimatedSettlePrice": "10981.7",
            "lastFundingRate": "",
            "interestRate": "",
            "nextFundingTime": 0,
            "time": 1596094042000,
        }
    )
    oi = {**js("binance_dapi_openInterest__official_connector_docs_example.json"), "symbol": "BTCUSD_PERP"}
    quotes = binance.parse_coinm({"premium": prem, "open_interest": oi}, NOW)
    perp, fut = quotes
    assert perp.oi_usd == 15004 * 100.0  # COIN-M contracts of 100 USD
    assert perp.oi_btc == pytest.approx(15004 * 100.0 / 10979.144375)
    assert fut.expiry == dt.datetime(2025, 12, 26, 8, tzinfo=UTC) and fut.funding_rate is None


def bybit_list(*entries):
    return {"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": list(entries)}, "time": 1760409119857}


BYBIT_NOW = dt.datetime(2025, 10, 14, 3, tzinfo=UTC)  # after the docs examples' ts, before BTC-26DEC25 expires


def test_bybit_perpetual_and_dated_future_samples():
    perp = js("bybit_docs_ws_tickers_LinearPerpetual_BTCUSDT_example.json")["data"]
    fut = js("bybit_docs_ws_tickers_LinearFutures_BTC-26DEC25_example.json")["data"]
    real = js("bybit_v5_market_tickers_linear_10000LADYSUSDT__real_capture_kotlin_comment.json")["result"]["list"][0]
    quotes = bybit.parse({"tickers": bybit_list(perp, fut, real)}, BYBIT_NOW)
    p = next(q for q in quotes if q.perpetual)
    f = next(q for q in quotes if not q.perpetual)
    assert len(quotes) == 2  # the unrelated 10000LADYSUSDT row is ignored
    assert p.funding_rate == -0.005 and p.funding_interval_h == 8.0
    assert p.oi_btc == 492373.72 and p.oi_usd == 32824881841.75
    assert f.expiry == dt.datetime(2025, 12, 26, 8, tzinfo=UTC) and f.mark == 121144.63 and f.index == 114132.51


def test_bybit_real_envelope_parses_and_rate_limit_codes():
    obj = js("bybit_v5_market_tickers_linear_10000LADYSUSDT__real_capture_kotlin_comment.json")
    bybit.check("tickers", obj, NOW)
    with pytest.raises(VenueDataError, match="no BTCUSDT"):
        bybit.parse({"tickers": obj}, NOW)
    with pytest.raises(RateLimitedError):
        bybit.check("tickers", {"retCode": 10006, "retMsg": "Too many visits!"}, NOW)


def okx_responses():
    return {
        "funding": {
            "code": "0",
            "data": [
                {
                    "instId": "BTC-USDT-SWAP",
                    "fundingRate": "0.0001515032",
                    "fundingTime": "1704067200000",
                    "nextFundingTime": "1704096000000",
                }
            ],
        },
        "open_interest": {
            "code": "0",
            "data": [
                {"instId": "BTC-USDT-SWAP", "oi": "2500000", "oiCcy": "25000", "oiUsd": "1050000000", "ts": "1704067100000"}
            ],
        },
        "index": {"code": "0", "data": [{"instId": "BTC-USD", "idxPx": "42000.5", "ts": "1704067100000"}]},
        "futures": {"code": "0", "data": [{"instId": "BTC-USD-240329", "markPx": "43000", "ts": "1704067100000"}]},
    }


def test_okx_funding_sample_field_and_interval_from_times():
    history = js("okx_public_funding-rate-history_BTC-USDT-SWAP__nautilus_fixture.json")
    r = okx_responses()
    r["funding"]["data"][0]["fundingRate"] = history["data"][0]["fundingRate"]
    quotes = okx.parse(r, dt.datetime(2024, 1, 1, 12, tzinfo=UTC))
    swap = quotes[0]
    assert swap.funding_rate == 0.0001515032 and swap.funding_interval_h == 8.0
    assert swap.oi_btc == 25000.0 and swap.oi_usd == 1050000000.0  # oiCcy is BTC, not contracts
    assert quotes[1].expiry == dt.datetime(2024, 3, 29, 8, tzinfo=UTC)
    with pytest.raises(RateLimitedError):
        okx.check("funding", {"code": "50011", "msg": "Too Many Requests", "data": []}, NOW)


def test_cftc_and_cme_contracts_of_5_btc():
    rows = [{"report_date_as_yyyy_mm_dd": "2025-11-18T00:00:00.000", "open_interest_all": "27512"}]
    q = cme.parse_cftc({"cot": rows}, NOW)[0]
    assert q.oi_btc == 27512 * 5 and q.ts.date() == dt.date(2025, 11, 18)
    settle = {
        "settlements": [
            {"month": "DEC 25", "settle": "91,230", "openInterest": "12,345"},
            {"month": "JAN 26", "settle": "91,800", "openInterest": "1,000"},
            {"month": "Total", "openInterest": "13,345"},
        ]
    }
    assert cme.parse_cme({"settlements": settle}, NOW)[0].oi_btc == 13345 * 5


# ---- hostile variants ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate,needle",
    [
        (lambda p: p.pop("markPrice"), "markPrice' missing"),
        (lambda p: p.update(markPrice="NaN"), "not finite"),
        (lambda p: p.update(markPrice="-5"), "markPrice = -5 is outside"),
        (lambda p: p.update(markPrice="1e12"), r"markPrice = 1e\+12 is outside"),
        (lambda p: p.update(lastFundingRate="5"), "lastFundingRate = 5 is outside"),
        (lambda p: p.update(markPrice=[1]), "not a number"),
        (lambda p: p.update(markPrice="12abc"), "not a number"),
    ],
)
def test_binance_drift_and_absurd_values_are_refused(mutate, needle):
    r = usdm_responses()
    mutate(r["premium"])
    with pytest.raises(DataError, match=needle):
        binance.parse_usdm(r, BASIS_NOW)


def test_extra_fields_are_ignored():
    r = usdm_responses()
    r["premium"]["brandNewField"] = {"x": 1}
    assert binance.parse_usdm(r, BASIS_NOW)[0].mark == 11793.63104562


def test_negative_open_interest_is_refused():
    t = deribit_ticker()
    t["result"]["open_interest"] = -1
    with pytest.raises(DataError, match="open_interest"):
        deribit.parse_ticker(t, NOW)


@pytest.mark.parametrize(
    "text,needle",
    [
        ('{"a": NaN}', "non-finite"),
        ("<html><body>Just a moment</body></html>", "HTML where JSON"),
        ("[" * 100000 + "]" * 100000, "nested"),
        ('{"a": 1', "not JSON"),
    ],
)
def test_json_loader_refuses_hostile_text(text, needle):
    with pytest.raises(VenueDataError, match=needle):
        loads(text)


def test_empty_results_are_errors():
    with pytest.raises(VenueDataError):
        binance.parse_coinm({"premium": [], "open_interest": {"openInterest": "1"}}, NOW)
    with pytest.raises(VenueDataError):
        okx.parse({**okx_responses(), "futures": {"code": "0", "data": []}}, dt.datetime(2024, 1, 1, 12, tzinfo=UTC))


# ---- expiry arithmetic -----------------------------------------------------------------------


def test_quarterly_expiries_last_friday_0800_utc():
    assert quarterly_expiries(dt.datetime(2025, 11, 24, tzinfo=UTC), 3) == [
        dt.datetime(2025, 12, 26, 8, tzinfo=UTC),
        dt.datetime(2026, 3, 27, 8, tzinfo=UTC),
        dt.datetime(2026, 6, 26, 8, tzinfo=UTC),
    ]


def test_quarter_end_expiry_boundary_at_0800():
    just_before = dt.datetime(2025, 12, 26, 7, 59, tzinfo=UTC)
    just_after = dt.datetime(2025, 12, 26, 8, 0, tzinfo=UTC)
    assert quarterly_expiries(just_before, 1)[0] == dt.datetime(2025, 12, 26, 8, tzinfo=UTC)
    assert quarterly_expiries(just_after, 1)[0] == dt.datetime(2026, 3, 27, 8, tzinfo=UTC)
    assert days_between(just_before, dt.datetime(2025, 12, 26, 8, tzinfo=UTC)) == pytest.approx(1 / 1440)


def test_expiry_codes():
    assert expiry_from_code("26DEC25") == dt.datetime(2025, 12, 26, 8, tzinfo=UTC)
    assert expiry_from_code("251226") == dt.datetime(2025, 12, 26, 8, tzinfo=UTC)
    assert expiry_from_code("31FEB25") is None and expiry_from_code("PERPETUAL") is None


def test_observation_history_is_bounded(tmp_path):
    from sources.venues.common import Quote
    from store import Store

    store = Store.open(tmp_path / "o.db")
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    for minute in range(0, 60 * 24 * 40, 10):  # 40 days every 10 minutes
        t = start + dt.timedelta(minutes=minute)
        store.write_quotes([Quote("deribit", "BTC-PERPETUAL", t, mark=1.0, oi_usd=2.0)], fetched_at=t)
    rows = store.observations()
    # 48 h at 10-minute resolution + hourly to 30 days + daily beyond, for two metrics; the daily tier runs once a
    # day (store/sqlite.py PRUNE_DAILY_EVERY), so up to a day of hourly rows past 30 days waits for it.
    assert len(rows) < 2 * (6 * 48 + 24 * 28 + 24 + 10 + 10)
    assert len(rows) > 2 * (6 * 48)
    store.close()
