"""Per-venue rate-limit signals and faults against a server on 127.0.0.1 (bounded, loopback only)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from common.calendar import from_iso
from common.config import SourceConfig
from sources.http import make_client
from sources.venues import VENUES
from sources.venues.poll import poll_venue
from tests import loopback

NOW = dt.datetime(2025, 11, 24, 22, tzinfo=dt.UTC)


async def poll(store, venue, respond):
    async def handler(path, writer):
        writer.write(respond(path))
        await writer.drain()

    async with loopback.serve(handler) as base:
        async with make_client() as client:
            return await poll_venue(client, store, SourceConfig(venue, base, 60.0, deadline=5), VENUES[venue], now=NOW)


def js(obj, status="200 OK", headers=None):
    return loopback.response(
        json.dumps(obj).encode(), status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


@pytest.mark.parametrize(
    "venue,response,state,ban_s",
    [
        (
            "binance",
            js({"code": -1003, "msg": "Too many requests"}, "429 Too Many Requests", {"Retry-After": "120"}),
            "rate-limited",
            120,
        ),
        ("binance", js({"code": -1003, "msg": "banned"}, "418 I'm a teapot", {"Retry-After": "7200"}), "banned", 7200),
        ("bybit", loopback.response(b"access too frequent", status="403 Forbidden"), "banned", 600),
        ("okx", js({"code": "50011", "msg": "Too Many Requests", "data": []}, "429 Too Many Requests"), "rate-limited", None),
        ("okx", js({"code": "50011", "msg": "Too Many Requests", "data": []}), "rate-limited", None),
        ("deribit", js({"jsonrpc": "2.0", "error": {"code": 10028, "message": "too_many_requests"}}), "rate-limited", None),
        ("bybit", js({"retCode": 10006, "retMsg": "Too many visits!"}), "rate-limited", None),
    ],
)
async def test_rate_limit_signals_per_venue(store, venue, response, state, ban_s):
    out = await poll(store, venue, lambda path: response)
    assert out.state == state, out
    st = store.status(venue)
    if ban_s is not None:
        assert from_iso(st["ban_until"]) == NOW + dt.timedelta(seconds=ban_s)  # persisted: a restart waits too
    assert from_iso(st["next_attempt"]) > NOW
    assert store.observations() == []


@pytest.mark.parametrize(
    "body,state,needle",
    [
        (loopback.response(b"<html><title>Just a moment...</title><div id=cf-chl></div></html>"), "blocked", "challenge"),
        (loopback.response(b"<html><body>maintenance</body></html>"), "error", "HTML where JSON"),
        (js({"retCode": 0, "result": {"list": [{"symbol": "BTCUSDT", "markPrice": "NaN"}]}}), "error", "not finite"),
        (
            loopback.response(b'{"retCode": 0, "result": {"list": [{"symbol": "BTCUSDT", "markPrice": NaN}]}}'),
            "error",
            "non-finite",
        ),
        (js({"retCode": 0, "result": {"list": []}}), "error", "no BTCUSDT"),
        (js({"retCode": 0, "result": {"lst": []}}), "error", "'list' missing"),
    ],
)
async def test_bybit_faults_store_nothing(store, body, state, needle):
    out = await poll(store, "bybit", lambda path: body)
    assert out.state == state and needle in out.error
    assert store.observations() == []


async def test_cme_bot_wall_is_blocked_and_cftc_still_serves_cme_oi(store):
    wall = loopback.response(b"<html>Access Denied</html><!-- challenge-platform -->", status="403 Forbidden")
    out = await poll(store, "cme", lambda path: wall)
    assert out.state == "blocked"
    cot = js([{"report_date_as_yyyy_mm_dd": "2025-11-18T00:00:00.000", "open_interest_all": "27512"}])
    out = await poll(store, "cftc", lambda path: cot)
    assert out.state == "ok"
    assert ("cme", "BTC futures (CFTC COT)", "oi_btc", "2025-11-18T21:00:00+00:00", 137560.0) in store.observations()


EXCHANGE_INFO = {
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
    ]
}


async def test_binance_weight_limit_is_read_and_honoured(store):
    from sources.venues import binance

    assert binance.weight_limit(EXCHANGE_INFO) == 2400
    seen = []

    def respond(path):
        seen.append(path)
        if "exchangeInfo" in path:
            return js(EXCHANGE_INFO)
        return js({"symbol": "BTCUSDT"}, headers={"X-MBX-USED-WEIGHT-1M": "2100"})  # 87% of 2400

    out = await poll(store, "binance", respond)
    assert out.state == "rate-limited" and "2100 of 2400" in out.error
    assert from_iso(store.status("binance")["ban_until"]) == NOW + dt.timedelta(minutes=1)
    assert len(seen) == 2  # exchangeInfo, then one request: no more this minute
    assert store.meta("weight_limit:binance").startswith("2400@")
