"""Every upstream flowtape reads, declared once.

Each entry names the source's status id, its config section (whose defaults are common/config.py SECTIONS),
what it fetches and what it stores, how old its data may be, and how one poll of it runs. The config loader,
the dashboard's source loops, `snapshot`'s refresh, the demo and the tests all read this list; none names sources by hand.

Kept light on purpose (no httpx here): the poll functions are imported when a poll runs, so the
dashboard paints before the fetch path loads, and analytics can read staleness limits without it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.records import ASSETS, source_id

if TYPE_CHECKING:
    import httpx

    from common.config import Config
    from store import Store

    from .polling import PollOutcome

FLOWS, DERIVATIVES, CANDLES, ODDS, SPOT = "flows", "derivatives", "candles", "odds", "spot"


@dataclass(frozen=True)
class SourceSpec:
    id: str  # the status name, in the status bar and snapshot --json `sources`
    section: str  # its [sources.X] config section
    kind: str  # FLOWS | DERIVATIVES | CANDLES | ODDS | SPOT
    label: str  # who publishes it, for help and attribution
    endpoints: tuple[str, ...]  # paths below the section's base_url
    records: str  # what one poll stores
    stale_after_s: float | None = None  # data whose own time is older than this is stale (None: by calendar)
    asset: str | None = None  # FLOWS: which ETF table


_FARSIDE_PATHS = {
    "btc": ("/btc/", "/bitcoin-etf-flow-all-data/"),
    "eth": ("/eth/", "/ethereum-etf-flow-all-data/"),
    "sol": ("/sol/", "/solana-etf-flow-all-data/"),
}
_QUOTES = "quotes as observations (mark, index, expiry, funding rate and interval, OI in USD and BTC)"
# CME and CFTC both report CME open interest, so both count as the venue "cme" downstream; its data
# is weekly at worst, stale after 12 days.
_CME_STALE_S = 12 * 86400.0

REGISTRY: tuple[SourceSpec, ...] = (
    *(
        SourceSpec(
            source_id(a),
            "farside",
            FLOWS,
            "Farside Investors",
            _FARSIDE_PATHS[a],
            "session rows: per-fund flows and the published Total, US$m; revisions",
            asset=a,
        )
        for a in ASSETS
    ),
    # The second flow source (issue 16): keyed, off without a key; one status for every ETF type it covers.
    # Its rows go to `source_flows`; analytics/preferred.py decides which figure the screen shows.
    SourceSpec(
        "sosovalue",
        "sosovalue",
        FLOWS,
        "SoSoValue",
        ("/openapi/v2/etf/currentEtfDataMetrics", "/openapi/v2/etf/historicalInflowChart"),
        "per-fund latest-day net inflow and the aggregate daily history (TOTAL), US$m, in source_flows",
        stale_after_s=None,
    ),
    SourceSpec(
        "deribit",
        "deribit",
        DERIVATIVES,
        "Deribit",
        (
            "/public/ticker?instrument_name=BTC-PERPETUAL",
            "/public/get_book_summary_by_currency?currency=BTC&kind=future",
            "/public/get_instruments?currency=BTC&kind=future",
        ),
        _QUOTES,
        900.0,
    ),
    SourceSpec(
        "binance",
        "binance",
        DERIVATIVES,
        "Binance USD-M",
        (
            "/fapi/v1/premiumIndex?symbol=BTCUSDT",
            "/fapi/v1/openInterest?symbol=BTCUSDT",
            "/fapi/v1/fundingInfo",
            "/futures/data/basis",
            "/fapi/v1/exchangeInfo",
        ),
        _QUOTES,
        7200.0,
    ),  # the basis endpoint is hourly
    SourceSpec(
        "binance_coinm",
        "binance_coinm",
        DERIVATIVES,
        "Binance COIN-M",
        ("/dapi/v1/premiumIndex?pair=BTCUSD", "/dapi/v1/openInterest?symbol=BTCUSD_PERP", "/dapi/v1/exchangeInfo"),
        _QUOTES,
        900.0,
    ),
    SourceSpec("bybit", "bybit", DERIVATIVES, "Bybit", ("/v5/market/tickers?category=linear",), _QUOTES, 900.0),
    SourceSpec(
        "okx",
        "okx",
        DERIVATIVES,
        "OKX",
        (
            "/api/v5/public/funding-rate",
            "/api/v5/public/open-interest",
            "/api/v5/market/index-tickers",
            "/api/v5/public/mark-price",
        ),
        _QUOTES,
        900.0,
    ),
    SourceSpec(
        "cme",
        "cme",
        DERIVATIVES,
        "CME Group",
        ("/CmeWS/mvc/Settlements/Futures/Settlements/8478/FUT",),
        "CME bitcoin futures open interest (contracts of 5 BTC) and settlements",
        _CME_STALE_S,
    ),
    SourceSpec(
        "cftc",
        "cftc",
        DERIVATIVES,
        "CFTC Commitments of Traders",
        ("/resource/gpe5-46if.json",),
        "CME bitcoin futures open interest, weekly (Tuesday's positions)",
        _CME_STALE_S,
    ),
    SourceSpec(
        "coinbase",
        "coinbase",
        CANDLES,
        "Coinbase Exchange",
        ("/products/BTC-USD/candles?granularity=86400",),
        "BTC-USD daily candles",
    ),
    # Its own section: the title's price polls every minute, the candles hourly. A last trade over 10 minutes
    # old on the busiest BTC book is suspect (stale).
    SourceSpec(
        "coinbase_spot",
        "coinbase_spot",
        SPOT,
        "Coinbase Exchange",
        ("/products/BTC-USD/ticker", "/products/BTC-USD/stats"),
        "BTC-USD last trade, bid/ask and 24 h open/high/low/volume as observations (venue coinbase_spot)",
        600.0,
    ),
    # Each venue's listing of Fed decision events (sources/fed_odds.py LISTING_PATHS; the test keeps them equal).
    SourceSpec(
        "polymarket",
        "polymarket",
        ODDS,
        "Polymarket",
        ("/events?tag_slug=fed-rates&closed=false&limit=100",),
        "Fed decision odds per bucket",
        6 * 3600.0,
    ),
    SourceSpec(
        "kalshi",
        "kalshi",
        ODDS,
        "Kalshi",
        ("/events?series_ticker=KXFEDDECISION&status=open&with_nested_markets=true&limit=200",),
        "Fed decision odds per bucket",
        6 * 3600.0,
    ),
)

# Issuer holdings files (sources/issuers.py FILES names each endpoint's fund, in this order): flows derived from
# the change in coins held (or shares x NAV), written to source_flows under the entry's id, labelled
# "issuer-derived". Kind FLOWS with no `asset`: one entry serves several ETF tables, and Farside's paths stay its own.
ISSUER_PREFIX = "issuer_"
_ISHARES_FILE = "/1467271812596.ajax?fileType=csv&fileName={}_holdings&dataType=fund"
_ISSUER_RECORDS = "issuer-derived per-fund flows, US$m (source_flows), from each day's holdings file"
REGISTRY += (
    SourceSpec(
        "issuer_ishares",
        "issuer_ishares",
        FLOWS,
        "iShares (BlackRock)",
        (
            "/us/products/333011/ishares-bitcoin-trust-etf" + _ISHARES_FILE.format("IBIT"),
            "/us/products/337614/ishares-ethereum-trust-etf" + _ISHARES_FILE.format("ETHA"),
        ),
        "IBIT, ETHA: " + _ISSUER_RECORDS,
    ),
    SourceSpec(
        "issuer_vaneck",
        "issuer_vaneck",
        FLOWS,
        "VanEck",
        (
            "/Main/NavInformationBlock/GetContent/?blockid=252190&ticker=HODL",
            "/Main/NavInformationBlock/GetContent/?blockid=280232&ticker=ETHV",
        ),
        "HODL, ETHV: " + _ISSUER_RECORDS,
    ),
)

BY_ID: dict[str, SourceSpec] = {s.id: s for s in REGISTRY}
VENUE_IDS: tuple[str, ...] = tuple(s.id for s in REGISTRY if s.kind == DERIVATIVES)


def spec(source: str) -> SourceSpec:
    return BY_ID[source]


def stale_after_s(source: str) -> float | None:
    """How old a source's own data may be before it is stale (None: unknown source or judged by calendar)."""
    found = BY_ID.get(source)
    return found.stale_after_s if found else None


