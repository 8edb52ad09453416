"""The Farside page as a validated boundary: dates, tickers, widths, values and Totals checked against
the real page and hostile variants derived from it (the original is never edited)."""

from __future__ import annotations

import datetime as dt
import random
import re
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.bounds import BOUNDS, FIRST_ETF_SESSION
from common.calendar import is_trading_day
from common.config import SourceConfig
from common.records import DataError, FlowTable
from sources.farside import RECENT_PATHS, history_key, poll_farside
from sources.farside_parse import MAX_FUND_COLUMNS, ParseError, parse_farside
from sources.http import make_client
from store import Store
from tests.conftest import sample

D = dt.date
TODAY = D(2026, 7, 23)  # the sample's live day
NOW = dt.datetime(2026, 7, 23, 22, 0, tzinfo=dt.UTC)
CFG = SourceConfig("farside", "https://farside.test", interval=900, deadline=5)
REAL = sample("farside_btc.html")
_CELL = re.compile(r"<t[dh][^>]*>.*?</t[dh]>", re.S)


def parse(html: str, today: dt.date = TODAY) -> FlowTable:
    return parse_farside(html, "btc", today=today)


def rows_of(html: str) -> list[str]:
    return re.split(r"(?=<tr)", html)


def cell_text(cell: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", cell).split())


def set_cells(html: str, edit) -> str:
    """Rewrite every row's cells: `edit(row_index, cells_text) -> new cells_text or None (unchanged)`."""
    out = []
    for n, row in enumerate(rows_of(html)):
        cells = list(_CELL.finditer(row))
        new = edit(n, [cell_text(c.group(0)) for c in cells]) if cells else None
        if new is not None:
            tag = cells[0].group(0)[1:3]
            row = row[: cells[0].start()] + "".join(f"<{tag}>{text}</{tag}>" for text in new) + row[cells[-1].end() :]
        out.append(row)
    return "".join(out)


def ticker_index(name: str) -> int:
    header = next(r for r in rows_of(REAL) if re.search(r">\s*IBIT<", r))
    return [cell_text(c) for c in _CELL.findall(header)].index(name)


def test_real_page_passes_every_rule_without_warnings():
    t = parse(REAL)
    assert len(t.rows) == 14 and t.warnings == ()
    assert t.rows[-1].funds["IBIT"] is None  # `-` stays missing
    assert t.footer["Total"]["GBTC"] == -27416.0  # footer rows are cumulative: kept apart, not bounded as a day


# ---- 1. dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old,new", [("06 Jul 2026", "06 Jul 0001"), ("23 Jul 2026", "23 Jul 2099"), ("06 Jul 2026", "10 Jan 2024")]
)
def test_row_dated_outside_the_etf_era_is_refused_naming_it(old, new):
    # 0001 crashed `scenarios --history`; 2099 silenced staleness for good; 10 Jan 2024 is the eve of the first session.
    with pytest.raises(ParseError, match=f"row {new}.*outside 2024-01-11 .. tomorrow"):
        parse(REAL.replace(old, new, 1))


def test_row_dated_tomorrow_passes_the_day_after_does_not():
    assert parse(REAL, today=TODAY - dt.timedelta(days=1)).rows[-1].date == TODAY  # New York runs behind UTC
    with pytest.raises(ParseError, match="23 Jul 2026"):
        parse(REAL, today=TODAY - dt.timedelta(days=2))


def test_weekend_row_refuses_the_page():
    with pytest.raises(ParseError, match="row 11 Jul 2026 is a Saturday"):
        parse(REAL.replace("10 Jul 2026", "11 Jul 2026", 1))


def test_holiday_row_with_flows_refuses_the_page():
    # 3 Jul 2026 is the observed Independence Day (the 4th is a Saturday): NYSE closed.
    assert not is_trading_day(D(2026, 7, 3))
    with pytest.raises(ParseError, match="row 03 Jul 2026 is an NYSE holiday yet carries flows"):
        parse(REAL.replace("06 Jul 2026", "03 Jul 2026", 1))


def test_holiday_placeholder_row_is_skipped_and_said():
    first = next(r for r in rows_of(REAL) if "06 Jul 2026" in r)
    placeholder = set_cells(first, lambda n, cells: ["03 Jul 2026"] + ["-"] * (len(cells) - 1))
    t = parse(REAL.replace(first, placeholder + first, 1))
    assert D(2026, 7, 3) not in [r.date for r in t.rows] and len(t.rows) == 14
    assert any("NYSE-holiday" in w and "2026-07-03" in w for w in t.warnings)


# ---- 2. a Total that disagrees with its funds ----------------------------------------------------------


