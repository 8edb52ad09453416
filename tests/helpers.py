"""Builders shared by tests: Farside pages from (date, total) series, stores in tmp dirs."""

from __future__ import annotations

import datetime as dt

from common.records import FlowRow, FlowTable
from sources.farside_render import render_page

TICKERS = ["IBIT", "FBTC", "GBTC"]


def split_row(total: float) -> list[float]:
    """An exact 3-fund split of `total` (IBIT 60%, FBTC 30%, GBTC the rest)."""
    ibit = round(total * 0.6, 1)
    fbtc = round(total * 0.3, 1)
    return [ibit, fbtc, round(total - ibit - fbtc, 1)]


def rows_from_totals(series: list[tuple[dt.date, float]]):
    return [(d, split_row(t), t) for d, t in series]


def page_from_totals(series: list[tuple[dt.date, float]], **kw) -> str:
    return render_page(TICKERS, rows_from_totals(series), **kw)


def table(asset: str, series: list[tuple[dt.date, float | None]], provisional_last: bool = False) -> FlowTable:
    rows = []
    for i, (d, t) in enumerate(series):
        funds = dict(zip(TICKERS, split_row(t), strict=True)) if t is not None else {k: None for k in TICKERS}
        prov = provisional_last and i == len(series) - 1
        rows.append(FlowRow(d, funds, t, prov, tuple(TICKERS) if prov and t is None else ()))
    return FlowTable(asset, tuple(TICKERS), tuple(rows))
