"""Numbers, ages and outside text as terminal-safe rich Text. Pure functions, no widgets.

Signs are shown with arrows as well as colour (colour-blind traders): ▼ outflow, ▲ inflow.
Outside text always goes through `safe()`: sanitised, and a Text object, so it is never parsed as markup.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text

from common.sanitize import clean

OUT, IN = "▼", "▲"
RECORD = "★"


def safe(text: object, style: str = "", max_len: int = 200) -> Text:
    return Text(clean(text, max_len=max_len), style=style)


def usd_m(value: float | None, *, signed: bool = True) -> str:
    """-1113.7 -> '-1,113.7'; None -> '-' (missing, never 0)."""
    if value is None:
        return "-"
    return f"{value:+,.1f}" if signed and value != 0 else f"{value:,.1f}"


def flow_cell(value: float | None, *, record: bool = False, missing_style: str = "dim", bold: bool = False) -> Text:
    """A flow value with arrow and colour; a record is starred."""
    if value is None:
        return Text("-", style=missing_style, justify="right")
    if value < 0:
        text, style = f"{OUT}{abs(value):,.1f}", "red"
    elif value > 0:
        text, style = f"{IN}{value:,.1f}", "green"
    else:
        text, style = "0.0", "dim"
    if bold:
        style += " bold"
    out = Text(text, style=style, justify="right")
    if record:
        out.append(RECORD, style="bold yellow")
    return out


def arrow(value: float | None) -> str:
    if value is None:
        return ""
    return OUT if value < 0 else IN if value > 0 else "="


def age(seconds: float) -> str:
    """A compact age: 'now', '45s', '12m', '3h', '2d'."""
    s = max(0, int(seconds))
    if s < 10:
        return "now"
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400 * 2:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def day(d: dt.date | None) -> str:
    return "-" if d is None else f"{d:%a %d %b %Y}"


def short_day(d: dt.date | None) -> str:
    return "-" if d is None else f"{d:%d %b %Y}"


def month_name(ym: str) -> str:
    return dt.datetime.strptime(ym, "%Y-%m").strftime("%b %Y")
