"""Parse a Farside ETF flow page (recent table or all-data history) into a FlowTable.

A pure function of the HTML text. The page's rules: the ticker row is found by
content (never by position), the Total column is never summed with the funds, `(x)` is negative,
`0.0` is zero, `-` is missing, footer rows are kept apart from data, and the last row is flagged
provisional while a fund that reported recently still shows `-`. The stdlib HTML parser is used
on purpose: it cannot segfault or silently truncate.

The page is a boundary (README "Sources"): a table wider than any real one is refused before its
rows are read; tickers are identifiers, unique per header; every date is a NYSE session between the
first spot ETF session and tomorrow; every flow is within bounds.flow_usd_m. A Total that disagrees
with its funds is kept (it is what Farside published) and reported in `FlowTable.warnings`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from html.parser import HTMLParser

from common.bounds import BOUNDS, BoundsError, check, check_day, identifier
from common.calendar import is_trading_day, new_york_today
from common.records import DataError, FlowRow, FlowTable, SourceState
from common.sanitize import clean


class ParseError(DataError):
    """The page is not a usable Farside table. Nothing from it may be stored."""


class NoTableError(ParseError):
    """No `table.etf` at all: usually a challenge page served with HTTP 200."""

    state = SourceState.BLOCKED
    prefix = "no flow table on the page (bot challenge?): "


FOOTER_LABELS = frozenset({"total", "average", "maximum", "minimum", "seed", "fee"})
MAX_ABS_USD_M = 100_000.0  # format sanity for any cell, footers included (all-history totals reach ~60,000)
RECENT_WINDOW = 5  # sessions looked back to decide which funds "reported recently"
# The widest real page (BTC) has 12 funds + date + Total. A 10,000-column table once froze the UI for
# 23 s; anything wider than this is not Farside's table and is refused while the HTML is still being read.
MAX_FUND_COLUMNS = int(BOUNDS["funds_per_table"].high)
MAX_CELLS = MAX_FUND_COLUMNS + 2  # + the date column and the Total
_TICKER = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")  # an exchange ticker: 2-10 of [A-Z0-9]
# A Total may differ from the sum of its funds by rounding only: each cell is rounded to 0.1.
TOTAL_TOLERANCE_BASE, TOTAL_TOLERANCE_PER_FUND = 0.2, 0.1
MAX_WARNINGS = 3  # per kind, so a status line stays a line
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_DATE = re.compile(r"^(\d{1,2}) ([A-Za-z]{3}) (\d{4})$")
_NUMBER = re.compile(r"^-?\d{1,3}(,\d{3})*(\.\d+)?$|^-?\d+(\.\d+)?$")


class _TableCollector(HTMLParser):
    """Collects the rows of the first `<table class="etf">` as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = False
        self.rows: list[list[str]] = []
        self._depth = 0  # table nesting depth inside the etf table
        self._done = False
        self.closed = False  # saw the etf table's own </table>
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        if tag == "table":
            if self._depth:
                self._depth += 1
            elif "etf" in (dict(attrs).get("class") or "").split():
                self.found, self._depth = True, 1
            return
        if self._depth != 1:
            return
        if tag == "tr":
            self._close_row()
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._close_cell()
            if len(self._row) >= MAX_CELLS:  # stop reading now: the cost of a refusal stays constant
                raise ParseError(
                    f"the flow table has more than {MAX_CELLS} columns (the widest real page has 14): not Farside's table"
                )
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._done or not self._depth:
            return
        if tag == "table":
            self._depth -= 1
            if not self._depth:
                self._close_row()
                self._done = self.closed = True
        elif self._depth == 1 and tag in ("td", "th"):
            self._close_cell()
        elif self._depth == 1 and tag == "tr":
            self._close_row()

    def handle_data(self, data: str) -> None:
        if self._cell is not None and self._depth == 1:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
        self._cell = None

    def _close_row(self) -> None:
        self._close_cell()
        if self._row is not None:
            self.rows.append(self._row)
        self._row = None

    def close(self) -> None:
        super().close()
        self._close_row()


