"""Farside polls end to end (fetch -> parse -> store -> status) under injected faults. No internet."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import random
import time

import httpx
import pytest

from common.calendar import from_iso
from common.config import SourceConfig
from sources.farside import HISTORY_PATHS, RECENT_PATHS, history_key, poll_farside
from sources.http import make_client, parse_retry_after
from store import Store
from tests import loopback
from tests.helpers import page_from_totals

D = dt.date
NOW = dt.datetime(2025, 11, 7, 23, 0, tzinfo=dt.UTC)
WEEK = [
    (D(2025, 11, 3), -186.5),
    (D(2025, 11, 4), -566.4),
    (D(2025, 11, 5), -137.0),
    (D(2025, 11, 6), 239.9),
    (D(2025, 11, 7), -558.4),
]
CFG = SourceConfig("farside", "https://farside.test", interval=900, deadline=3)


def transport(routes: dict[str, object]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        r = routes.get(request.url.path, httpx.Response(404))
        return r(request) if callable(r) else r

    return httpx.MockTransport(handler)


def ok(html: str) -> httpx.Response:
    return httpx.Response(200, text=html, headers={"Content-Type": "text/html; charset=utf-8"})


async def poll(store, routes, cfg=CFG, now=NOW):
    async with make_client(transport(routes)) as client:
        return await poll_farside(client, store, cfg, "btc", now=now, rng=random.Random(1))


async def seeded(store):
    routes = {
        HISTORY_PATHS["btc"]: ok(page_from_totals(WEEK)),
        RECENT_PATHS["btc"]: ok(page_from_totals(WEEK[-3:], footer_over=None)),
    }
    out = await poll(store, routes)
    assert out.state == "ok", out
    return out


async def test_backfill_then_recent(store):
    out = await seeded(store)
    assert [t for _, _, t, _ in store.sessions("btc")] == [t for _, t in WEEK]
    assert store.meta(history_key("btc")) == "complete"
    st = store.status("farside_btc")
    assert st["state"] == "ok" and st["failures"] == 0 and from_iso(st["next_attempt"]) > NOW
    assert out.sessions_written == 5


async def test_history_404_means_recent_only(store):
    out = await poll(store, {RECENT_PATHS["btc"]: ok(page_from_totals(WEEK))})
    assert out.state == "ok" and store.meta(history_key("btc")) == "none" and len(store.sessions("btc")) == 5


@pytest.mark.parametrize(
    "response,state,message",
    [
        (httpx.Response(500), "error", "HTTP 500"),
        (httpx.Response(403, text="<title>Just a moment...</title><div id=cf-chl></div>"), "blocked", "challenge"),
        (httpx.Response(503, text="<html>challenge-platform</html>"), "blocked", "challenge"),
        (ok("<html><body>Please enable cookies</body></html>"), "blocked", "no flow table"),
        (ok(page_from_totals(WEEK).replace("06 Nov 2025", "06 Nov 2025</td><td>9")), "error", "parse error"),
        (
            httpx.Response(
                200, content=b"\xff\xfe<table class='etf'>\xc3\x28", headers={"Content-Type": "text/html; charset=utf-8"}
            ),
            "error",
            "not valid",
        ),
        (httpx.Response(302, headers={"Location": "https://elsewhere.test/"}), "error", "redirect"),
    ],
)
async def test_faults_keep_history_and_report(store, response, state, message):
    await seeded(store)
    before = store.sessions("btc"), store.flows("btc")
    out = await poll(store, {RECENT_PATHS["btc"]: response}, now=NOW + dt.timedelta(minutes=20))
    assert out.state == state and message in out.error
    assert (store.sessions("btc"), store.flows("btc")) == before  # nothing stored from the bad response
    st = store.status("farside_btc")
    assert st["state"] == state and st["failures"] == 1 and st["last_success"] == NOW.isoformat()
    assert from_iso(st["next_attempt"]) > NOW + dt.timedelta(minutes=20)


async def test_backoff_grows_then_recovers(store):
    await seeded(store)
    t = NOW
    delays = []
    for _ in range(4):
        t += dt.timedelta(minutes=1)
        await poll(store, {RECENT_PATHS["btc"]: httpx.Response(502)}, now=t)
        delays.append((from_iso(store.status("farside_btc")["next_attempt"]) - t).total_seconds())
    assert delays[0] < delays[1] < delays[2] < delays[3] <= 900 * 1.1
    out = await poll(store, {RECENT_PATHS["btc"]: ok(page_from_totals(WEEK))}, now=t + dt.timedelta(minutes=30))
    assert out.state == "ok" and store.status("farside_btc")["failures"] == 0


@pytest.mark.parametrize("retry_after,expect_s", [("120", 120), ("Fri, 07 Nov 2025 23:10:00 GMT", 600), ("soon", None)])
async def test_429_retry_after_is_honoured_and_persisted(store, retry_after, expect_s):
    await seeded(store)
    calls = []

    def limited(request):
        calls.append(request)
        return httpx.Response(429, headers={"Retry-After": retry_after})

    out = await poll(store, {RECENT_PATHS["btc"]: limited})
    assert out.state == "rate-limited"
    st = store.status("farside_btc")
    if expect_s is None:
        assert st["ban_until"] is None  # garbage falls back to backoff
        assert from_iso(st["next_attempt"]) > NOW
        return
    assert from_iso(st["ban_until"]) == NOW + dt.timedelta(seconds=expect_s)
    # A restart (new store object on the same file) must not ask again before the ban ends.
    path = store.path
    store.close()
    again = Store.open(path)
    out = await poll(again, {RECENT_PATHS["btc"]: limited}, now=NOW + dt.timedelta(seconds=expect_s - 5))
    assert out.skipped and len(calls) == 1
    again.close()


def test_retry_after_parsing():
    assert parse_retry_after("30", NOW) == NOW + dt.timedelta(seconds=30)
    assert parse_retry_after("garbage", NOW) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == NOW  # a past date means now


async def test_page_that_shrinks_history_is_refused(store):
    await seeded(store)
    gappy = [WEEK[0], WEEK[4]]  # same range, three sessions gone
    out = await poll(store, {RECENT_PATHS["btc"]: ok(page_from_totals(gappy))})
    assert out.state == "error" and "refused" in out.error
    assert len(store.sessions("btc")) == 5


async def test_footer_cross_check_mismatch_is_reported(store):
    await seeded(store)
    # The page's all-history footer covers rows the store does not match: Maximum 27.0 vs our 239.9.
    footer_over = [(d, [1.0, 1.0, 1.0], 3.0) for d, _ in WEEK[:1]] + [(D(2025, 11, 10), [9.0, 9.0, 9.0], 27.0)]
    page = page_from_totals(WEEK, footer_over=footer_over)
    out = await poll(store, {RECENT_PATHS["btc"]: ok(page)})
    assert out.state == "ok" and out.warning and "cross-check" in out.warning
    assert "cross-check" in store.status("farside_btc")["warning"]


async def test_old_data_is_stale_not_ok(store):
    await seeded(store)
    out = await poll(store, {RECENT_PATHS["btc"]: ok(page_from_totals(WEEK))}, now=NOW + dt.timedelta(days=7))
    assert out.state == "stale" and "newest row is 2025-11-07" in out.warning


async def test_sanitised_error_text(store):
    out = await poll(
        store,
        {
            HISTORY_PATHS["btc"]: httpx.Response(404),
            RECENT_PATHS["btc"]: httpx.Response(302, headers={"Location": "\x1b]0;x\x07http://e"}),
        },
    )
    assert "\x1b" not in out.error and "\x07" not in out.error


# ---- socket-level faults on 127.0.0.1 --------------------------------------------------------


async def test_hang_costs_the_deadline_not_minutes(store):
    async def hang(path, writer):
        await asyncio.sleep(20)

    async with loopback.serve(hang) as base:
        cfg = SourceConfig("farside", base, interval=900, deadline=1.0)
        t0 = time.monotonic()
        async with make_client() as client:
            out = await poll_farside(client, store, cfg, "btc", now=NOW)
        assert time.monotonic() - t0 < 3.0
    assert out.state == "error" and "1s" in out.error


async def test_slow_loris_body_is_cut_by_the_overall_deadline(store):
    body = page_from_totals(WEEK).encode()

    async def slow(path, writer):
        writer.write(loopback.response(body)[:200])
        for b in body[:50]:
            writer.write(bytes([b]))
            await writer.drain()
            await asyncio.sleep(0.2)

    async with loopback.serve(slow) as base:
        cfg = SourceConfig("farside", base, interval=900, deadline=1.5)
        t0 = time.monotonic()
        async with make_client() as client:
            out = await poll_farside(client, store, cfg, "btc", now=NOW)
        assert time.monotonic() - t0 < 3.5
    assert out.state == "error" and store.sessions() == []


async def test_gzip_bomb_is_refused_without_inflating_it(store):
    bomb = gzip.compress(b"<html>" + b" " * (64 * 1024 * 1024))

    async def serve_bomb(path, writer):
        writer.write(loopback.response(bomb, headers={"Content-Encoding": "gzip"}))
        await writer.drain()

    async with loopback.serve(serve_bomb) as base:
        async with make_client() as client:
            out = await poll_farside(client, store, SourceConfig("farside", base, 900, deadline=10), "btc", now=NOW)
    assert out.state == "error" and "MiB" in out.error


async def test_truncated_body_wrong_content_length(store):
    body = page_from_totals(WEEK).encode()

    async def short(path, writer):
        writer.write(loopback.response(body, headers={"Content-Length": str(len(body) + 500)}))
        await writer.drain()

    async with loopback.serve(short) as base:
        async with make_client() as client:
            out = await poll_farside(client, store, SourceConfig("farside", base, 900, deadline=5), "btc", now=NOW)
    assert out.state == "error" and store.sessions() == []


async def test_connection_refused(store):
    async with make_client() as client:
        out = await poll_farside(client, store, SourceConfig("farside", "http://127.0.0.1:9", 900, deadline=3), "btc", now=NOW)
    assert out.state == "error" and "connect" in out.error


async def test_gzip_page_is_read(store):
    html = page_from_totals(WEEK).encode()

    async def gz(path, writer):
        if path == RECENT_PATHS["btc"]:
            writer.write(loopback.response(gzip.compress(html), headers={"Content-Encoding": "gzip"}))
        else:
            writer.write(loopback.response(b"nope", status="404 Not Found"))
        await writer.drain()

    async with loopback.serve(gz) as base:
        async with make_client() as client:
            out = await poll_farside(client, store, SourceConfig("farside", base, 900, deadline=5), "btc", now=NOW)
    assert out.state == "ok" and len(store.sessions("btc")) == 5


def test_backoff_survives_a_day_of_failures():
    """A source blocked all day (the demo CME) reaches thousands of failures; the delay stays at the cap."""
    from sources.schedule import backoff_seconds

    for failures in (1, 40, 2_000, 10**6):
        delay = backoff_seconds(failures, 900.0)
        assert 0 < delay <= 900 * 1.1
    assert backoff_seconds(10**6, 900.0) > 900 * 0.9
