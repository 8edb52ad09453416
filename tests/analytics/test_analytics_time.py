"""Time in the derivatives figures: expiry, per-instrument freshness, the store's thinning when looking
back, and aggregates that say which venues they leave out."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.derivatives import compute, load_derivatives, stale_limit_s
from sources import registry
from sources.venues.common import Quote

UTC = dt.UTC
NOW = dt.datetime(2025, 11, 24, 22, tzinfo=UTC)
OFFSHORE = ("binance", "binance_coinm", "bybit", "deribit", "okx")
EDGES = (0.0, 3.5, 7.0, 11.0)


def perp(venue, t, oi=1e9, rate=0.0001):
    return Quote(venue, "PERP", t, mark=90_000, index=90_000, funding_rate=rate, funding_interval_h=8, oi_usd=oi)


def future(venue, name, t, expiry, mark=91_000, oi=1e8):
    return Quote(venue, name, t, mark=mark, index=90_000, expiry=expiry, oi_usd=oi)


# ---- expiry and per-instrument freshness ------------------------------------------------------------


def test_an_expired_contract_leaves_every_figure_at_its_expiry(store):
    """A monthly that expired yesterday kept its last quote as 'latest' for 22 days (its venue's perpetual
    kept the venue fresh): OI overstated by its 12.5 %."""
    expiry = NOW - dt.timedelta(days=1)
    for hours_ago in range(0, 60, 1):
        t = NOW - dt.timedelta(hours=hours_ago)
        quotes = [perp("deribit", t, oi=8e9), future("deribit", "BTC-27MAR26", t, NOW + dt.timedelta(days=123))]
        if t < expiry:
            quotes.append(future("deribit", "BTC-23NOV25", t, expiry, oi=1e9))
        store.write_quotes(quotes, fetched_at=NOW)
    d = compute(store.observations(), NOW)
    assert d.open_interest["deribit"].usd == 8e9 + 1e8
    assert d.offshore_usd == 8e9 + 1e8
    assert all(t.instrument != "BTC-23NOV25" for t in d.term_structure)
    assert d.basis["deribit"].instrument == "BTC-27MAR26"
    # Before its expiry the same contract counts in full.
    before = compute(store.observations(), expiry - dt.timedelta(hours=2))
    assert before.open_interest["deribit"].usd == 8e9 + 1e9 + 1e8


def test_a_contract_quoted_a_minute_before_its_expiry_is_gone_after_it(store):
    """Its last quote is still within the venue's limit: only the expiry takes it out, history included."""
    expiry = NOW - dt.timedelta(minutes=5)
    for minutes_ago in range(0, 6 * 60, 10):
        t = NOW - dt.timedelta(minutes=minutes_ago)
        quotes = [perp("deribit", t, oi=8e9)]
        if t < expiry:
            quotes.append(future("deribit", "BTC-24NOV25", t, expiry, oi=1e9))
        store.write_quotes(quotes, fetched_at=NOW)
    store.write_quotes(
        [
            future("deribit", "BTC-24NOV25", expiry - dt.timedelta(minutes=1), expiry, oi=1e9),
            future("deribit", "BTC-24NOV25", expiry + dt.timedelta(minutes=1), expiry, oi=5e9),
        ],  # a settled echo
        fetched_at=NOW,
    )
    d = compute(store.observations(), NOW)
    assert d.offshore_usd == 8e9 and d.oi_history[-1] == 8e9
    assert d.oi_history[-2] == 9e9  # 21:00-22:00 ends with the contract's last live quote, not the echo
    assert [t.instrument for t in d.term_structure] == ["PERP"]
    assert compute(store.observations(), expiry - dt.timedelta(seconds=30)).offshore_usd == 9e9


def test_an_instrument_older_than_its_venue_limit_is_not_current_though_the_venue_is(store):
    """A future last quoted 20 h ago beside a fresh perpetual: its basis was shown fresh and averaged."""
    old = NOW - dt.timedelta(hours=20)
    store.write_quotes([future("okx", "BTC-USD-260327", old, NOW + dt.timedelta(days=123), oi=2e9)], fetched_at=old)
    store.write_quotes(
        [
            perp("okx", NOW),
            perp("deribit", NOW),
            future("deribit", "BTC-27MAR26", NOW, NOW + dt.timedelta(days=123), mark=92_000),
        ],
        fetched_at=NOW,
    )
    d = compute(store.observations(), NOW)
    assert d.basis["okx"].stale and not d.basis["deribit"].stale
    assert d.headline_basis_pct == d.basis["deribit"].annualized_pct
    assert d.basis_missing == ("okx",)
    assert d.open_interest["okx"].usd == 1e9 and not d.open_interest["okx"].stale  # the perpetual alone
    assert [t.stale for t in d.term_structure if t.instrument == "BTC-USD-260327"] == [True]


# ---- the freshness limit at an as-of instant -----------------------------------------------------


@pytest.mark.parametrize(
    "back,extra",
    [
        (dt.timedelta(0), 0.0),
        (dt.timedelta(hours=47), 0.0),
        (dt.timedelta(days=3), 3600.0),
        (dt.timedelta(days=29), 3600.0),
        (dt.timedelta(days=40), 86400.0),
    ],
)
def test_the_limit_widens_with_the_resolution_the_store_keeps_at_that_age(back, extra):
    assert stale_limit_s(900, NOW - back, NOW) == 900 + extra
    assert stale_limit_s(12 * 86400, NOW - back, NOW) == 12 * 86400 + extra


def test_after_the_newest_data_the_limit_is_the_venues_own():
    """Opened after ten days away: the store's thinning was counted from its newest data, not from now."""
    assert stale_limit_s(900, NOW + dt.timedelta(days=10), NOW) == 900