def parse_date(text: str) -> dt.date | None:
    """`06 Jul 2026` -> date; anything else -> None (locale-independent)."""
    m = _DATE.match(text.strip())
    if not m or m.group(2).lower() not in _MONTHS:
        return None
    try:
        return dt.date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    except ValueError:
        return None


def parse_value(text: str) -> float | None:
    """A Farside cell in US$m: `1,119.9`, `(44.5)` -> -44.5, `0.0` -> 0.0, `-` -> None (missing).

    Raises ParseError for anything else, so a drifted or hostile cell can never become a number."""
    s = text.strip().replace("\u2212", "-")
    if s in ("-", "", "\u2013", "\u2014"):
        return None
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1].strip()
    if not _NUMBER.match(s) or (negative and s.startswith("-")):
        raise ParseError(f"not a flow value: {clean(text, max_len=40)!r}")
    value = float(s.replace(",", ""))
    if not math.isfinite(value) or abs(value) > MAX_ABS_USD_M:
        raise ParseError(f"flow value out of range: {clean(text, max_len=40)!r}")
    value = -value if negative else value
    return value + 0.0  # normalise -0.0 to 0.0


def _ticker_row(header_rows: list[list[str]]) -> int:
    best, best_count = -1, 0
    for i, row in enumerate(header_rows):
        count = sum(1 for c in row[1:] if _TICKER.match(c) and c.upper() != "TOTAL")
        if count > best_count:
            best, best_count = i, count
    if best < 0:
        raise ParseError("no header row with fund tickers")
    return best


def _columns(header_rows: list[list[str]], width: int) -> tuple[list[tuple[int, str]], int | None]:
    """Fund columns as (index, ticker) and the index of the Total column (None if absent).

    A ticker is an identifier of 2-10 of [A-Z0-9]; a ticker twice in one header is refused: a renamed
    fund listed under both names would be counted twice in every per-fund sum."""
    tickers = header_rows[_ticker_row(header_rows)]
    tickers = tickers + [""] * (width - len(tickers))
    total_col = None
    for row in header_rows:
        for i, cell in enumerate(row[1:], 1):
            if cell.strip().lower() == "total":
                total_col = i
    if total_col is None and not tickers[width - 1].strip():
        total_col = width - 1  # the ETH page's Total header is an empty cell
    funds: list[tuple[int, str]] = []
    for i in range(1, width):
        if i == total_col:
            continue
        name = tickers[i].strip()
        if not _TICKER.match(identifier(name, f"column {i} ticker")):
            raise ParseError(f"column {i} has no fund ticker (header {clean(name, max_len=40)!r})")
        twin = next((j for j, n in funds if n == name), None)
        if twin is not None:
            raise ParseError(f"ticker {name} appears twice in the header (columns {twin} and {i}): a fund would be counted twice")
        funds.append((i, name))
    return funds, total_col


def parse_farside(html: str, asset: str, *, today: dt.date | None = None) -> FlowTable:
    """Parse a Farside page for `asset` ('btc', 'eth', 'sol'); `today` is New York's date (dates up to
    tomorrow pass). Raises ParseError (a DataError) naming the cell, row or column, and nothing else."""
    try:
        return _parse(html, asset, today or new_york_today())
    except BoundsError as exc:  # one error class for the page, still naming the field
        raise ParseError(str(exc)) from None


