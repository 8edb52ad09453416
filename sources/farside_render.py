"""Render rows as a Farside-format page (the markup of the real `table.etf`).

The demo replays its dataset through the real fetch/parse path by serving these pages, and tests
use them to build realistic and hostile variants. Rendering is the parser's inverse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

_CELL = '<td><div align="right"><span class="tabletext">{}</span></div></td>'
_ZERO = '<td class="zero-flow"><div align="right"><span class="tabletext">{}</span></div></td>'
_HEAD = '<th><div align="right"><span class="tabletext">{}</span></div></th>'


def format_value(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "-"
    text = f"{abs(value):,.{decimals}f}"
    return f'<span class="redFont">({text})</span>' if value < 0 else text


def _cell(value: float | None, decimals: int = 1) -> str:
    return (_ZERO if value in (None, 0.0) else _CELL).format(format_value(value, decimals))


def render_page(
    tickers: Sequence[str],
    rows: Sequence[tuple[dt.date, Sequence[float | None], float | None]],
    *,
    footer: bool = True,
    fee_rows: int = 1,
    total_header: str = "Total",
    today: dt.date | None = None,
    footer_over: Sequence[tuple[dt.date, Sequence[float | None], float | None]] | None = None,
) -> str:
    """A full page: issuer/ticker/fee header rows, session rows, and the all-history footer.

    `fee_rows=2` mimics the ETH page's extra staking-fee header row; `total_header=""` its empty
    Total header cell. `today` styles that date's row green, as Farside does for the live day.
    The footer covers `footer_over` (all history, as on Farside's recent pages) or else `rows`."""
    head = [
        "<tr>"
        + "<th></th>"
        + "".join(f'<th><img alt="{escape(t)} issuer"></th>' for t in tickers)
        + _HEAD.format(escape(total_header))
        + "</tr>",
        "<tr><th></th>" + "".join(_HEAD.format(escape(t)) for t in tickers) + _HEAD.format("") + "</tr>",
    ]
    for i in range(fee_rows):
        label = "Fee" if i == 0 else "Staking fee"
        head.append(f"<tr><th>{label}</th>" + "".join(_HEAD.format("0.25%") for _ in tickers) + _HEAD.format("") + "</tr>")
    body = []
    for day, values, total in rows:
        style = ' style="background-color: #99ff99 !important;"' if day == today else ""
        cells = "".join(_cell(v) for v in values) + _cell(total)
        body.append(f'<tr{style}><td><span class="tabletext">{day:%d %b %Y}</span></td>{cells}</tr>')
    if footer and rows:
        body.extend(_footer(tickers, footer_over or rows))
    return (
        "<!DOCTYPE html><html><head><title>Farside Investors</title></head><body>\n"
        '<table class="etf">\n<thead>\n'
        + "\n".join(head)
        + "\n</thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody>\n</table>\n</body></html>\n"
    )


def _footer(tickers: Sequence[str], rows) -> list[str]:
    columns = list(zip(*[list(values) + [total] for _, values, total in rows], strict=False))  # hostile pages may be ragged
    out = []
    for label, fn, decimals in (
        ("Total", sum, 0),
        ("Average", lambda v: sum(v) / len(v), 1),
        ("Maximum", max, 1),
        ("Minimum", min, 1),
    ):
        cells = []
        for col in columns:
            present = [v for v in col if v is not None]
            cells.append(_cell(fn(present), decimals) if present else _cell(None))
        out.append(
            f'<tr style="background-color: #eaeffa !important;"><td><span class="tabletext">{label}</span></td>'
            f"{''.join(cells)}</tr>"
        )
    return out
