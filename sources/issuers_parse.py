"""The issuers' own holdings files -> one typed `Holdings` per file (issue 16 point 2).

Two formats, both found as real files (tests/data/real/issuers/ORIGINS.md):

- iShares (IBIT, ETHA): the product page's holdings CSV. A preamble of `key,"value"` lines ("Fund Holdings as
  of", "Shares Outstanding"), a table (Ticker, ..., Market Value, ..., Quantity, ...) with the coin's row and a
  USD cash row, then BlackRock's notice in one quoted multi-line field. UTF-8 with a BOM; blank lines are a lone
  no-break space.
- VanEck (HODL, ETHV): the "ETF Statistics" JSON block: `data.AsOfDate` (MM/DD/YYYY) and `data.Navs`, a list of
  `{"Key", "Value"}` text pairs ("Bitcoin in Trust", "Shares Outstanding", "Total Net Assets").

Whatever the bytes, the result is a `Holdings` within bounds or an IssuerError (a DataError) naming the fund
and the field; never another exception. Nothing from a refused file is kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from typing import Any

from common.bounds import BoundsError, check, check_day, shown
from common.records import DataError

# The coin each asset's fund holds: its row's ticker in the iShares table, its key in VanEck's block, its bound.
COINS = {
    "btc": ("BTC", "Bitcoin in Trust", "fund_btc"),
    "eth": ("ETH", "Ether in Trust", "fund_eth"),
}
_NUMBER = re.compile(r"-?(\d+|\d*\.\d+|\d+\.\d*)")
MAX_FILE_CHARS = 200_000  # the real files are under 5 kB; a holdings table of one coin never needs more


class IssuerError(DataError):
    pass


@dataclass(frozen=True)
class Holdings:
    """One fund's holdings as its issuer's file states them for one day."""

    fund: str  # the ticker (IBIT)
    asset: str  # btc | eth
    as_of: dt.date  # the file's own date
    coins: float  # units of the asset held
    shares: float | None  # shares outstanding (None: the file does not say)
    net_assets_usd: float | None  # the file's net assets in USD (None: not given)

    @property
    def nav_per_share(self) -> float | None:
        if self.shares is None or self.net_assets_usd is None or self.shares <= 0:
            return None
        return self.net_assets_usd / self.shares


def number(raw: object, where: str) -> float:
    """A file's number as text ("1,448,920,000.00", ".283") -> float, or IssuerError naming `where`."""
    text = raw.strip().replace(",", "") if isinstance(raw, str) else None
    if text is None or len(text) > 40 or not _NUMBER.fullmatch(text):
        raise IssuerError(f"{where}: {shown(raw)} is not a number")
    return float(text)


def _in_bounds(kind: str, value: float, where: str) -> float:
    try:
        return check(kind, value, where)
    except BoundsError as exc:  # one error class for the file, still naming the field
        raise IssuerError(str(exc)) from None


def _bounded(kind: str, raw: object, where: str) -> float:
    return _in_bounds(kind, number(raw, where), where)


def _day(day: dt.date, where: str, today: dt.date) -> dt.date:
    try:
        return check_day(day, where, today=today)
    except BoundsError as exc:
        raise IssuerError(str(exc)) from None


def _text(text: object, where: str) -> str:
    if not isinstance(text, str):
        raise IssuerError(f"{where}: expected text")
    if len(text) > MAX_FILE_CHARS:
        raise IssuerError(f"{where}: {len(text):,} characters, a holdings file is under {MAX_FILE_CHARS:,}")
    return text.lstrip("\ufeff")


