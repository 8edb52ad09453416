"""The dashboard's layout: what 120x40, 80x24 and 60x20 show, maximize and restore, the footer's essentials,
the status bar's summary and its plain-words errors, the sources screen."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Footer, Static

from common.records import source_id
from sources.registry import VENUE_IDS
from tests.dashboard_fixtures import FROZEN, make_app
from tui.bars import StatusBar, TitleBar, plain_error, summary, worst
from tui.derivatives_pane import DerivativesPane, Tile
from tui.panes import Pane
from tui.sources_screen import SourcesScreen, sources_text

PANES = [f"#pane-{n}" for n in range(1, 7)]


async def started(app, pilot):
    await pilot.pause()
    await app.settle()
    await pilot.pause()


def regions(app) -> dict[str, object]:
    """Every widget on screen and its place, by its path in the DOM (what the trader sees where); hidden and
    zero-size widgets (the maximized view's charts, kept for the next maximize) are not on screen."""
    screen = app.dashboard
    return {f"{w.css_path_nodes}": w.region for w in screen.query("*") if w.region.area}


async def test_all_six_panes_are_on_screen_at_120x40(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        screen = app.dashboard.region
        for pane in PANES:
            region = app.query_one(pane).region
            assert region.height > 1 and screen.contains_region(region), (pane, region)
        assert app.query_one("#pane-6").region.bottom <= app.query_one(StatusBar).region.y


@pytest.mark.parametrize("size", [(120, 40), (80, 24), (60, 20)])
async def test_maximize_then_restore_returns_exactly_the_compact_layout(store, size):
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        for n in range(1, 7):
            await pilot.press(str(n))
            await pilot.pause()
            before = regions(app)
            await pilot.press("m")
            await app.settle()
            await pilot.pause()
            assert app.dashboard.maximized is not None, n
            title, status = app.query_one(TitleBar).region, app.query_one(StatusBar).region
            assert title.height == 1 and title.y == 0 and status.height == 1, n  # kept in the maximized view
            assert "DEMO" in app.query_one(TitleBar).text and "sources" in app.query_one(StatusBar).text
            await pilot.press("m")
            await app.settle()
            await pilot.pause()
            assert app.dashboard.maximized is None
            after = regions(app)
            changed = {k: (before.get(k), after.get(k)) for k in after if before.get(k) != after[k]}
            assert not changed, (n, changed)


async def test_below_60x20_one_line_says_the_size_needed(store):
    app = make_app(store)
    async with app.run_test(size=(59, 20)) as pilot:
        await started(app, pilot)
        note = app.query_one("#too-small", Static)
        assert note.display and "at least 60x20" in str(note.render()) and "59x20" in str(note.render())
        assert not any(w.display for w in app.dashboard.children if w is not note)
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert not note.display and app.query_one("#pane-1").display


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_footer_always_shows_help_and_quit(store, size):
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        footer = app.query_one(Footer)
        shown = [k for k in footer.query("FooterKey") if k.region.right <= footer.region.right and k.region.width]
        keys = {k.key for k in shown}
        assert {"question_mark", "q"} <= keys, keys


@pytest.mark.parametrize("size", [(120, 40), (80, 24), (60, 20)])
async def test_tiles_never_break_a_word(store, size):
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        for tile in app.query(Tile):
            text = tile.query_one(".tile-text", Static)
            words = set(str(text.render()).split())
            shown = [strip.text for strip in text.render_lines(text.region.reset_offset)]
            for token in " ".join(shown).split():  # each on-screen token is a whole word, or cut with an ellipsis
                assert token in words or token.endswith("…"), (size, tile.id, token, shown)


async def test_venue_rows_never_wrap_when_maximized_at_80x24(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("4", "m")
        await app.settle()
        await pilot.pause()
        breakdown = app.query_one("#deriv-breakdown", Static)
        rows = str(breakdown.render()).splitlines()
        assert breakdown.region.height == len(rows)  # one screen line per row: none wrapped
        assert any(r.startswith("Binance USD-M") for r in rows)


def _status(state: str, error: str | None = None) -> dict[str, object]:
    return {"state": state, "last_error": error, "failures": 1 if error else 0}


def test_summary_counts_every_state_ok_first():
    statuses = {f"s{i}": _status("ok") for i in range(11)} | {"cme": _status("blocked"), "okx": _status("error", "x")}
    assert summary(statuses) == "13 sources: 11 ok, 1 blocked, 1 error"
    assert summary({"a": _status("ok")}) == "1 source: 1 ok"


def test_the_worst_source_is_a_flow_source_first_then_by_severity():
    statuses = {"cme": _status("blocked"), "okx": _status("error"), source_id("eth"): _status("stale")}
    assert worst(statuses) == source_id("eth")
    del statuses[source_id("eth")]
    assert worst(statuses) == "okx"
    assert worst({"okx": _status("ok")}) is None


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("cannot connect: [Errno -2] Name or service not known", "cannot resolve host (no network or DNS)"),
        ("cannot connect: [Errno -3] Temporary failure in name resolution", "cannot resolve host (no network or DNS)"),
        ("cannot connect: [Errno 111] Connection refused", "the host refused the connection"),
        ("cannot connect: [Errno 101] Network is unreachable", "no network route to the host"),
        ("HTTP 403 bot challenge", "blocked by the site's bot check (HTTP 403)"),
        ("HTTP 429", "rate-limited by the host (HTTP 429)"),
        ("HTTP 502", "the host's server failed (HTTP 502)"),
        ("no complete answer within 20s", "no answer in time"),
        ("ticker.price: missing", "ticker.price: missing"),  # already plain: kept
    ],
)
def test_errors_are_said_in_plain_words(raw, plain):
    assert plain_error(raw) == plain


async def test_status_bar_leads_with_the_summary_and_names_dns_failure_plainly(store):
    for sid in (*VENUE_IDS, source_id("btc")):
        store.set_status(sid, state="error", last_error="cannot connect: [Errno -2] Name or service not known", failures=1)
    app = make_app(store, mode="live")
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        text = app.query_one(StatusBar).text
        assert text.lstrip().startswith(summary(app.statuses))
        assert "farside btc: error" in text and "cannot resolve host (no network or DNS)" in text
        assert "Errno" not in text


async def test_ages_tick_in_their_own_small_widgets(store):
    now = [FROZEN]
    app = make_app(store, clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        bar = app.query_one(StatusBar)
        updates: dict[str, int] = {}
        for w in bar.query(Static):
            original = w.update
            w.update = lambda *a, _w=w, _o=original, **k: (updates.__setitem__(_w.id, updates.get(_w.id, 0) + 1), _o(*a, **k))[1]
        now[0] = FROZEN + dt.timedelta(hours=2)
        app.refresh_status()
        assert "BTC 2h" in bar.text
        assert {"status-badges", "status-summary"}.isdisjoint(updates), updates  # the long parts stay put
        assert updates.get("status-age-btc") == 1


async def test_every_venue_failing_is_said_so_in_the_tiles(tmp_path):
    from store import Store

    store = Store.open(tmp_path / "empty.db")
    for sid in VENUE_IDS:
        store.set_status(sid, state="error", last_error="cannot connect: [Errno -2] Name or service not known", failures=3)
    app = make_app(store, mode="live")
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        text = str(app.query_one(DerivativesPane).query_one(".tile-text", Static).render())
        assert "every venue is failing" in text and "yet" not in text
    store.close()


async def test_sources_screen_lists_every_source_with_plain_errors(store):
    store.set_status(
        "okx",
        state="error",
        last_error="cannot connect: [Errno -2] Name or service not known",
        failures=2,
        next_attempt=(FROZEN + dt.timedelta(minutes=3)).isoformat(),
    )
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, SourcesScreen)
        text = sources_text(app.statuses, {"okx": "OKX"}, FROZEN).plain
        for sid in app.statuses:
            assert sid.replace("_", " ") in text
        assert "okx (OKX): error" in text and "cannot resolve host (no network or DNS)" in text and "next attempt in 3m" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SourcesScreen)


def test_panes_are_the_six():
    assert Pane  # the layout tests address panes by id: keep the import honest