def _polled_for_weeks(store, days=42, every_min=20):
    """Every offshore venue polled every 20 minutes for six weeks, then thinned as the running app does."""
    start = NOW - dt.timedelta(days=days)
    quotes = []
    for step in range(0, days * 24 * 60 + 1, every_min):
        t = start + dt.timedelta(minutes=step)
        quotes += [perp(v, t, oi=1e9 * (n + 1)) for n, v in enumerate(OFFSHORE)]
    store.write_quotes(quotes, fetched_at=start)
    store.prune_observations(NOW)


@pytest.mark.parametrize("back", [dt.timedelta(0), dt.timedelta(days=3, minutes=-50), dt.timedelta(days=40, hours=-20)])
def test_time_travel_keeps_every_venue_in_the_total(store, back):
    """Hourly (3 days back) and daily (40 days back) history was judged against the 15-minute limit:
    the offshore total silently dropped the venues."""
    _polled_for_weeks(store)
    d = load_derivatives(store, NOW - back, band_edges=EDGES, trend_pct=5.0)
    assert d.offshore_usd == sum(1e9 * (n + 1) for n in range(len(OFFSHORE)))
    assert d.offshore_missing == () and not any(o.stale for o in d.open_interest.values())
    assert d.oi_weighted_funding_pct is not None and d.funding_missing == ()


def test_at_now_a_venue_silent_past_its_own_limit_is_stale(store):
    silent = NOW - dt.timedelta(seconds=registry.stale_after_s("okx") + 60)
    store.write_quotes([perp(v, NOW) for v in OFFSHORE if v != "okx"] + [perp("okx", silent)], fetched_at=NOW)
    d = load_derivatives(store, NOW, band_edges=EDGES, trend_pct=5.0)
    assert d.open_interest["okx"].stale and d.offshore_missing == ("okx",)
    assert d.offshore_usd == 4e9


# ---- aggregates name the venues they leave out ----------------------------------------------------


def test_aggregates_name_stale_and_missing_venues_and_changes_compare_the_same_venues(store):
    for hours_ago in range(0, 49):
        t = NOW - dt.timedelta(hours=hours_ago)
        growth = 1 + (48 - hours_ago) / 480  # +10 % over two days for the fresh venues
        quotes = [perp("deribit", t, oi=4e9 * growth), perp("bybit", t, oi=2e9 * growth, rate=0.0002)]
        if hours_ago >= 3:  # okx went silent three hours ago, holding a large OI
            quotes.append(perp("okx", t, oi=9e9))
        if hours_ago >= 30:  # binance: funding only, nothing to weigh it by, and silent since
            quotes.append(Quote("binance", "BTCUSDT", t, mark=90_000, index=90_000, funding_rate=0.0003, funding_interval_h=8))
        store.write_quotes(quotes, fetched_at=NOW)
    d = compute(store.observations(), NOW)
    assert d.offshore_missing == ("okx",) and d.open_interest["okx"].stale
    assert d.offshore_usd == round(6e9 * 1.1, 0)
    assert d.funding_missing == ("binance", "okx")
    assert d.change_24h_pct == round((1.1 / (1 + 24 / 480) - 1) * 100, 2)  # deribit + bybit then and now
    assert d.oi_history[-1] == d.offshore_usd


def test_the_tiles_and_the_snapshot_name_the_venues_left_out(demo):
    """30 minutes on, every venue but Binance (2 h limit) is stale: the OI tile's total says whose it is."""
    from analytics.snapshot import derivatives_document
    from tests.dashboard_fixtures import FROZEN
    from tui.derivatives_pane import excluded

    store = demo
    later = FROZEN + dt.timedelta(minutes=30)
    d = load_derivatives(store, later, band_edges=EDGES, trend_pct=5.0)
    assert d.offshore_missing == ("binance_coinm", "bybit", "deribit", "okx")
    assert excluded(d.offshore_missing, d.open_interest) == "excl. binance_coinm, bybit, deribit, okx (stale)"
    doc = derivatives_document(d)
    assert doc["open_interest"]["offshore_missing_venues"] == list(d.offshore_missing)
    assert doc["funding"]["oi_weighted_missing_venues"] == list(d.funding_missing)
    assert doc["basis_3m"]["headline_missing_venues"] == list(d.basis_missing)
    fresh = derivatives_document(load_derivatives(store, FROZEN, band_edges=EDGES, trend_pct=5.0))
    assert fresh["open_interest"]["offshore_missing_venues"] == []


def test_excluded_says_why_each_venue_is_left_out():
    from analytics.derivatives import FundingVenue
    from tui.derivatives_pane import excluded

    entries = {
        "okx": FundingVenue("okx", 0.0001, 8, 10.95, NOW, True),
        "binance": FundingVenue("binance", 0.0001, 8, 10.95, NOW, False),
    }
    assert (
        excluded(("binance", "bybit", "okx"), entries, unused="no OI to weigh by")
        == "excl. okx (stale); binance (no OI to weigh by); bybit (no data)"
    )
    assert excluded(("okx",), entries, stale_shown=True) == ""
    assert excluded((), entries) == ""


async def test_the_oi_tile_names_the_stale_venues_its_total_leaves_out(demo):
    from tests.dashboard_fixtures import FROZEN, make_app

    store = demo
    app = make_app(store, clock=lambda: FROZEN + dt.timedelta(minutes=30))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        text = str(app.query_one("#tile-oi .tile-text").render())
        assert "excl. binance_coinm, bybit, deribit, okx (stale)" in text
