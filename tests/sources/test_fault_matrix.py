"""The fault matrix: every source adapter against every upstream fault, on a server on 127.0.0.1.

Each case starts from a store seeded by a healthy poll, turns one fault on, polls once three hours
later, and checks four things: the state (in the status bar text and in `snapshot --json`), that the
stored data and the document's figures are exactly what they were (last good kept; venues whose data
is now old are marked stale), that the next attempt is the one promised (backoff, the host's
Retry-After, a ban, or the interval for a bot wall) and that a poll before it sends nothing; then
the server heals and the next poll is ok again. The healthy answers are the demo's recordings, in
each upstream's own format, so every byte goes through the real fetch -> parse -> store path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import gzip
import json
import random
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.main import snapshot_document
from common.calendar import from_iso, new_york_today
from common.config import Config, SourceConfig, parse_config
from demo import DEMO_BASE_URL, DEMO_NOW, demo_transport, load_dataset
from sources import registry
from sources.farside_render import render_page
from sources.http import make_client
from sources.venues import VENUES
from store import Store
from tests import loopback
from tui.bars import plain_error, source_text

CONFIG: Config = parse_config({}, Path("<defaults>"))
SEEDED_AT = DEMO_NOW
FAULT_AT = DEMO_NOW + dt.timedelta(hours=3)  # old enough that minute-by-minute venues are past their stale limit
DEADLINE = 1.0  # per poll, so hang and slow-loris cases cost a second each
CME_SETTLEMENTS = {
    "settlements": [
        {"month": "DEC 25", "settle": "87,700", "openInterest": "21,400"},
        {"month": "JAN 26", "settle": "88,150", "openInterest": "2,120"},
        {"month": "Total", "openInterest": "23,520"},
    ]
}


# ---- the adapters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adapter:
    source: registry.SourceSpec  # the registry entry: status name, config section, how it polls
    kind: str  # "html" (Farside) or "json"
    key: str | None = None  # a field its parser needs, for NaN/absurd/drift variants
    absurd: Any = None  # a value out of bounds for that field
    empty: Any = None  # the upstream's own shape with no data in it

    @property
    def sid(self) -> str:
        return self.source.id

    @property
    def stale_after_s(self) -> float | None:  # data older than this is marked stale in the document (derivatives)
        return self.source.stale_after_s if self.source.kind == registry.DERIVATIVES else None

    @property
    def base_path(self) -> str:
        return "" if self.kind == "html" else f"/{self.sid}"

    async def poll(self, client, store: Store, cfg: SourceConfig, now: dt.datetime, rng) -> Any:
        config = CONFIG.with_source(cfg.name, base_url=cfg.base_url, deadline=cfg.deadline)
        return await registry.poll(self.source, client, store, config, now=now, rng=rng)

    def data(self, store: Store) -> tuple:
        """Everything stored that this adapter writes (statuses are not data)."""
        return (store.sessions(), store.flows(), store.revisions(), store.observations(), store.candles(), store.funds("btc"))


# Per source: the field a fault corrupts, a value out of its bounds, its upstream's empty answer.
# Farside's three tables share one parser and one page format: farside_btc stands for them.
FAULT_DATA: dict[str, tuple[str, Any, Any, Any]] = {
    "farside_btc": ("html", None, None, None),
    "deribit": ("json", "mark_price", -5.0, {"jsonrpc": "2.0", "result": []}),
    "binance": ("json", "markPrice", "-5", []),
    "binance_coinm": ("json", "markPrice", "-5", []),
    "bybit": ("json", "markPrice", "-5", {"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": []}}),
    "okx": ("json", "oiCcy", "-5", {"code": "0", "msg": "", "data": []}),
    "cme": ("json", "openInterest", "-5", {"settlements": []}),
    "cftc": ("json", "open_interest_all", "-5", []),
    "coinbase": ("json", None, None, []),
    "coinbase_spot": ("json", "price", "-5", {}),
    "polymarket": ("json", "outcomePrices", '["7.5", "0.2"]', []),
    "kalshi": ("json", "last_price_dollars", "12.5", {"cursor": "", "events": []}),
}
ADAPTERS = {s.id: Adapter(s, *FAULT_DATA[s.id]) for s in registry.REGISTRY if s.id in FAULT_DATA}


def test_every_registered_source_is_in_the_matrix():
    assert set(FAULT_DATA) <= set(registry.BY_ID)
    # farside_eth/sol: the same parser as farside_btc. The issuer files: the demo records none (their fetch path
    # and states are this matrix's shared run_poll/fetch_text; their parsers and polls: tests/sources/test_issuers.py).
    # sosovalue (keyed, POST): its faults (429 and code 42901 with retry_after, hostile bodies, the key never shown)
    # are tests/sources/test_sosovalue.py's; the loopback server here answers by path and reads no request body.
    issuers = {s.id for s in registry.REGISTRY if s.id.startswith(registry.ISSUER_PREFIX)}
    assert set(registry.BY_ID) - set(ADAPTERS) == {"farside_eth", "farside_sol", "sosovalue", *issuers}


def source_config(adapter: Adapter, base: str) -> SourceConfig:
    name = adapter.source.section
    return SourceConfig(name, base + adapter.base_path, CONFIG.source(name).interval, deadline=DEADLINE)


# ---- the upstream: healthy answers, or one fault ----------------------------------------------------


def healthy(path: str, t: dt.datetime) -> tuple[str, bytes, str]:
    """(status, body, content type) as the demo's recordings answer `path` at time `t`."""
    if path.startswith("/cme/"):  # the demo plays CME as bot-walled; here it answers
        return "200 OK", json.dumps(CME_SETTLEMENTS).encode(), "application/json"
    resp = demo_transport(lambda: t).handle_request(httpx.Request("GET", DEMO_BASE_URL + path))
    resp.read()
    return f"{resp.status_code} OK", resp.content, resp.headers.get("Content-Type", "text/plain")


CHALLENGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><div id='cf-chl-widget'></div></body></html>"
BOMB = gzip.compress(b" " * (16 * 1024 * 1024))  # 16 KB on the wire, 16 MiB inflated: past every cap


def _json_mutate(body: bytes, adapter: Adapter, fault: str) -> bytes:
    obj = json.loads(body)
    if fault == "empty":
        return json.dumps(adapter.empty).encode()
    if adapter.sid == "coinbase":  # rows are [time, low, high, open, close, volume]
        rows = obj
        if fault == "nan":
            rows = [r[:4] + [float("nan")] + r[5:] for r in rows]
        elif fault == "absurd":
            rows = [r[:4] + [-5.0] + r[5:] for r in rows]
        elif fault == "drift_missing":
            rows = [r[:3] for r in rows]
        elif fault == "drift_renamed":  # a column turned to text
            rows = [[r[0], *map(str, r[1:])] for r in rows]
        elif fault == "drift_extra":
            rows = [r + [0.0] for r in rows]
        return json.dumps(rows).encode()

    def walk(node):
        if isinstance(node, list):
            return [walk(x) for x in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            if k == adapter.key and fault == "drift_missing":
                continue
            if k == adapter.key and fault == "drift_renamed":
                k = k + "_v2"
            elif k == adapter.key and fault == "nan":
                v = '["NaN", "NaN"]' if adapter.sid == "polymarket" else ("NaN" if isinstance(v, str) else float("nan"))
            elif k == adapter.key and fault == "absurd":
                v = adapter.absurd
            out[k] = walk(v)
        if fault == "drift_extra":
            out["added_field_v2"] = {"note": "a field this version does not know"}
        return out

    return json.dumps(walk(obj)).encode()  # json.dumps writes float NaN as the bare token NaN


_TODAY_ROW = re.compile(
    r'(<tr style="background-color: #99ff99 !important;"><td><span class="tabletext">[^<]*</span></td>'
    r'<td[^>]*><div align="right"><span class="tabletext">)([^<]*)(</span>)'
)
_FIRST_CELL = re.compile(r'(<tr[^>]*><td><span class="tabletext">\d\d [A-Z][a-z]{2} \d{4}</span></td>)<td.*?</td>')


def _farside_page(extra_fund: bool = False, empty: bool = False) -> bytes:
    tickers, rows = load_dataset("btc")
    if extra_fund:  # a fund launches: one more column, reporting zero
        tickers, rows = [*tickers, "NEWF"], [(d, [*v, 0.0], t) for d, v, t in rows]
    recent = [] if empty else rows[-15:]
    return render_page(tickers, recent, today=DEMO_NOW.date(), footer_over=rows).encode()


def _html_mutate(body: bytes, fault: str) -> bytes:
    text = body.decode()
    if fault in ("nan", "absurd"):
        new, n = _TODAY_ROW.subn(lambda m: m[1] + ("NaN" if fault == "nan" else "99,999,999.0") + m[3], text)
        assert n == 1, "the live day's row is where the fault goes"
        return new.encode()
    if fault == "drift_missing":  # one cell gone from every session row: the columns no longer line up
        return _FIRST_CELL.sub(lambda m: m[1], text).encode()
    if fault == "drift_renamed":  # the table's class renamed
        return text.replace('class="etf"', 'class="etf-2026"').encode()
    if fault == "drift_extra":
        return _farside_page(extra_fund=True)
    if fault == "empty":
        return _farside_page(empty=True)
    raise AssertionError(fault)


def _raw(status: str, body: bytes, ctype: str, **headers: str) -> bytes:
    return loopback.response(body, status=status, headers={"Content-Type": ctype, **headers})


class Upstream:
    """Answers as the demo's recordings do, or with `fault`; counts the requests it was sent."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.fault: str | None = None
        self.clock = SEEDED_AT
        self.requests = 0

    async def handle(self, path: str, writer: asyncio.StreamWriter) -> None:
        self.requests += 1
        status, body, ctype = healthy(path, self.clock)
        fault = self.fault
        if fault is None or status != "200 OK":
            writer.write(_raw(status, body, ctype))
        elif fault == "hang":
            await asyncio.sleep(30)
        elif fault == "slow_loris":  # headers, then a byte every 0.2 s
            whole = _raw(status, body, ctype)
            head = whole[: whole.index(b"\r\n\r\n") + 4]
            writer.write(head)
            for b in body[:200]:
                writer.write(bytes([b]))
                await writer.drain()
                await asyncio.sleep(0.2)
        elif fault == "http_502":
            writer.write(_raw("502 Bad Gateway", b"<html><body>502 Bad Gateway</body></html>", "text/html"))
        elif fault.startswith("http_429_"):
            retry = {
                "http_429_seconds": "120",
                "http_429_date": email.utils.format_datetime(self.clock + dt.timedelta(hours=2), usegmt=True),
                "http_429_garbage": "in a little while",
            }[fault]
            writer.write(
                _raw("429 Too Many Requests", b'{"msg": "too many requests"}', "application/json", **{"Retry-After": retry})
            )
        elif fault == "http_418":
            writer.write(
                _raw("418 I'm a teapot", b'{"code": -1003, "msg": "banned"}', "application/json", **{"Retry-After": "7200"})
            )
        elif fault == "http_403_too_frequent":
            writer.write(_raw("403 Forbidden", b"access too frequent", "text/plain"))
        elif fault in ("challenge_403", "challenge_503", "challenge_200"):
            writer.write(
                _raw(
                    {"challenge_403": "403 Forbidden", "challenge_503": "503 Service Unavailable", "challenge_200": "200 OK"}[
                        fault
                    ],
                    CHALLENGE,
                    "text/html; charset=utf-8",
                )
            )
        elif fault == "truncated":  # promises more than it sends, then closes
            writer.write(_raw(status, body[: len(body) // 2], ctype, **{"Content-Length": str(len(body))}))
        elif fault == "wrong_length":  # says fewer bytes than it sends
            writer.write(_raw(status, body, ctype, **{"Content-Length": str(len(body) // 3)}))
        elif fault == "invalid_utf8":
            writer.write(_raw(status, body[:40] + b"\xff\xfe\xc3\x28" + body[40:], ctype + "; charset=utf-8"))
        elif fault == "wrong_type":  # HTML where JSON was expected; JSON where Farside's HTML was
            other = b'{"error": "moved"}' if self.adapter.kind == "html" else b"<html><body><h1>Maintenance</h1></body></html>"
            writer.write(_raw(status, other, "application/json" if self.adapter.kind == "html" else "text/html"))
        elif fault == "huge":
            writer.write(_raw(status, b" " * (9 * 1024 * 1024), ctype))
        elif fault == "gzip_bomb":
            writer.write(_raw(status, BOMB, ctype, **{"Content-Encoding": "gzip"}))
        else:
            mutated = _html_mutate(body, fault) if self.adapter.kind == "html" else _json_mutate(body, self.adapter, fault)
            writer.write(_raw(status, mutated, ctype))
        await writer.drain()


# ---- what each fault must lead to -----------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    state: str
    schedule: str  # backoff | retry_at | interval (bot wall) | normal (a good poll)
    retry_after_s: float | None = None  # for retry_at: how far the host said
    stores: bool = False  # only "a field added" stores: the rest leave the data exactly as it was


FAULTS: dict[str, Expect] = {
    "refused": Expect("error", "backoff"),
    "hang": Expect("error", "backoff"),
    "slow_loris": Expect("error", "backoff"),
    "http_502": Expect("error", "backoff"),
    "http_429_seconds": Expect("rate-limited", "retry_at", 120),
    "http_429_date": Expect("rate-limited", "retry_at", 7200),
    "http_429_garbage": Expect("rate-limited", "backoff"),
    "http_418": Expect("banned", "retry_at", 7200),
    "http_403_too_frequent": Expect("banned", "retry_at", 600),
    "challenge_403": Expect("blocked", "interval"),
    "challenge_503": Expect("blocked", "interval"),
    "challenge_200": Expect("blocked", "interval"),
    "truncated": Expect("error", "backoff"),
    "wrong_length": Expect("error", "backoff"),
    "invalid_utf8": Expect("error", "backoff"),
    "wrong_type": Expect("error", "backoff"),
    "nan": Expect("error", "backoff"),
    "absurd": Expect("error", "backoff"),
    "huge": Expect("error", "backoff"),
    "gzip_bomb": Expect("error", "backoff"),
    "drift_missing": Expect("error", "backoff"),
    "drift_renamed": Expect("error", "backoff"),
    "drift_extra": Expect("ok", "normal", stores=True),
    "empty": Expect("error", "backoff"),
}
OVERRIDES: dict[tuple[str, str], Expect] = {
    # Farside's table gone from a 200 page is what a bot wall looks like there: blocked, polled rarely.
    ("farside_btc", "drift_renamed"): Expect("blocked", "interval"),
    ("farside_btc", "wrong_type"): Expect("blocked", "interval"),
}


def expected(sid: str, fault: str) -> Expect:
    return OVERRIDES.get((sid, fault), FAULTS[fault])


# ---- seeding, once per adapter ---------------------------------------------------------------------

_SEEDED: dict[str, Path] = {}
_BEFORE_DOCS: dict[str, dict] = {}


async def _poll(adapter: Adapter, store: Store, base: str, now: dt.datetime):
    async with make_client() as client:
        return await adapter.poll(client, store, source_config(adapter, base), now, random.Random(7))


async def seeded_copy(adapter: Adapter, tmp_path: Path, tmp_path_factory) -> Store:
    """A store holding one healthy poll of `adapter` at SEEDED_AT (built once, copied per case)."""
    if adapter.sid not in _SEEDED:
        root = tmp_path_factory.mktemp(f"seed-{adapter.sid}")
        store = Store.open(root / "seed.db")
        upstream = Upstream(adapter)
        async with loopback.serve(upstream.handle) as base:
            out = await _poll(adapter, store, base, SEEDED_AT)
        assert out.state == "ok", out
        _BEFORE_DOCS[adapter.sid] = document(store, FAULT_AT)
        store.close()
        _SEEDED[adapter.sid] = root / "seed.db"
    shutil.copy(_SEEDED[adapter.sid], tmp_path / "case.db")
    return Store.open(tmp_path / "case.db")


def document(store: Store, now: dt.datetime) -> dict:
    return json.loads(json.dumps(snapshot_document(store, CONFIG, as_of=new_york_today(now), now=now, mode="live")))


def figures(doc: dict) -> dict:
    """The document without what is about the sources themselves."""
    return {k: v for k, v in doc.items() if k not in ("sources", "generated_at", "store")}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the matrix --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("sid", list(ADAPTERS))
async def test_fault_matrix(sid, fault, tmp_path, tmp_path_factory):
    adapter, want = ADAPTERS[sid], expected(sid, fault)
    store = await seeded_copy(adapter, tmp_path, tmp_path_factory)
    try:
        before = adapter.data(store)
        upstream = Upstream(adapter)
        upstream.clock = FAULT_AT
        upstream.fault = fault
        async with loopback.serve(upstream.handle) as base:
            fault_base = f"http://127.0.0.1:{closed_port()}" if fault == "refused" else base
            out = await _poll(adapter, store, fault_base, FAULT_AT)

            # 1. the state, in the poll outcome, the status bar and the document
            assert out.state == want.state, (out, want)
            status = store.status(sid)
            bar = source_text(sid, status, FAULT_AT).plain
            assert f": {want.state}" in bar, bar
            doc = document(store, FAULT_AT)
            assert doc["sources"][sid]["state"] == want.state
            if fault != "refused":
                assert upstream.requests <= len(_requests_of(adapter)), "one attempt per request: no hidden retries"

            # 2. last good kept: nothing stored from the bad answer, every figure as it was, old venue data marked
            if not want.stores:
                assert (
                    out.error and status["last_error"] == out.error and (plain_error(out.error) or "")[:40] in bar
                )  # plain words, cut at 80
                assert adapter.data(store) == before, "a failed poll changed stored data"
                assert figures(doc) == figures(_BEFORE_DOCS[sid])
                assert status["last_success"] == doc["sources"][sid]["last_success"] == SEEDED_AT.isoformat(timespec="seconds")
                _assert_marked_stale(adapter, doc)
            else:  # read normally: nothing lost, and venues that move every minute stored the new moment
                after = adapter.data(store)
                assert all(set(b) <= set(a) for b, a in zip(before, after, strict=True))
                if adapter.stale_after_s and adapter.stale_after_s < 86400:
                    assert len(after[3]) > len(before[3])

            # 3. the next attempt, as promised
            next_at = from_iso(status["next_attempt"])
            ban = from_iso(status.get("ban_until"))
            interval = source_config(adapter, base).interval
            delay = (next_at - FAULT_AT).total_seconds()
            if want.schedule == "retry_at":
                assert ban == FAULT_AT + dt.timedelta(seconds=want.retry_after_s) == next_at
                sent = upstream.requests
                early = await _poll(adapter, store, base, ban - dt.timedelta(seconds=1))
                assert early.skipped and upstream.requests == sent, "polled before the host said it could"
            elif want.schedule == "backoff":
                assert ban is None and 0.9 * 30 <= delay <= 1.1 * 30, delay  # first failure: 30 s, jittered
            elif want.schedule == "interval":
                assert ban is None and delay >= 0.9 * max(interval, 30), delay
            else:
                assert 0.9 * interval <= delay <= 1.1 * interval

            # 4. the server heals: the next poll, when due, is good again
            upstream.fault = None
            healed_at = max(next_at, ban or next_at)
            upstream.clock = healed_at
            healed = await _poll(adapter, store, base, healed_at)
        assert healed.state == "ok", healed
        status = store.status(sid)
        assert status["failures"] == 0 and status["last_error"] is None and status.get("ban_until") is None
        assert from_iso(status["last_success"]) == healed_at
    finally:
        store.close()


def _requests_of(adapter: Adapter) -> list:
    if adapter.sid in VENUES:
        return VENUES[adapter.sid].requests(FAULT_AT) + ([None] if VENUES[adapter.sid].limits_path else [])
    return [None, None]  # Farside history+recent, odds two meetings, Coinbase pages: never more than two here


def _assert_marked_stale(adapter: Adapter, doc: dict) -> None:
    """Venue figures three hours old are past every minute-by-minute venue's limit: the document says stale."""
    if adapter.stale_after_s is None or adapter.stale_after_s > (FAULT_AT - SEEDED_AT).total_seconds():
        return
    der = doc["derivatives"]
    entries = [
        section[adapter.sid]
        for section in (der["basis_3m"], der["funding"], der["open_interest"])
        if isinstance(section.get(adapter.sid), dict)
    ]
    assert entries, f"{adapter.sid}: no figures kept in the document"
    assert all(e["stale"] is True for e in entries), entries


async def test_a_5xx_storm_backs_off_further_each_poll_then_recovers(tmp_path, tmp_path_factory):
    adapter = ADAPTERS["okx"]
    store = await seeded_copy(adapter, tmp_path, tmp_path_factory)
    upstream = Upstream(adapter)
    upstream.fault = "http_502"
    now, delays = FAULT_AT, []
    try:
        async with loopback.serve(upstream.handle) as base:
            for _ in range(5):
                upstream.clock = now
                out = await _poll(adapter, store, base, now)
                assert out.state == "error" and out.error == "HTTP 502"
                nxt = from_iso(store.status("okx")["next_attempt"])
                delays.append((nxt - now).total_seconds())
                now = nxt
            assert upstream.requests == 5  # one request per poll: the storm is not amplified
            upstream.fault, upstream.clock = None, now
            assert (await _poll(adapter, store, base, now)).state == "ok"
    finally:
        store.close()
    # 30 s, 60 s, 120 s, 240 s, then capped at max(interval, 5 min), each +/- 10%
    for got, base_s in zip(delays, (30, 60, 120, 240, 300), strict=True):
        assert 0.9 * base_s <= got <= 1.1 * base_s, delays
