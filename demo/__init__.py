"""The demo replay: the bundled dataset served as Farside pages to the real fetchers, no network.

Everything the demo shows goes through the same fetch -> parse -> store -> analytics path as live
data; only the transport and the clock are replaced. See demo/data/README.md for what is published
and what is illustrative.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections.abc import Callable
from importlib import resources
from typing import TypedDict

import httpx

from common.config import SECTIONS, Config
from sources.farside import HISTORY_PATHS, RECENT_PATHS
from sources.farside_render import render_page
from store import Store

from . import venues as demo_venues

DEMO_BASE_URL = "https://demo.flowtape.invalid"
# The demo's clock: Monday 24 Nov 2025, 17:00 New York, with that day half reported.
DEMO_NOW = dt.datetime(2025, 11, 24, 22, 0, tzinfo=dt.UTC)
DEMO_NOTICE = "replayed sample data, partly illustrative"
RECENT_ROWS = 15


def load_dataset(asset: str) -> tuple[list[str], list[tuple[dt.date, list[float | None], float | None]]]:
    text = resources.files("demo").joinpath("data", f"{asset}.csv").read_text(encoding="utf-8")
    reader = csv.reader(text.splitlines())
    header = next(reader)
    tickers = header[1:]
    rows: list[tuple[dt.date, list[float | None], float | None]] = []
    for line in reader:
        values = [None if v == "-" else float(v) for v in line[1:]]
        present = [v for v in values if v is not None]
        total = round(sum(present), 1) + 0.0  # Farside's Total is the running sum of what has reported
        rows.append((dt.date.fromisoformat(line[0]), values, total))
    return tickers, rows


class _PageStyle(TypedDict, total=False):
    """render_page's layout options a demo page overrides."""

    fee_rows: int
    total_header: str


def _pages() -> dict[str, str]:
    pages = {}
    for asset in ("btc", "eth", "sol"):
        tickers, rows = load_dataset(asset)
        # The ETH page has an extra staking-fee header row and an empty Total header, as the real one does.
        style: _PageStyle = {"fee_rows": 2, "total_header": ""} if asset == "eth" else {}
        today = DEMO_NOW.date()
        pages[RECENT_PATHS[asset]] = render_page(tickers, rows[-RECENT_ROWS:], today=today, footer_over=rows, **style)
        if asset != "sol":
            pages[HISTORY_PATHS[asset]] = render_page(tickers, rows, today=today, **style)
    return pages


def venue_base_url(venue: str) -> str:
    return f"{DEMO_BASE_URL}/{venue}"


def demo_transport(clock: Callable[[], dt.datetime] = lambda: DEMO_NOW) -> httpx.MockTransport:
    """Farside pages at their usual paths; venue `X` under `/X/...`, answering as of `clock()`."""
    pages = _pages()

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        page = pages.get(path)
        if page is not None:
            return httpx.Response(200, text=page, headers={"Content-Type": "text/html; charset=utf-8"})
        venue, _, rest = path.lstrip("/").partition("/")
        if venue == "cme":  # the real CME site refuses bots: replay that, so the demo shows "blocked"
            return httpx.Response(403, text="<html><title>Just a moment...</title><div id='cf-chl'></div></html>")
        text = demo_venues.body(venue, "/" + rest + ("?" + request.url.query.decode() if request.url.query else ""), clock())
        if text is None:
            return httpx.Response(404, text="not found")
        return httpx.Response(200, text=text, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handler)


def demo_config(config: Config) -> Config:
    """Every source pointed at the demo transport's addresses."""
    for section in SECTIONS:  # Farside at the root (its real paths), every other upstream under /NAME
        base = DEMO_BASE_URL if section == "farside" else venue_base_url(section)
        config = config.with_source(section, base_url=base, enabled=True)
    return config


async def replay_history(
    store: Store, config: Config, clock_box: list[dt.datetime], *, hours: int = 192, step: int = 6, rng=None
) -> None:
    """Poll the demo venues at past times so charts, sparklines and 24 h / 7 d changes have data."""
    from sources.refresh import refresh_odds, refresh_venues

    # Past polls replayed to build history are not outcomes to report: the poll log stays quiet meanwhile
    # (the demo's CME bot wall would otherwise print 33 warnings before the command's own refresh).
    poll_log = logging.getLogger("sources.polling")
    level = poll_log.level
    poll_log.setLevel(logging.ERROR)
    try:
        start = DEMO_NOW - dt.timedelta(hours=hours)
        for n in range(hours // step):
            clock_box[0] = start + dt.timedelta(hours=n * step)
            await refresh_venues(store, config, transport=demo_transport(lambda: clock_box[0]), now=clock_box[0], rng=rng)
        for days_back in range(32, 0, -2):  # Fed odds a month back, for the one-month change
            clock_box[0] = DEMO_NOW - dt.timedelta(days=days_back)
            await refresh_odds(store, config, transport=demo_transport(lambda: clock_box[0]), now=clock_box[0], rng=rng)
    finally:
        poll_log.setLevel(level)
    clock_box[0] = DEMO_NOW
