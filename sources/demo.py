"""The demo replay: the bundled dataset served as Farside pages to the real fetchers, no network.

Everything the demo shows goes through the same fetch -> parse -> store -> analytics path as live
data; only the transport and the clock are replaced. See demo_data/README.md for what is published
and what is illustrative.
"""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources

import httpx

from .farside import HISTORY_PATHS, RECENT_PATHS
from .farside_render import render_page

DEMO_BASE_URL = "https://demo.flowtape.invalid"
# The demo's clock: Monday 24 Nov 2025, 17:00 New York, with that day half reported.
DEMO_NOW = dt.datetime(2025, 11, 24, 22, 0, tzinfo=dt.timezone.utc)
DEMO_NOTICE = "replayed sample data, partly illustrative"
RECENT_ROWS = 15


def load_dataset(asset: str) -> tuple[list[str], list[tuple[dt.date, list[float | None], float | None]]]:
    text = resources.files("sources").joinpath("demo_data", f"{asset}.csv").read_text(encoding="utf-8")
    reader = csv.reader(text.splitlines())
    header = next(reader)
    tickers = header[1:]
    rows = []
    for line in reader:
        values = [None if v == "-" else float(v) for v in line[1:]]
        present = [v for v in values if v is not None]
        total = round(sum(present), 1) + 0.0  # Farside's Total is the running sum of what has reported
        rows.append((dt.date.fromisoformat(line[0]), values, total))
    return tickers, rows


def _pages() -> dict[str, str]:
    pages = {}
    for asset in ("btc", "eth", "sol"):
        tickers, rows = load_dataset(asset)
        # The ETH page has an extra staking-fee header row and an empty Total header (SOURCES.md).
        style = {"fee_rows": 2, "total_header": ""} if asset == "eth" else {}
        today = DEMO_NOW.date()
        pages[RECENT_PATHS[asset]] = render_page(tickers, rows[-RECENT_ROWS:], today=today, footer_over=rows, **style)
        if asset != "sol":
            pages[HISTORY_PATHS[asset]] = render_page(tickers, rows, today=today, **style)
    return pages


def demo_transport() -> httpx.MockTransport:
    pages = _pages()

    def handler(request: httpx.Request) -> httpx.Response:
        page = pages.get(request.url.path)
        if page is None:
            return httpx.Response(404, text="not found")
        return httpx.Response(200, text=page, headers={"Content-Type": "text/html; charset=utf-8"})

    return httpx.MockTransport(handler)
