"""Every number, date and word count on screen, formatted one way (README "Number conventions"). Pure
functions, no widgets; colours come from the active theme's semantic palette (tui/theme.py).

- Flows: US$ millions, one decimal, thousands separated, with an arrow AND a sign: ▲+224.2, ▼-1,608.9, 0.0.
  The arrow keeps the direction readable without colour (colour-blind traders, the monochrome theme).
- Basis and funding: annualized %, two decimals (3.89%); their changes in basis points (▼-53bp).
- Dates: 24 Nov 2025 (weekday in front in the title: Mon 24 Nov 2025); ranges 17–21 Nov 2025; months Nov 2025.
- Missing is "—", never 0. Counts agree with their noun: 1 session, 2 sessions.

Outside text always goes through `safe()`: sanitised, and a Text object, so it is never parsed as markup.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text

from common.sanitize import clean

from .theme import Palette, palette

OUT, IN = "▼", "▲"
RECORD = "★"
MISSING = "—"


def safe(text: object, style: str = "", max_len: int = 200) -> Text:
    return Text(clean(text, max_len=max_len), style=style)


def arrow(value: float | None) -> str:
    if value is None:
        return ""
    return OUT if value < 0 else IN if value > 0 else "="


def flow_str(value: float | None) -> str:
    """-1608.9 -> '▼-1,608.9'; 224.2 -> '▲+224.2'; 0 -> '0.0'; None -> '—'."""
    if value is None:
        return MISSING
    if value == 0:
        return "0.0"
    return f"{arrow(value)}{value:+,.1f}"


def flow(
    value: float | None, *, record: bool = False, missing_style: str | None = None, bold: bool = False, pal: Palette | None = None
) -> Text:
    """A flow in US$m with arrow, sign and the theme's inflow/outflow style; a record is starred."""
    pal = pal or palette()
    if value is None:
        return Text(MISSING, style=pal.missing if missing_style is None else missing_style, justify="right")
    style = pal.outflow if value < 0 else pal.inflow if value > 0 else ""
    if bold:
        style += " bold"
    out = Text(flow_str(value), style=style.strip(), justify="right")
    if record:
        out.append(RECORD, style=pal.record)
    return out


flow_cell = flow  # its name before issue 13 (branches in flight still call it)


def usd_m(value: float | None) -> str:
    """A size, not a flow (no direction): 200 -> 'US$200m', 23.8 -> 'US$23.8m'."""
    if value is None:
        return MISSING
    return f"US${value:,.0f}m" if float(value).is_integer() else f"US${value:,.1f}m"


def usd_bn(value: float | None) -> str:
    """Open interest: 15.4e9 -> 'US$15.4bn'."""
    return MISSING if value is None else f"US${value / 1e9:,.1f}bn"


def pct(value: float | None, *, signed: bool = False, decimals: int = 2) -> str:
    """3.894 -> '3.89%' (basis, funding: annualized); None -> '—'."""
    if value is None:
        return MISSING
    return f"{value:+.{decimals}f}%" if signed else f"{value:.{decimals}f}%"


def bp(points: float | None) -> str:
    """A change of a percentage in basis points: -0.53 (percentage points) -> '-53bp'; 0 -> '0bp'."""
    if points is None:
        return MISSING
    value = round(points * 100)
    return f"{value:+,d}bp" if value else "0bp"


def change(value: float | None, label: str, *, unit: str = "bp", decimals: int = 1, pal: Palette | None = None) -> Text:
    """'24h ▼-53bp' (unit 'bp': value in percentage points) or '7d ▲+10.0%' (unit '%'), styled up/down."""
    pal = pal or palette()
    if value is None:
        return Text(f"{label} {MISSING}", style=pal.missing)
    number = bp(value) if unit == "bp" else pct(value, signed=value != 0, decimals=decimals)
    shown = 0 if unit == "bp" and round(value * 100) == 0 else value
    style = pal.down if shown < 0 else pal.up if shown > 0 else ""
    return Text(f"{label} {arrow(shown) if shown else ''}{number}", style=style)


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


def date(d: dt.date | None, *, weekday: bool = False) -> str:
    """'24 Nov 2025' ('Mon 24 Nov 2025' with the weekday); None -> '—'."""
    if d is None:
        return MISSING
    return f"{d:%a %d %b %Y}" if weekday else f"{d:%d %b %Y}"


def day(d: dt.date | None) -> str:
    """The title's as-of date, 'Mon 24 Nov 2025'."""
    return date(d, weekday=True)


def date_range(start: dt.date | None, end: dt.date | None) -> str:
    """'17–21 Nov 2025', '28 Nov–02 Dec 2025', '29 Dec 2025–02 Jan 2026': the shared month and year said once."""
    if start is None or end is None:
        return f"{date(start)}–{date(end)}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%d}–{date(end)}"
    if start.year == end.year:
        return f"{start:%d %b}–{date(end)}"
    return f"{date(start)}–{date(end)}"


def month(ym: str | dt.date) -> str:
    """'2025-11' or a date -> 'Nov 2025'."""
    d = dt.datetime.strptime(ym, "%Y-%m") if isinstance(ym, str) else ym
    return f"{d:%b %Y}"


def plural(n: int | None, word: str, many: str | None = None) -> str:
    """1 session, 2 sessions, 0 sessions; None -> '— sessions'."""
    count = MISSING if n is None else f"{n:,}"
    return f"{count} {word if n == 1 else many or word + 's'}"


# Names before issue 13, still called by branches in flight.
short_day = date
month_name = month