def _parse(html: str, asset: str, today: dt.date) -> FlowTable:
    collector = _TableCollector()
    collector.feed(html)
    collector.close()
    if not collector.found:
        raise NoTableError("no table.etf on the page")
    if not collector.closed:  # a body cut short (bad Content-Length, dropped connection) must not pass as fewer rows
        raise ParseError("the flow table never ends: the page was cut short")
    rows = [r for r in collector.rows if any(c.strip() for c in r)]
    first_data = next((i for i, r in enumerate(rows) if r and parse_date(r[0])), None)
    if first_data is None:
        raise ParseError("the flow table has no dated rows")
    header_rows = rows[:first_data]
    width = max(len(r) for r in rows[: first_data + 1])
    funds, total_col = _columns(header_rows, width)

    data: list[tuple[dt.date, dict[str, float | None], float | None]] = []
    footer: dict[str, dict[str, float | None]] = {}
    skipped: list[str] = []
    for row in rows[first_data:]:
        label = row[0].strip() if row else ""
        day = parse_date(label)
        if day is None:
            if label.lower() in FOOTER_LABELS:
                footer[label.capitalize()] = _footer_values(row, funds, total_col)
            continue  # an unknown non-data row degrades nothing
        check_day(day, f"row {label}", today=today)
        if day.weekday() >= 5:
            raise ParseError(
                f"row {label} is a {day:%A}: Farside lists no weekend rows, so this page's dates are not what we think"
            )
        if len(row) != width:
            raise ParseError(f"row {label} has {len(row)} cells, the header has {width}")
        try:
            values = {name: _flow(row[i], name) for i, name in funds}
            total = _flow(row[total_col], "Total") if total_col is not None else None
        except (ParseError, BoundsError) as exc:
            raise ParseError(f"row {label}: {exc}") from None
        if data and day <= data[-1][0]:
            raise ParseError(f"dates not increasing at {label}")
        if not is_trading_day(day):
            # A weekday NYSE holiday. A placeholder line with no flows is skipped (and said so): our
            # calendar may know a closure the page still prints. Flows on a closed day mean the dates
            # are shifted or the calendar is wrong, and neither may be stored.
            if any(v for v in (*values.values(), total)):
                raise ParseError(f"row {label} is an NYSE holiday yet carries flows: the page's dates are not what we think")
            skipped.append(day.isoformat())
            continue
        data.append((day, values, total))

    out = [FlowRow(d, v, t) for d, v, t in data]
    if out:
        last = out[-1]
        recent = out[-1 - RECENT_WINDOW : -1]
        reported = {n for r in recent for n, v in r.funds.items() if v is not None}
        missing = tuple(n for n, v in last.funds.items() if v is None and (n in reported or not recent))
        if missing:
            out[-1] = FlowRow(last.date, last.funds, last.total, True, missing)
    warnings = _total_disagreements(out)
    if skipped:
        warnings.append(f"skipped {len(skipped)} NYSE-holiday row(s) without flows: {', '.join(skipped[:MAX_WARNINGS])}")
    return FlowTable(asset, tuple(n for _, n in funds), tuple(out), footer, tuple(warnings))


def _flow(text: str, column: str) -> float | None:
    value = parse_value(text)
    return None if value is None else check("flow_usd_m", value, column)


def _total_disagreements(rows: list[FlowRow]) -> list[str]:
    """Complete rows whose published Total is not the sum of their funds (beyond rounding)."""
    problems = []
    for row in rows:
        present = [v for v in row.funds.values() if v is not None]
        if row.provisional or row.total is None or not present:
            continue
        funds_sum = round(sum(present), 1) + 0.0
        if abs(funds_sum - row.total) > TOTAL_TOLERANCE_BASE + TOTAL_TOLERANCE_PER_FUND * len(present):
            problems.append(f"{row.date.isoformat()} Total {row.total:,.1f} but its funds sum to {funds_sum:,.1f}")
    if not problems:
        return []
    extra = f" (+{len(problems) - MAX_WARNINGS} more)" if len(problems) > MAX_WARNINGS else ""
    return ["Total disagrees with its funds (kept as published): " + "; ".join(problems[:MAX_WARNINGS]) + extra]


def _footer_values(row: list[str], funds: list[tuple[int, str]], total_col: int | None) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    columns = list(funds) + ([(total_col, "TOTAL")] if total_col is not None else [])
    for i, name in columns:
        try:
            values[name] = parse_value(row[i]) if i < len(row) else None
        except ParseError:
            values[name] = None  # a footer is only a cross-check: a bad cell there is not fatal
    return values
