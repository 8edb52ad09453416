"""Derivatives analytics on hand-checkable quotes: basis, constant maturity, band, funding, OI."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.derivatives import band_of, compute, funding_annualized_pct
from sources.venues.common import Quote

UTC = dt.UTC
NOW = dt.datetime(2025, 11, 24, 22, tzinfo=UTC)


def days(n):
    return NOW + dt.timedelta(days=n)


def rows(store):
    return store.observations()


def test_basis_picks_future_nearest_90_days_and_interpolates_constant_maturity(store):
    store.write_quotes(
        [
            Quote(
                "deribit",
                "BTC-PERPETUAL",
                NOW,
                mark=100_000,
                index=100_000,
                funding_rate=0.0001,
                funding_interval_h=8,
                oi_usd=1e9,
            ),
            Quote("deribit", "BTC-26DEC25", NOW, mark=100_500, index=100_000, expiry=days(32), oi_usd=1e8),  # 5.70%
            Quote("deribit", "BTC-27MAR26", NOW, mark=101_500, index=100_000, expiry=days(123), oi_usd=1e8),  # 4.45%
            Quote("deribit", "BTC-28NOV25", NOW, mark=100_200, index=100_000, expiry=days(4), oi_usd=1e7),  # too close
        ],
        fetched_at=NOW,
    )
    d = compute(rows(store), NOW)
    b = d.basis["deribit"]
    assert b.instrument == "BTC-27MAR26" and b.days_to_expiry == 123.0  # |123-90| < |32-90|
    assert b.annualized_pct == round(0.015 * 365 / 123 * 100, 2)
    p1, p2 = 0.005 * 365 / 32 * 100, 0.015 * 365 / 123 * 100
    assert b.constant_maturity_pct == round(p1 + (p2 - p1) * (90 - 32) / (123 - 32), 2)
    assert d.constant_maturity_pct == b.constant_maturity_pct and d.headline_basis_pct == b.constant_maturity_pct
    assert d.band == "deleveraged"  # ~4.8%: the seed's 4-6% reading
    assert any(t.instrument == "BTC-PERPETUAL" and t.days_to_expiry is None for t in d.term_structure)


@pytest.mark.parametrize(
    "pct,band",
    [
        (-1, "backwardation"),
        (0.0, "compressed"),
        (2.9, "compressed"),
        (5, "deleveraged"),
        (9, "rebuild"),
        (11, "snapback"),
        (14, "snapback"),
        (None, None),
    ],
)
def test_bands(pct, band):
    assert band_of(pct, (0.0, 3.5, 7.0, 11.0)) == band


def test_funding_annualized_reads_the_interval():
    assert funding_annualized_pct(0.0001, 8) == pytest.approx(10.95)
    assert funding_annualized_pct(0.0001, 4) == pytest.approx(21.9)


def test_oi_weighted_funding_and_offshore_total(store):
    store.write_quotes(
        [
            Quote(
                "deribit",
                "BTC-PERPETUAL",
                NOW,
                mark=100_000,
                index=100_000,
                funding_rate=0.0001,
                funding_interval_h=8,
                oi_usd=1e9,
                oi_btc=1e7,
            ),
            Quote(
                "binance",
                "BTCUSDT",
                NOW,
                mark=100_000,
                index=100_000,
                funding_rate=0.0003,
                funding_interval_h=8,
                oi_usd=3e9,
                oi_btc=3e7,
            ),
        ],
        fetched_at=NOW,
    )
    d = compute(rows(store), NOW)
    assert d.funding["binance"].annualized_pct == pytest.approx(32.85)
    assert d.oi_weighted_funding_pct == pytest.approx((10.95 * 1 + 32.85 * 3) / 4, abs=0.01)
    assert d.offshore_usd == 4e9


def test_stale_venue_is_flagged_and_never_averaged_in(store):
    old = NOW - dt.timedelta(hours=3)
    store.write_quotes(
        [Quote("okx", "BTC-USDT-SWAP", old, index=100_000, funding_rate=0.001, funding_interval_h=8, oi_usd=5e9)], fetched_at=old
    )
    store.write_quotes(
        [
            Quote(
                "deribit",
                "BTC-PERPETUAL",
                NOW,
                mark=100_000,
                index=100_000,
                funding_rate=0.0001,
                funding_interval_h=8,
                oi_usd=1e9,
            )
        ],
        fetched_at=NOW,
    )
    d = compute(rows(store), NOW)
    assert d.funding["okx"].stale and d.open_interest["okx"].stale
    assert d.oi_weighted_funding_pct == pytest.approx(10.95)
    assert d.offshore_usd == 1e9


def test_cme_priced_with_the_median_index_and_kept_apart(store):
    store.write_quotes(
        [
            Quote("deribit", "BTC-PERPETUAL", NOW, mark=90000, index=90000, oi_usd=1e9),
            Quote("cme", "BTC futures (CFTC COT)", NOW - dt.timedelta(days=6), oi_btc=137560.0),
        ],
        fetched_at=NOW,
    )
    d = compute(rows(store), NOW)
    assert d.cme_btc == 137560.0 and d.cme_usd == 137560.0 * 90000
    assert d.offshore_usd == 1e9  # CME is not offshore


def test_oi_changes_and_trend(store):
    for hours_ago, oi in ((24 * 8, 12e9), (24 * 7, 12e9), (24, 11e9), (0, 10.5e9)):
        t = NOW - dt.timedelta(hours=hours_ago)
        store.write_quotes(
            [Quote("bybit", "BTCUSDT", t, mark=100_000, index=100_000, oi_usd=oi, funding_rate=0.0, funding_interval_h=8)],
            fetched_at=t,
        )
    d = compute(rows(store), NOW)
    assert d.change_24h_pct == round((10.5 / 11 - 1) * 100, 2)
    assert d.change_7d_pct == round((10.5 / 12 - 1) * 100, 2)
    assert d.trend == "bleeding"
    assert d.oi_history[-1] == 10.5e9
    rising = compute(rows(store), NOW - dt.timedelta(hours=24))
    assert rising.trend in ("flat", "bleeding")  # 11 vs 12: -8.3% -> bleeding at 5%
    assert compute(rows(store), NOW, trend_pct=20).trend == "flat"


def test_as_of_ignores_later_observations(store):
    store.write_quotes(
        [
            Quote(
                "deribit",
                "BTC-PERPETUAL",
                NOW,
                mark=100_000,
                index=100_000,
                funding_rate=0.0001,
                funding_interval_h=8,
                oi_usd=1e9,
            )
        ],
        fetched_at=NOW,
    )
    d = compute(rows(store), NOW - dt.timedelta(minutes=1))
    assert d.empty and d.band is None and d.offshore_usd is None and d.trend == "unknown"


def test_reading_hourly_rows_gives_the_same_figures_as_every_row(store):
    """load_derivatives reads one row per series per hour; every figure must match computing over all rows."""
    from analytics.derivatives import load_derivatives

    start = NOW - dt.timedelta(days=9)
    for step in range(0, 9 * 24 * 60, 20):  # a quote every 20 minutes for nine days, values moving each time
        t = start + dt.timedelta(minutes=step)
        drift = (step % 997) / 997
        store.write_quotes(
            [
                Quote(
                    "deribit",
                    "BTC-PERPETUAL",
                    t,
                    mark=100_000 + 1000 * drift,
                    index=100_000,
                    funding_rate=0.0001 * (1 + drift),
                    funding_interval_h=8,
                    oi_usd=1e9 * (1 + drift),
                ),
                Quote("deribit", "BTC-27MAR26", t, mark=101_500 + 1000 * drift, index=100_000, expiry=days(123), oi_usd=1e8),
                Quote(
                    "binance",
                    "BTCUSDT",
                    t,
                    mark=100_000,
                    index=100_000 - 1000 * drift,
                    funding_rate=0.0002,
                    funding_interval_h=8,
                    oi_usd=2e9 * (1 - drift / 2),
                ),
            ],
            fetched_at=start,
        )  # fetched_at at the start: no thinning, every row stays
    everything = store.observations()
    assert len(store.observations(hourly=True)) < len(everything) / 2
    as_of = NOW - dt.timedelta(minutes=7)
    full = compute([r for r in everything if r[3] <= as_of.isoformat(timespec="seconds")], as_of)
    assert load_derivatives(store, as_of, band_edges=(0.0, 3.5, 7.0, 11.0), trend_pct=5.0) == full
    assert full.change_24h_pct is not None and len(full.basis_history) > 24
