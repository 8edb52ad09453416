"""The Farside parser against the real sample and hostile variants derived from it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.calendar import trading_days
from sources.farside_parse import NoTableError, ParseError, parse_farside, parse_value
from sources.farside_render import format_value, render_page

D = dt.date


def test_sample_tickers_read_from_header_including_msbt(farside_btc_html):
    t = parse_farside(farside_btc_html, "btc")
    assert t.tickers == ("IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL", "BTCW", "MSBT", "GBTC", "BTC")


def test_sample_exact_cells(farside_btc_html):
    rows = {r.date: r for r in parse_farside(farside_btc_html, "btc").rows}
    first = rows[D(2026, 7, 6)]
    assert first.funds["IBIT"] == 209.4
    assert first.funds["GBTC"] == -44.5  # (44.5) in a redFont span
    assert first.funds["BTCO"] == 0.0  # 0.0 is a real zero
    assert first.funds["MSBT"] == 11.0
    assert first.total == 265.7
    assert rows[D(2026, 7, 13)].total == -424.7
    assert rows[D(2026, 7, 13)].funds["FBTC"] == -245.6
    assert not first.provisional
    assert len(rows) == 14 and min(rows) == D(2026, 7, 6) and max(rows) == D(2026, 7, 23)


def test_sample_total_column_is_never_a_fund(farside_btc_html):
    t = parse_farside(farside_btc_html, "btc")
    assert "TOTAL" not in t.tickers and "Total" not in t.tickers
    r = next(r for r in t.rows if r.date == D(2026, 7, 20))
    assert round(sum(v for v in r.funds.values() if v is not None), 1) == r.total == 226.8


def test_sample_today_row_is_provisional_and_missing_is_none(farside_btc_html):
    last = parse_farside(farside_btc_html, "btc").rows[-1]
    assert last.date == D(2026, 7, 23)
    assert last.provisional
    assert all(v is None for v in last.funds.values())  # `-` is missing, never 0
    assert "IBIT" in last.missing


def test_sample_footer_rows_kept_apart(farside_btc_html):
    t = parse_farside(farside_btc_html, "btc")
    assert all(isinstance(r.date, dt.date) for r in t.rows)
    assert set(t.footer) == {"Total", "Average", "Maximum", "Minimum"}
    assert t.footer["Minimum"]["TOTAL"] == -1113.7
    assert t.footer["Total"]["GBTC"] == -27416.0
    assert t.footer["Maximum"]["IBIT"] == 1119.9


# ---- hostile variants derived from the sample ------------------------------------------------


def _header_rows(html: str) -> list[str]:
    return re.findall(r"<tr bgcolor=\"#eaeffa\">.*?</tr>", html, re.S)


def test_blank_total_header_does_not_double_totals(farside_btc_html):
    html = re.sub(r">\s*Total</span>", "></span>", farside_btc_html, count=1)
    assert html != farside_btc_html
    t = parse_farside(html, "btc")
    assert len(t.tickers) == 12
    assert next(r for r in t.rows if r.date == D(2026, 7, 6)).total == 265.7


def test_fourth_header_row_is_ignored(farside_btc_html):
    fee = _header_rows(farside_btc_html)[2]
    html = farside_btc_html.replace(fee, fee + "\n" + fee.replace("Fee", "Staking fee"))
    t = parse_farside(html, "btc")
    assert t.tickers[0] == "IBIT" and len(t.rows) == 14


def test_header_rows_reordered_still_finds_tickers(farside_btc_html):
    logos, tickers, fee = _header_rows(farside_btc_html)
    html = farside_btc_html.replace(logos, "@@A@@").replace(tickers, "@@B@@").replace(fee, "@@C@@")
    html = html.replace("@@A@@", fee).replace("@@B@@", logos).replace("@@C@@", tickers)
    assert parse_farside(html, "btc").tickers[-1] == "BTC"


def _add_column(html: str, ticker: str, value: str) -> str:
    """Insert a fund column before Total in every row, as a launch would."""
    out = []
    for row in re.split(r"(?=<tr)", html):
        cells = list(re.finditer(r"<t[dh][^>]*>.*?</t[dh]>", row, re.S))
        if len(cells) >= 13:
            last = cells[-1]
            tag = "th" if last.group(0).startswith("<th") else "td"
            text = ticker if "IBIT" in row else ("0.10%" if "Fee" in row else value)
            row = row[: last.start()] + f"<{tag}><span>{text}</span></{tag}>" + row[last.start() :]
        out.append(row)
    return "".join(out)


def test_column_added(farside_btc_html):
    t = parse_farside(_add_column(farside_btc_html, "NEWF", "1.5"), "btc")
    assert t.tickers[-1] == "NEWF"
    assert next(r for r in t.rows if r.date == D(2026, 7, 6)).funds["NEWF"] == 1.5


def test_column_removed_from_data_rows_only_is_refused(farside_btc_html):
    html = farside_btc_html.replace('<td><div align="right"><span class="tabletext">209.4</span></div></td>', "", 1)
    with pytest.raises(ParseError, match="cells"):
        parse_farside(html, "btc")


def test_column_removed_everywhere_is_read(farside_btc_html):
    # Drop MSBT (the 11th cell) from every row: header and data shrink together.
    out = []
    for row in re.split(r"(?=<tr)", farside_btc_html):
        cells = list(re.finditer(r"<t[dh][^>]*>.*?</t[dh]>", row, re.S))
        if len(cells) >= 13:
            c = cells[10]
            row = row[: c.start()] + row[c.end() :]
        out.append(row)
    t = parse_farside("".join(out), "btc")
    assert "MSBT" not in t.tickers and len(t.tickers) == 11


@pytest.mark.parametrize(
    "page",
    [
        "<html><head><title>Just a moment...</title></head><body><div id='cf-chl'>Checking</div></body></html>",
        "",
        "<html><body><table class='other'><tr><td>1</td></tr></table></body></html>",
    ],
)
def test_challenge_or_tableless_page_is_no_table(page):
    with pytest.raises(NoTableError):
        parse_farside(page, "btc")


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, "before </table>"])
def test_truncated_html_is_refused_never_read_as_fewer_rows(farside_btc_html, cut):
    # A body cut short (wrong Content-Length, dropped connection) once parsed as a shorter table:
    # the newest sessions silently missing. A table that never ends is refused.
    end = farside_btc_html.index("</table>") if cut == "before </table>" else int(len(farside_btc_html) * cut)
    with pytest.raises(ParseError, match="cut short|no table|no dated rows"):
        parse_farside(farside_btc_html[:end], "btc")


@pytest.mark.parametrize(
    "evil",
    ["[bold]IBIT[/]", "\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07", "\x1b[31m", "\u202eTIBI", "<script>x</script>9"],
)
def test_markup_and_escapes_in_value_cells_are_refused(farside_btc_html, evil):
    html = farside_btc_html.replace(">209.4<", f">{evil}<", 1)
    with pytest.raises(ParseError) as info:
        parse_farside(html, "btc")
    assert "\x1b" not in str(info.value) and "\u202e" not in str(info.value)


def test_escape_in_ticker_cell_is_refused_with_clean_message(farside_btc_html):
    html = re.sub(r">\s*IBIT<", ">IB\x1b]0;pwned\x07IT<", farside_btc_html, count=1)
    assert html != farside_btc_html
    with pytest.raises(ParseError) as info:
        parse_farside(html, "btc")
    assert "\x1b" not in str(info.value) and "\x07" not in str(info.value)


def test_dates_must_increase(farside_btc_html):
    html = farside_btc_html.replace("07 Jul 2026", "02 Jul 2026", 1)  # a Thursday: only the order is wrong
    with pytest.raises(ParseError, match="increasing"):
        parse_farside(html, "btc")


# ---- number formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,value",
    [
        ("1,119.9", 1119.9),
        ("(44.5)", -44.5),
        ("(1,113.7)", -1113.7),
        ("0.0", 0.0),
        ("-", None),
        ("60,809", 60809.0),
        ("-12.5", -12.5),
    ],
)
def test_value_formats(text, value):
    assert parse_value(text) == value


@pytest.mark.parametrize("text", ["nan", "inf", "1e9", "(-1)", "1,00.0", "12.3.4", "abc", "((1))", "999,999,999"])
def test_bad_values_raise(text):
    with pytest.raises(ParseError):
        parse_value(text)


@given(st.decimals(min_value=-99_999, max_value=99_999, places=1, allow_nan=False, allow_infinity=False))
def test_format_parse_round_trip(d):
    value = float(d)
    text = re.sub("<[^>]+>", "", format_value(value))
    assert parse_value(text) == pytest.approx(value, abs=1e-9)


@given(st.text(max_size=20))
def test_parse_value_raises_only_parse_error(text):
    try:
        v = parse_value(text)
    except ParseError:
        return
    assert v is None or isinstance(v, float)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.decimals(min_value=-2000, max_value=2000, places=1).map(float)), min_size=3, max_size=3),
        min_size=1,
        max_size=8,
    )
)
def test_render_parse_round_trip(value_rows):
    tickers = ["AAAA", "BBBB", "CCCC"]
    sessions = trading_days(D(2025, 1, 6), D(2025, 2, 28))
    rows = []
    for i, values in enumerate(value_rows):
        present = [v for v in values if v is not None]
        rows.append((sessions[i], values, round(sum(present), 1) if present else None))
    t = parse_farside(render_page(tickers, rows), "btc")
    assert t.tickers == tuple(tickers)
    assert [r.date for r in t.rows] == [r[0] for r in rows]
    for parsed, (_, values, total) in zip(t.rows, rows, strict=True):
        assert list(parsed.funds.values()) == values
        assert parsed.total == total


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_parser_raises_only_its_own_error_on_garbage(text):
    try:
        parse_farside('<table class="etf">' + text, "btc")
    except ParseError:
        pass
