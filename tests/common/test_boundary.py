"""The boundary's own rules: one registry, one bounds table, nothing but a refusal leaves a poll,
and `snapshot --json` stays strict JSON with every other figure when one computation raises."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
from pathlib import Path

import pytest

from common.bounds import BoundsError, check, check_day, check_time, from_millis, identifier, table
from common.config import DEFAULT_SOURCES, SECTIONS, SourceConfig, parse_config
from common.sanitize import json_safe
from demo import DEMO_NOW
from sources import registry
from sources.polling import BodyResult, run_poll
from sources.refresh import refresh_once
from store import Store

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
CFG = SourceConfig("okx", "http://127.0.0.1:9", 60.0, deadline=5.0)


def test_readme_lists_every_bound_as_the_code_has_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, bound, why in table():
        assert f"| `{name}` | {bound} | {why} |" in readme, name


def test_every_config_section_is_a_registry_section_and_every_source_has_one():
    assert set(DEFAULT_SOURCES) == set(SECTIONS)
    assert {s.section for s in registry.REGISTRY} == set(SECTIONS)
    assert len(registry.BY_ID) == len(registry.REGISTRY)  # ids are unique
    kinds = (registry.FLOWS, registry.DERIVATIVES, registry.CANDLES, registry.ODDS, registry.SPOT)
    assert all(s.kind in kinds for s in registry.REGISTRY)


def test_disabling_a_section_removes_exactly_its_sources(monkeypatch):
    monkeypatch.setenv("SOSOVALUE_API_KEY", "k")  # keyed sources run only with a key (tests/sources/test_sosovalue.py)
    config = parse_config({"sources": {"farside": {"enabled": False}, "okx": {"enabled": False}}}, Path("<t>"))
    ids = {s.id for s in registry.enabled(config)}
    assert ids == {s.id for s in registry.REGISTRY} - {"farside_btc", "farside_eth", "farside_sol", "okx"}


@pytest.mark.parametrize(
    "kind,value",
    [
        ("btc_usd", 1e-9),
        ("btc_usd", math.nan),
        ("funding_interval_h", 0.0),
        ("funding_interval_h", -8.0),
        ("probability", 1.2),
        ("oi_btc", 9.6e17),
        ("flow_usd_m", math.inf),
    ],
)
def test_values_outside_physics_are_refused_naming_the_field(kind, value):
    with pytest.raises(BoundsError, match="fieldname"):
        check(kind, value, "fieldname")


def test_instants_dates_and_names_are_bounded():
    assert from_millis(1_764_000_000_000, "ts", now=NOW).year == 2025
    with pytest.raises(BoundsError, match="ts"):
        from_millis(1_764_000_000, "ts", now=NOW)  # seconds sent as milliseconds: 1970
    with pytest.raises(BoundsError):
        from_millis(32_503_708_800_000, "expiration_timestamp", now=NOW)  # year 3000 is not an instant to store
    with pytest.raises(BoundsError):
        check_time(NOW + dt.timedelta(days=2), "time", now=NOW)
    with pytest.raises(BoundsError):
        check_day(dt.date(1, 1, 1), "date", today=NOW.date())
    with pytest.raises(BoundsError):
        check_day(dt.date(2099, 1, 2), "date", today=NOW.date())
    assert identifier("BTC-26DEC25", "name") == "BTC-26DEC25"
    for bad in ("BTC\x1b]0;pwned\x07", "", "x" * 41, None, 5, "BTC 26DEC25"):
        with pytest.raises(BoundsError):
            identifier(bad, "name")


@pytest.mark.parametrize(
    "exc",
    [
        KeyError("markPrice"),
        OverflowError("int too large"),
        TypeError("'NoneType'"),
        IndexError("list index"),
        AttributeError("x"),
        LookupError("unknown encoding: rot13"),
        RecursionError("deep"),
    ],
)
async def test_any_exception_in_a_poll_becomes_the_sources_error_state(tmp_path, exc):
    store = Store.open(tmp_path / "s.db")

    async def body() -> BodyResult:
        raise exc

    out = await run_poll(store, "okx", CFG, body, now=NOW)
    assert out.state == "error" and out.error.startswith(f"internal error: {type(exc).__name__}")
    status = store.status("okx")
    assert status["state"] == "error" and status["failures"] == 1 and status["next_attempt"] > NOW.isoformat()
    store.close()


async def test_cancellation_still_ends_a_poll(tmp_path):
    store = Store.open(tmp_path / "s.db")

    async def body() -> BodyResult:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_poll(store, "okx", CFG, body, now=NOW)
    store.close()


async def test_refresh_never_raises_even_when_the_status_write_fails(tmp_path, monkeypatch):
    store = Store.open(tmp_path / "s.db")
    config = parse_config({"sources": {name: {"enabled": name == "okx"} for name in SECTIONS}}, Path("<t>"))
    config = config.with_source("okx", base_url="http://127.0.0.1:9", deadline=2)

    def broken(*a, **k):
        raise RuntimeError("store vanished")

    monkeypatch.setattr(store, "set_status", broken)
    outcomes = await refresh_once(store, config, now=NOW)
    assert [(o.source, o.state) for o in outcomes] == [("okx", "error")]
    assert "internal error: RuntimeError: store vanished" in outcomes[0].error
    store.close()


def test_json_safe_makes_strict_terminal_safe_json():
    doc = {"a": math.nan, "b": [math.inf, -math.inf, 1.5], "c\x1b": "x\x1b]52;c;Y3VybA==\x07y", "d": {"e": None, "f": 3}}
    out = json_safe(doc)
    text = json.dumps(out, allow_nan=False)
    assert out["a"] is None and out["b"] == [None, None, 1.5] and out["d"] == {"e": None, "f": 3}
    assert "\x1b" not in text and "\\u001b" not in text and "\x07" not in text
    assert json_safe(out) == out


def test_a_section_that_raises_is_null_with_its_reason_and_the_rest_is_reported(tmp_path, monkeypatch):
    import analytics.snapshot as snap
    from cli.main import snapshot_document
    from tests.dashboard_fixtures import demo_store

    store = demo_store(tmp_path / "demo.db")
    config = parse_config({}, Path("<t>"))
    healthy = snapshot_document(store, config, as_of=DEMO_NOW.date(), now=DEMO_NOW, mode="demo")

    def broken(*a, **k):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(snap, "load_derivatives", broken)
    doc = snapshot_document(store, config, as_of=DEMO_NOW.date(), now=DEMO_NOW, mode="demo")
    assert doc["derivatives"] is None
    assert {"section": "derivatives", "error": "internal error: ZeroDivisionError: float division by zero"} in doc["errors"]
    assert doc["assets"] == healthy["assets"] and doc["context"]["trend"] == healthy["context"]["trend"]
    assert healthy["errors"] == []
    store.close()