def parse_ishares_csv(text: str, fund: str, asset: str, *, today: dt.date) -> Holdings:
    """An iShares holdings CSV for `fund` (holding `asset`). `today`: the New York date (the file's date may not
    be after tomorrow)."""
    where = f"{fund} holdings"
    ticker, _, bound = COINS[asset]
    try:
        rows = list(csv.reader(io.StringIO(_text(text, where))))
    except csv.Error as exc:
        raise IssuerError(f"{where}: unreadable CSV ({exc})") from None
    preamble: dict[str, str] = {}
    header: list[str] | None = None
    table: list[list[str]] = []
    for row in rows:
        cells = [c.strip().strip("\u00a0").strip() for c in row]
        if not any(cells):
            if header is not None and table:
                break  # the table ends at its first blank line; BlackRock's notice follows
            continue
        if header is None:
            if cells[0] == "Ticker":
                header = cells
            elif len(cells) >= 2:
                preamble.setdefault(cells[0], cells[1])
            continue
        table.append(cells)
    if "Fund Holdings as of" not in preamble:
        raise IssuerError(f"{where}: no 'Fund Holdings as of' line")
    try:
        as_of = dt.datetime.strptime(preamble["Fund Holdings as of"], "%b %d, %Y").date()
    except ValueError:
        raise IssuerError(f"{where}: 'Fund Holdings as of' = {shown(preamble['Fund Holdings as of'])} is not a date") from None
    as_of = _day(as_of, f"{where} as of", today)
    if header is None:
        raise IssuerError(f"{where}: no holdings table (no 'Ticker' header)")
    columns = {name: i for i, name in enumerate(header)}
    for name in ("Ticker", "Market Value", "Quantity"):
        if name not in columns:
            raise IssuerError(f"{where}: the table has no '{name}' column")
    coins: float | None = None
    net = 0.0
    for i, cells in enumerate(table):
        if len(cells) < len(header):
            raise IssuerError(f"{where} row {i + 1}: {len(cells)} cells under {len(header)} headings")
        # A cash row can be negative (payables); its size is still bounded.
        mv_where = f"{where} row {i + 1} Market Value"
        value = number(cells[columns["Market Value"]], mv_where)
        net += math.copysign(_in_bounds("fund_net_assets_usd", abs(value), mv_where), value)
        if cells[columns["Ticker"]] == ticker:
            if coins is not None:
                raise IssuerError(f"{where}: two {ticker} rows")
            coins = _bounded(bound, cells[columns["Quantity"]], f"{where} {ticker} Quantity")
    if coins is None:
        raise IssuerError(f"{where}: no {ticker} row")
    raw_shares = preamble.get("Shares Outstanding")
    shares = None if raw_shares in (None, "-") else _bounded("fund_shares", raw_shares, f"{where} Shares Outstanding")
    return Holdings(fund, asset, as_of, coins, shares, _in_bounds("fund_net_assets_usd", net, f"{where} net assets"))


def parse_vaneck_json(obj: Any, fund: str, asset: str, *, today: dt.date) -> Holdings:
    """VanEck's "ETF Statistics" block (already decoded JSON) for `fund` holding `asset`."""
    where = f"{fund} statistics"
    _, key, bound = COINS[asset]
    data = obj.get("data") if isinstance(obj, dict) else None
    if not isinstance(data, dict):
        raise IssuerError(f"{where}: no 'data' object")
    raw_date = data.get("AsOfDate")
    try:
        as_of = dt.datetime.strptime(raw_date, "%m/%d/%Y").date() if isinstance(raw_date, str) else None
    except ValueError:
        as_of = None
    if as_of is None:
        raise IssuerError(f"{where}: AsOfDate = {shown(raw_date)} is not a MM/DD/YYYY date")
    as_of = _day(as_of, f"{where} AsOfDate", today)
    navs = data.get("Navs")
    if not isinstance(navs, list):
        raise IssuerError(f"{where}: 'Navs' is not a list")
    values: dict[str, object] = {}
    for item in navs:
        if isinstance(item, dict) and isinstance(item.get("Key"), str):
            values.setdefault(item["Key"], item.get("Value"))
    if key not in values:
        raise IssuerError(f"{where}: no '{key}'")
    coins = _bounded(bound, values[key], f"{where} {key}")

    def optional(name: str, kind: str) -> float | None:
        return None if values.get(name) in (None, "", "-") else _bounded(kind, values[name], f"{where} {name}")

    shares = optional("Shares Outstanding", "fund_shares")
    return Holdings(fund, asset, as_of, coins, shares, optional("Total Net Assets", "fund_net_assets_usd"))