def enabled(config: Config, kinds: tuple[str, ...] | None = None) -> list[SourceSpec]:
    """The sources the config has switched on, in registry order, optionally of some kinds only."""
    return [s for s in REGISTRY if config.source(s.section).enabled and (kinds is None or s.kind in kinds)]


async def poll(
    source: SourceSpec,
    client: httpx.AsyncClient,
    store: Store,
    config: Config,
    *,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> PollOutcome:
    """One poll of one source, with its own config section; the fetch path loads here, not at import."""
    cfg = config.source(source.section)
    if source.id.startswith(ISSUER_PREFIX):
        from .issuers import poll_issuer

        return await poll_issuer(client, store, cfg, source.id, now=now, rng=rng)
    if source.id == "sosovalue":
        from .sosovalue import poll_sosovalue

        return await poll_sosovalue(client, store, cfg, tolerance=config.flows, now=now, rng=rng)
    if source.kind == FLOWS:
        from .farside import poll_farside

        return await poll_farside(client, store, cfg, source.asset or "", now=now, rng=rng)
    if source.kind == DERIVATIVES:
        from .venues import VENUES
        from .venues.poll import poll_venue

        return await poll_venue(client, store, cfg, VENUES[source.id], now=now, rng=rng)
    if source.kind == CANDLES:
        from .coinbase import poll_coinbase

        return await poll_coinbase(client, store, cfg, cycle_start=config.cycle_start, now=now, rng=rng)
    if source.kind == SPOT:
        from .coinbase import poll_coinbase_spot

        return await poll_coinbase_spot(client, store, cfg, now=now, rng=rng)
    from .fed_odds import calendar, poll_odds

    return await poll_odds(client, store, cfg, source.id, now=now, decision_days=calendar(config.fed.decision_days), rng=rng)