def _with_total(day: str, total: str) -> str:
    return set_cells(REAL, lambda n, cells: cells[:-1] + [total] if cells[0] == day else None)


def test_total_disagreeing_with_its_funds_is_kept_and_reported():
    t = parse(_with_total("06 Jul 2026", "365.7"))
    assert next(r for r in t.rows if r.date == D(2026, 7, 6)).total == 365.7  # kept: it is what Farside published
    [warning] = t.warnings
    assert "2026-07-06" in warning and "365.7" in warning and "265.7" in warning


def test_total_within_rounding_is_not_reported():
    assert parse(_with_total("06 Jul 2026", "265.9")).warnings == ()


async def test_total_disagreement_reaches_the_source_status(tmp_path):
    store = Store.open(tmp_path / "f.db")
    store.set_meta(history_key("btc"), "none")
    page = _with_total("07 Jul 2026", "(999.0)")
    out = await _poll(store, page)
    assert out.state == "ok" and "2026-07-07" in out.warning and "-999.0" in out.warning
    assert "2026-07-07" in store.status("farside_btc")["warning"]
    store.close()


# ---- 3. tickers -----------------------------------------------------------------------------------------


def test_ticker_twice_in_the_header_is_refused_naming_it():
    with pytest.raises(ParseError, match="ticker IBIT appears twice"):
        parse(re.sub(r">\s*FBTC<", ">IBIT<", REAL, count=1))


@pytest.mark.parametrize("bad", ["ibit", "IBIT-X", "ABCDEFGHIJK", "I", "IB IT", "ＩＢＩＴ"])
def test_ticker_outside_the_ticker_alphabet_is_refused_naming_the_column(bad):
    with pytest.raises(ParseError, match=f"column {ticker_index('FBTC')}"):
        parse(re.sub(r">\s*FBTC<", f">{bad}<", REAL, count=1))


def test_ten_character_ticker_is_read():
    assert "ABCDEFGHIJ" in parse(re.sub(r">\s*FBTC<", ">ABCDEFGHIJ<", REAL, count=1)).tickers


async def test_renamed_ticker_repeating_a_stored_fund_is_reported(tmp_path):
    store = Store.open(tmp_path / "f.db")
    store.set_meta(history_key("btc"), "none")
    assert (await _poll(store, REAL)).warning is None
    out = await _poll(store, re.sub(r">\s*IBIT<", ">IBTX<", REAL, count=1))
    assert out.state == "ok" and "IBTX repeats stored IBIT" in out.warning
    store.close()


# ---- 4. width -------------------------------------------------------------------------------------------


def _widen(html: str, extra: int) -> str:
    """`extra` fund columns before Total, with distinct tickers and distinct flows."""

    def edit(n, cells):
        if len(cells) < 13:
            return None
        if cells[1] == "IBIT":
            new = [f"X{i}" for i in range(extra)]
        elif re.match(r"\d\d \w{3} \d{4}", cells[0]) and cells[1] != "-":
            new = [f"{i}.{n % 10}" for i in range(extra)]
        else:
            new = ["-"] * extra
        return cells[:-1] + new + cells[-1:]

    return set_cells(html, edit)


def test_table_as_wide_as_allowed_is_read():
    t = parse(_widen(REAL, MAX_FUND_COLUMNS - 12))
    assert len(t.tickers) == MAX_FUND_COLUMNS


def test_table_wider_than_any_real_one_is_refused_cheaply():
    assert len(_widen(REAL, MAX_FUND_COLUMNS - 11).split("<tr")[2].split("<th")) > MAX_FUND_COLUMNS + 2
    with pytest.raises(ParseError, match="more than 42 columns"):
        parse(_widen(REAL, MAX_FUND_COLUMNS - 11))
    wide = _widen(REAL, 10_000)
    start = time.perf_counter()
    with pytest.raises(ParseError, match="more than 42 columns"):
        parse(wide)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.2, elapsed  # measured ~1 ms; reading it whole took 1.5 s and 23 s of UI


# ---- 5. values ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["25,000.0", "(20,000.1)"])
def test_value_outside_a_days_bound_is_refused_naming_row_and_fund(text):
    bound = re.escape(BOUNDS["flow_usd_m"].describe())
    with pytest.raises(ParseError, match=rf"row 06 Jul 2026: IBIT = -?2[05]00\d*\.?\d* is outside {bound}"):
        parse(REAL.replace(">209.4<", f">{text}<", 1))


# ---- 7. whatever the mutation: a FlowTable within bounds, or a DataError ---------------------------


