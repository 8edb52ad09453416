"""Issue 16 on screen: a Farside-blocked run of the demo fills the tape from SoSoValue, marks each value's origin,
says so in the status bar, and the key shows nowhere (screen, snapshot --json)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from analytics.snapshot import build_snapshot
from common.config import parse_config
from demo import DEMO_KEY, DEMO_NOW, demo_config, demo_transport
from sources import registry
from sources.refresh import refresh_once
from store import Store
from tests.dashboard_fixtures import FROZEN, make_app
from tui.bars import StatusBar, fallback_phrase
from tui.panes import ORIGIN_MARK, TapeTable
from tui.sources_screen import sources_text


@pytest.fixture
def blocked_store(tmp_path):
    """The compact demo polled once with Farside behind a bot wall and SoSoValue keyed (illustrative recordings)."""
    store = Store.open(tmp_path / "blocked.db")
    config = demo_config(parse_config({}, None), keyed=True)
    transport = demo_transport(compact=True, farside_blocked=True)
    import asyncio

    asyncio.run(refresh_once(store, config, transport=transport, now=DEMO_NOW, rng=random.Random(0), kinds=(registry.FLOWS,)))
    yield store, config
    store.close()


async def test_farside_blocked_the_tape_fills_from_sosovalue_marked_and_the_bar_says_why(blocked_store):
    store, config = blocked_store
    assert store.status("farside_btc")["state"] == "blocked" and store.status("sosovalue")["state"] == "ok"
    app = make_app(store, config=config)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        table = app.query_one(TapeTable)
        assert table.row_count == 10
        last = [str(c) for c in table.get_row_at(table.row_count - 1)]
        assert "21 Nov 2025" in last[0] and last[1].endswith(ORIGIN_MARK)  # its total: SoSoValue's, marked
        assert sum(c.endswith(ORIGIN_MARK) for c in last[2:]) >= 5  # and the funds
        caption = str(app.query_one("#tape-caption").render())
        assert f"{ORIGIN_MARK} from SoSoValue" in caption and "sessions from SoSoValue" in caption
        bar = app.query_one(StatusBar).text
        assert "flows from SoSoValue: Farside blocked" in bar
        screen_text = bar + caption + "".join(str(c) for r in range(table.row_count) for c in table.get_row_at(r))
        assert DEMO_KEY not in screen_text


def test_the_phrase_needs_farside_blocked_and_sosovalue_answering():
    ok, blocked = {"state": "ok"}, {"state": "blocked"}
    assert fallback_phrase({"farside_btc": blocked, "sosovalue": ok}) == "flows from SoSoValue: Farside blocked"
    assert fallback_phrase({"farside_btc": ok, "sosovalue": ok}) is None
    assert fallback_phrase({"farside_btc": blocked, "sosovalue": {"state": "error"}}) is None
    assert fallback_phrase({"farside_btc": blocked}) is None


def test_the_sources_screen_says_how_to_get_a_key_when_sosovalue_is_off():
    text = sources_text({"farside_btc": {"state": "ok"}}, {s.id: s.label for s in registry.REGISTRY}, FROZEN).plain
    assert "sosovalue (SoSoValue): off, no API key" in text and "sosovalue.com" in text and "SOSOVALUE_API_KEY" in text


def test_snapshot_json_gives_each_values_source_and_never_the_key(blocked_store, monkeypatch):
    store, config = blocked_store
    doc = build_snapshot(store, as_of=DEMO_NOW.date(), mode="demo", assets=("btc",), now=DEMO_NOW)
    text = json.dumps(doc)
    assert DEMO_KEY not in text
    sources = doc["assets"]["btc"]["flow_sources"]
    assert sources["default_source"] == "farside" and sources["series"].startswith("Farside; ")
    assert {"date": "2025-11-21", "fund": "TOTAL", "source": "sosovalue"} in sources["other_sources"]
    assert doc["assets"]["btc"]["latest_complete_date"] == "2025-11-21"


def test_the_key_is_in_no_printed_config(monkeypatch, tmp_path):
    monkeypatch.setenv("SOSOVALUE_API_KEY", "k-" + "x" * 30)
    config = parse_config({}, Path("<t>"))
    assert "x" * 30 not in repr(config) and "x" * 30 not in str(config.source("sosovalue"))