def assert_within_bounds(t: FlowTable, today: dt.date = TODAY) -> None:
    flow = BOUNDS["flow_usd_m"]
    assert len(set(t.tickers)) == len(t.tickers) and all(re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", n) for n in t.tickers)
    days = [r.date for r in t.rows]
    assert days == sorted(set(days))
    for r in t.rows:
        assert FIRST_ETF_SESSION <= r.date <= today + dt.timedelta(days=1) and is_trading_day(r.date)
        assert all(v is None or flow.holds(v) for v in (*r.funds.values(), r.total))


def _cells_of_real() -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _CELL.finditer(REAL)]


CELLS = _cells_of_real()
HOSTILE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "-",
            "0.0",
            "(0.0)",
            "nan",
            "inf",
            "1e400",
            "9" * 400,
            "(1,000,000.0)",
            "20,000.0",
            "(20,000.1)",
            "29 Feb 2025",
            "31 Apr 2026",
            "06 Jul 0001",
            "04 Jul 2026",
            "11 Jul 2026",
            "01 Jan 9999",
            "IBIT",
            "TOTAL",
            "Total",
            "",
            "\x1b]0;x\x07",
            "<td>1</td>",
            "</table>",
            "<table class='etf'>",
        ]
    ),
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(-30_000, 30_000, places=1).map(lambda d: f"({abs(d):,})" if d < 0 else f"{d:,}"),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(CELLS) - 1), HOSTILE), min_size=1, max_size=4))
def test_mutated_cells_give_bounded_table_or_data_error(edits):
    html = REAL
    for index, text in sorted(edits, key=lambda e: -e[0]):  # right to left: earlier offsets stay valid
        start, end = CELLS[index]
        tag = REAL[start + 1 : start + 3]
        html = html[:start] + f"<{tag}>{text}</{tag}>" + html[end:]
    try:
        t = parse(html)
    except DataError:
        return
    assert_within_bounds(t)


DATE_CELLS = [(m.start(1), m.end(1)) for m in re.finditer(r'tabletext">(\d\d \w{3} \d{4})<', REAL)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(DATE_CELLS) - 1), st.dates(D(1, 1, 1), D(9999, 12, 31))), min_size=1, max_size=3))
def test_mutated_dates_give_bounded_table_or_data_error(edits):
    html = REAL
    for index, day in sorted(dict(edits).items(), reverse=True):
        start, end = DATE_CELLS[index]
        html = html[:start] + f"{day.day:02d} {day:%b} {day.year:04d}" + html[end:]
    try:
        t = parse(html)
    except DataError:
        return
    assert_within_bounds(t)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, len(REAL.encode())), st.integers(0, 40), st.binary(max_size=12)), min_size=1, max_size=5)
)
def test_mutated_bytes_give_bounded_table_or_data_error(splices):
    raw = bytearray(REAL.encode())
    for at, cut, insert in splices:
        raw[at : at + cut] = insert
    try:
        t = parse(raw.decode("utf-8", errors="replace"))
    except DataError:
        return
    assert_within_bounds(t)


# ---- charset labels a page may declare -----------------------------------------------------------------


async def _poll(store: Store, html: str | bytes, content_type: str = "text/html; charset=utf-8"):
    body = html.encode() if isinstance(html, str) else html

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == RECENT_PATHS["btc"]:
            return httpx.Response(200, content=body, headers={"Content-Type": content_type})
        return httpx.Response(404)

    async with make_client(httpx.MockTransport(handler)) as client:
        return await poll_farside(client, store, CFG, "btc", now=NOW, rng=random.Random(1))


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib", "hex", "uu"])
async def test_non_text_charset_is_a_named_fetch_error(tmp_path, charset):
    # bytes.decode("rot13") raises LookupError: it escaped the poll and killed the worker.
    store = Store.open(tmp_path / "f.db")
    out = await _poll(store, REAL, f"text/html; charset={charset}")
    assert out.state == "error" and charset in out.error and "not a text encoding" in out.error
    store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    label=st.one_of(
        st.sampled_from(
            [
                "utf-16",
                "utf-32",
                "idna",
                "punycode",
                "latin-1",
                "cp1252",
                "unicode_escape",
                "raw_unicode_escape",
                "utf-7",
                "mbcs",
                "undefined",
                "bz2",
                "quopri",
                "x" * 300,
            ]
        ),
        st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';"\\'), min_size=1, max_size=20),
    )
)
def test_any_charset_label_gives_a_table_or_a_named_error(tmp_path_factory, label):
    import asyncio

    store = Store.open(tmp_path_factory.mktemp("cs") / "f.db")
    try:
        out = asyncio.run(_poll(store, REAL, f"text/html; charset={label}"))  # raises if anything escapes the poll
    finally:
        store.close()
    assert out.state in ("ok", "stale", "error", "blocked"), out
