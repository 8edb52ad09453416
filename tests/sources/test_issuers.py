"""Issuer holdings files (issue 16 point 2): the parsers on the real files and hostile variants of them, the
derivation of flows on hand-made holdings, the offset calibration, and a registry poll on 127.0.0.1 writing
`source_flows`."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.calendar import NEW_YORK, previous_trading_day, trading_days
from common.config import parse_config
from common.records import DataError, FlowRow, FlowTable
from sources import registry
from sources.http import make_client
from sources.issuers import FILES, _vaneck, history_key, load_history, sessions_before
from sources.issuers_derive import (
    DAILY_CLOSE,
    SPOT_1600,
    Price,
    calibrate_offset,
    derive_flows,
    price_near_close,
    shift,
)
from sources.issuers_parse import Holdings, IssuerError, parse_ishares_csv
from store import Store
from tests import loopback

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "issuers"
IBIT = (REAL / "ishares_IBIT_holdings.csv").read_text(encoding="utf-8")
ETHA = (REAL / "ishares_ETHA_holdings.csv").read_text(encoding="utf-8")
HODL = (REAL / "vaneck_HODL_nav.json").read_text()
ETHV = (REAL / "vaneck_ETHV_nav.json").read_text()
TODAY = dt.date(2026, 11, 25)
CONFIG = parse_config({}, Path("<defaults>"))


def ibit(text: str = IBIT) -> Holdings:
    return parse_ishares_csv(text, "IBIT", "btc", today=TODAY)


def hodl(text: str = HODL) -> Holdings:
    return _vaneck(text, "HODL", "btc", today=TODAY)


# ---- parsers on the real files ----------------------------------------------------------------------


def test_real_files_parse_to_the_numbers_they_state():
    assert ibit() == Holdings("IBIT", "btc", dt.date(2026, 5, 6), 822736.649, 1448920000.0, 67212458573.65 + 3343.33)
    etha = parse_ishares_csv(ETHA, "ETHA", "eth", today=TODAY)
    assert (etha.as_of, etha.coins, etha.shares) == (dt.date(2026, 5, 6), 3194128.9433, 422960000.0)
    assert hodl() == Holdings("HODL", "btc", dt.date(2025, 2, 28), 14204.695, 50225000.0, 1193754239.0)
    ethv = _vaneck(ETHV, "ETHV", "eth", today=TODAY)
    assert (ethv.as_of, ethv.coins, ethv.shares) == (dt.date(2025, 2, 28), 46498.75, 3175000.0)
    # the NAV per share a shares-based flow uses: net assets over shares
    assert hodl().nav_per_share == pytest.approx(1193754239 / 50225000)


def test_registry_endpoints_name_one_fund_each():
    for source, files in FILES.items():
        spec = registry.spec(source)
        assert len(spec.endpoints) == len(files) and spec.kind == registry.FLOWS and spec.asset is None
        for f, path in zip(files, spec.endpoints, strict=True):
            assert f.fund in path


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        ('Fund Holdings as of,"May 06, 2026"', 'Fund Holdings as of,"06/05/2026"', "Fund Holdings as of"),
        ('Fund Holdings as of,"May 06, 2026"', "", "Fund Holdings as of"),
        ('Fund Holdings as of,"May 06, 2026"', 'Fund Holdings as of,"May 06, 2031"', "as of"),
        ('"822,736.64900"', '"-5"', "BTC Quantity"),
        ('"822,736.64900"', '"NaN"', "BTC Quantity"),
        ('"822,736.64900"', '"99,999,999.0"', "BTC Quantity"),
        ('"822,736.64900"', '"' + "9" * 5000 + '"', "BTC Quantity"),
        ('"822,736.64900"', '"-"', "BTC Quantity"),
        ('"BTC","BITCOIN"', '"ETH","BITCOIN"', "no BTC row"),
        ('"1,448,920,000.00"', '"1e99"', "Shares Outstanding"),
        ("Ticker,Name", "Symbol,Name", "no holdings table"),
        (",Quantity,", ",Qty,", "'Quantity' column"),
        ('"67,212,458,573.65","100.00"', '"x","100.00"', "Market Value"),
        ('"3,343.33","0.00"', '"-3,343.33e400","0.00"', "Market Value"),
    ],
)
def test_hostile_ishares_variants_are_refused_naming_the_field(old, new, names):
    assert old in IBIT
    with pytest.raises(IssuerError, match=re.escape(names)):
        ibit(IBIT.replace(old, new, 1))


def test_a_negative_cash_row_is_a_number_not_a_refusal():
    held = ibit(IBIT.replace('"3,343.33","0.00"', '"-3,343.33","0.00"', 1))
    assert held.net_assets_usd == pytest.approx(67212458573.65 - 3343.33)


@pytest.mark.parametrize("text", ["", "\x00" * 10, "<html>Just a moment...</html>", IBIT[:200], "x" * 300_000])
def test_not_a_holdings_file_is_a_named_refusal(text):
    with pytest.raises(IssuerError, match="IBIT holdings"):
        ibit(text)


@pytest.mark.parametrize(
    ("key", "value", "names"),
    [
        ("Bitcoin in Trust", "-5", "Bitcoin in Trust"),
        ("Bitcoin in Trust", "NaN", "Bitcoin in Trust"),
        ("Bitcoin in Trust", "99,999,999", "Bitcoin in Trust"),
        ("Bitcoin in Trust", None, "Bitcoin in Trust"),
        ("Shares Outstanding", "lots", "Shares Outstanding"),
        ("Total Net Assets", "1,000,000,000,000,000", "Total Net Assets"),
    ],
)
def test_hostile_vaneck_values_are_refused_naming_the_field(key, value, names):
    obj = json.loads(HODL)
    for item in obj["data"]["Navs"]:
        if item["Key"] == key:
            item["Value"] = value
    with pytest.raises(IssuerError, match=names):
        hodl(json.dumps(obj))


@pytest.mark.parametrize(
    ("mutate", "names"),
    [
        (lambda o: o["data"].pop("AsOfDate"), "AsOfDate"),
        (lambda o: o["data"].update(AsOfDate="2025-02-28"), "AsOfDate"),
        (lambda o: o["data"].update(Navs={"Key": "x"}), "Navs"),
        (lambda o: o["data"].update(Navs=[n for n in o["data"]["Navs"] if n["Key"] != "Bitcoin in Trust"]), "Bitcoin in Trust"),
        (lambda o: o.update(data=[1]), "'data'"),
    ],
)
def test_hostile_vaneck_shapes_are_refused_naming_the_field(mutate, names):
    obj = json.loads(HODL)
    mutate(obj)
    with pytest.raises(IssuerError, match=names):
        hodl(json.dumps(obj))


def test_vaneck_json_faults_are_named():
    for text in ("", "[", '{"data": NaN}', '{"n": ' + "9" * 5000 + "}", "<html></html>"):
        with pytest.raises(DataError):
            hodl(text)


def _within_bounds(h: Holdings) -> None:
    limit = 21_000_000 if h.asset == "btc" else 200_000_000
    assert 0 <= h.coins <= limit and math.isfinite(h.coins)
    assert h.shares is None or 0 <= h.shares <= 1e11
    assert h.net_assets_usd is None or abs(h.net_assets_usd) <= 1e12 * 3
    assert dt.date(2024, 1, 11) <= h.as_of <= TODAY + dt.timedelta(days=1)


_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["NaN", "-1", "", "-", "1e999", "9" * 400, "1,0,0", ".5", "\x00", '"', "\u00a0"]),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@settings(max_examples=200, deadline=None)
@given(
    line=st.integers(0, 14),
    cell=st.integers(0, 10),
    value=_VALUES,
    drop=st.booleans(),
    junk=st.text(max_size=30),
)
def test_any_mutation_of_the_ishares_file_is_holdings_or_a_named_refusal(line, cell, value, drop, junk):
    lines = IBIT.split("\n")
    i = min(line, len(lines) - 1)
    if drop:
        del lines[i]
    else:
        cells = lines[i].split(",")
        cells[min(cell, len(cells) - 1)] = value
        lines[i] = ",".join(cells)
    lines.insert(min(line, len(lines)), junk)
    try:
        held = ibit("\n".join(lines))
    except DataError:
        return
    _within_bounds(held)


_JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _VALUES),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(
    which=st.integers(0, 5),
    value=_JSON_VALUES,
    drop=st.sampled_from([None, "Key", "Value", "AsOfDate", "Navs"]),
    junk=st.booleans(),
)
def test_any_mutation_of_the_vaneck_block_is_holdings_or_a_named_refusal(which, value, drop, junk):
    obj = json.loads(HODL)
    navs = obj["data"]["Navs"]
    navs[which % len(navs)]["Value"] = value
    if drop in ("Key", "Value"):
        navs[(which + 1) % len(navs)].pop(drop)
    elif drop:
        obj["data"].pop(drop)
    if junk:
        obj["data"]["Added"] = {"x": [value]}
    try:
        held = hodl(json.dumps(obj))
    except DataError:
        return
    _within_bounds(held)


# ---- derivation on hand-made holdings ----------------------------------------------------------------

MON, TUE, WED, THU = dt.date(2026, 5, 4), dt.date(2026, 5, 5), dt.date(2026, 5, 6), dt.date(2026, 5, 7)


def held(day: dt.date, coins: float, shares: float | None = None, nav: float | None = None) -> Holdings:
    net = None if shares is None or nav is None else shares * nav
    return Holdings("IBIT", "btc", day, coins, shares, net)


def test_flow_is_the_change_in_coins_at_the_1600_price():
    prices = {TUE: Price(80_000.0, SPOT_1600), WED: Price(81_000.0, SPOT_1600)}
    flows = derive_flows([held(MON, 800_000), held(TUE, 801_000), held(WED, 800_500)], prices)
    assert [(f.date, f.usd_m) for f in flows] == [(TUE, pytest.approx(80.0)), (WED, pytest.approx(-40.5))]
    assert all(f.method == f"coins x {SPOT_1600}" for f in flows)


def test_a_missing_day_invents_no_flow():
    prices = {d: Price(80_000.0, SPOT_1600) for d in (MON, TUE, WED, THU)}
    flows = derive_flows([held(MON, 800_000), held(WED, 805_000), held(THU, 806_000)], prices)
    assert [f.date for f in flows] == [THU]  # Tuesday's file is missing: neither Tuesday nor Wednesday is guessed


def test_without_a_1600_price_shares_times_nav_is_used():
    flows = derive_flows([held(MON, 1000, 40_000_000, 30.0), held(TUE, 1010, 40_400_000, 31.0)], {})
    assert len(flows) == 1 and flows[0].usd_m == pytest.approx(400_000 * 31.0 / 1e6)
    assert flows[0].method == "shares x file NAV"


def test_a_split_of_shares_is_not_a_flow():
    before, split = held(MON, 1000, 40_000_000, 30.0), held(TUE, 1000, 80_000_000, 15.0)
    assert derive_flows([before, split], {}) == []  # shares doubled, coins did not: no creation, no flow
    flows = derive_flows([before, split], {TUE: Price(80_000.0, SPOT_1600)})
    assert [f.usd_m for f in flows] == [0.0]  # the coins say what happened


def test_the_daily_close_is_the_last_resort_and_says_so():
    flows = derive_flows([held(MON, 1000), held(TUE, 1001)], {TUE: Price(79_000.0, DAILY_CLOSE)})
    assert [(f.usd_m, f.method) for f in flows] == [(pytest.approx(0.079), f"coins x {DAILY_CLOSE}")]


def test_a_stale_file_repeating_yesterdays_date_adds_nothing():
    history = [held(MON, 800_000), held(TUE, 801_000), held(TUE, 801_000)]  # Wednesday's poll got Tuesday's file
    flows = derive_flows(history, {d: Price(80_000.0, SPOT_1600) for d in (TUE, WED)})
    assert [f.date for f in flows] == [TUE]


def test_the_1600_price_is_the_trade_nearest_the_close_within_the_window():
    close = dt.datetime.combine(TUE, dt.time(16), NEW_YORK)
    trades = [
        (close - dt.timedelta(minutes=3), 1.0),
        (close + dt.timedelta(minutes=1), 2.0),
        (close + dt.timedelta(hours=1), 3.0),
    ]
    assert price_near_close(trades, TUE) == 2.0
    assert price_near_close(trades[2:], TUE) is None


# ---- calibration ---------------------------------------------------------------------------------------


def _sessions(n: int) -> list[dt.date]:
    return trading_days(dt.date(2026, 3, 2), dt.date(2026, 6, 30))[:n]


def test_calibration_finds_a_one_session_lag():
    days = _sessions(30)
    farside = {d: float((i * 37) % 11 - 5) * 10 for i, d in enumerate(days)}
    lagged = {d: farside[previous_trading_day(d)] + 0.3 for d in days[1:]}  # file dated T shows T-1's trades
    cal = calibrate_offset(farside, lagged)
    assert (cal.offset, cal.calibrated, cal.overlap) == (-1, True, 29)
    assert cal.error == pytest.approx(0.3)
    same_day = {d: farside[d] - 0.2 for d in days}
    assert calibrate_offset(farside, same_day).offset == 0
    assert shift(days[5], -1) == days[4] and shift(days[5], 0) == days[5]


def test_too_little_overlap_keeps_the_default_and_says_so():
    days = _sessions(4)
    farside: dict[dt.date, float | None] = {d: 1.0 for d in days} | {days[0]: None}
    cal = calibrate_offset(farside, {d: 5.0 for d in days})
    assert (cal.offset, cal.calibrated, cal.error) == (0, False, None)
    assert "default" in cal.describe()


# ---- a registry poll on 127.0.0.1 -------------------------------------------------------------------


def _redate(text: str, day: dt.date, coins: str, shares: str) -> str:
    """The real file as it would read on another day (for the one-day history the poll asks for)."""
    out = text.replace('"May 06, 2026"', f'"{day:%b %d, %Y}"').replace('"822,736.64900"', f'"{coins}"')
    return out.replace('"1,448,920,000.00"', f'"{shares}"')


class Issuer:
    def __init__(self, files: dict[str, str]) -> None:
        self.files, self.paths = files, []

    async def handle(self, path: str, writer: asyncio.StreamWriter) -> None:
        self.paths.append(path)
        for key, body in self.files.items():
            if key in path:
                writer.write(loopback.response(body.encode(), headers={"Content-Type": "text/csv"}))
                return
        writer.write(loopback.response(b"not found", status="404 Not Found"))


def _poll(store: Store, source: str, upstream: Issuer, now: dt.datetime):
    async def run():
        async with loopback.serve(upstream.handle) as base:
            config = CONFIG.with_source(source, base_url=base, deadline=5)
            async with make_client() as client:
                return await registry.poll(registry.spec(source), client, store, config, now=now)

    return asyncio.run(run())


def _nav(h: Holdings) -> float:
    assert h.nav_per_share is not None
    return h.nav_per_share


def _ishares_upstream(days: list[dt.date]) -> tuple[Issuer, dict[dt.date, Holdings]]:
    """iShares as it would answer across `days` (oldest first): IBIT gains 1,000 BTC (1,761,000 shares) a
    session; ETHA's file is the same every day. A day not in `days` answers with the newest file."""
    ibit_files = {
        d: _redate(IBIT, d, f"{812_736.649 + 1000 * i:,.5f}", f"{1_431_310_000 + 1_761_000 * i:,.2f}") for i, d in enumerate(days)
    }
    files = {f"IBIT_holdings&dataType=fund&asOfDate={d:%Y%m%d}": text for d, text in ibit_files.items()}
    files |= {
        f"ETHA_holdings&dataType=fund&asOfDate={d:%Y%m%d}": ETHA.replace('"May 06, 2026"', f'"{d:%b %d, %Y}"') for d in days
    }
    files |= {"IBIT_holdings&dataType=fund": ibit_files[days[-1]], "ETHA_holdings&dataType=fund": ETHA}
    return Issuer(files), {d: ibit(text) for d, text in ibit_files.items()}


def test_an_ishares_poll_backfills_by_date_and_writes_issuer_derived_flows(tmp_path):
    store = Store.open(tmp_path / "s.db")
    days = [*reversed(sessions_before(WED, 10)), WED]
    upstream, files = _ishares_upstream(days)
    now = dt.datetime(2026, 5, 7, 13, tzinfo=dt.UTC)
    out = _poll(store, "issuer_ishares", upstream, now)
    assert out.state == "ok", out
    assert len(upstream.paths) == 2 * 11  # each fund's file and its ten previous sessions'
    ibit_rows = {r.date: r.usd_m for r in store.source_flows(asset="btc", source="issuer_ishares")}
    expected = {  # (shares change) x NAV per share of the day's file: no 16:00 price is stored yet
        cur.isoformat(): pytest.approx(1_761_000 * _nav(files[cur]) / 1e6) for cur in days[1:]
    }
    assert ibit_rows == expected and len(expected) == 10
    etha_rows = store.source_flows(asset="eth", source="issuer_ishares")
    assert {r.usd_m for r in etha_rows} == {0.0} and len(etha_rows) == 10  # the same ETHA file every day: no creation
    assert store.flows() == []  # never Farside's table
    assert "IBIT: 10 sessions (shares x file NAV)" in (out.warning or "") and "default" in (out.warning or "")

    # A 16:00 New York trade stored for Wednesday: the coins method, at that price; Tuesday is held: one request a fund.
    close = dt.datetime.combine(WED, dt.time(16), NEW_YORK).astimezone(dt.UTC)
    store.write_observation_rows(
        [("coinbase_spot", "BTC-USD", "last", close.isoformat(timespec="seconds"), 80_000.0)], fetched_at=now
    )
    out = _poll(store, "issuer_ishares", upstream, now + dt.timedelta(hours=3))
    assert out.state == "ok" and len(upstream.paths) == 2 * 11 + 2
    ibit_rows = {r.date: r.usd_m for r in store.source_flows(asset="btc", source="issuer_ishares")}
    assert ibit_rows["2026-05-06"] == pytest.approx(1000 * 80_000 / 1e6)
    store.close()


def test_a_poll_calibrates_the_offset_against_stored_farside(tmp_path):
    store = Store.open(tmp_path / "s.db")
    days = [*reversed(sessions_before(WED, 10)), WED]
    upstream, files = _ishares_upstream(days)
    # Farside reports each creation a session before the file that shows it (T-1 settlement)
    farside = [FlowRow(prev, {"IBIT": 1_761_000 * _nav(files[cur]) / 1e6}, None) for prev, cur in itertools.pairwise(days)]
    store.write_table(
        FlowTable("btc", ("IBIT",), tuple(farside)), source="farside_btc", fetched_at=dt.datetime(2026, 5, 6, tzinfo=dt.UTC)
    )
    out = _poll(store, "issuer_ishares", upstream, dt.datetime(2026, 5, 7, 13, tzinfo=dt.UTC))
    assert "IBIT: 10 sessions (shares x file NAV), offset -1 session (mean |diff| vs Farside 0.0 $m over 10)" in (
        out.warning or ""
    )
    ibit_rows = {r.date: r.usd_m for r in store.source_flows(asset="btc", source="issuer_ishares")}
    assert ibit_rows == {row.date.isoformat(): pytest.approx(row.funds["IBIT"]) for row in farside}
    store.close()


def test_a_vaneck_poll_needs_two_sessions_and_a_stale_file_adds_nothing(tmp_path):
    store = Store.open(tmp_path / "s.db")
    monday = json.loads(HODL)
    monday["data"]["AsOfDate"] = "03/03/2025"
    for item in monday["data"]["Navs"]:
        item["Value"] = {"Shares Outstanding": "50,425,000", "Total Net Assets": "1,198,508,000"}.get(item["Key"], item["Value"])
    upstream = Issuer({"ticker=HODL": HODL, "ticker=ETHV": ETHV})
    out = _poll(store, "issuer_vaneck", upstream, dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC))
    assert out.state == "ok" and store.source_flows() == []
    assert "no session yet" in (out.warning or "")
    assert [h.as_of for h in load_history(store, "issuer_vaneck", "HODL", "btc")] == [dt.date(2025, 2, 28)]

    upstream.files["ticker=HODL"] = json.dumps(monday)
    upstream.files["ticker=ETHV"] = ETHV.replace("02/28/2025", "03/03/2025")
    out = _poll(store, "issuer_vaneck", upstream, dt.datetime(2025, 3, 4, 12, tzinfo=dt.UTC))
    assert out.state == "ok", out
    rows = [(r.date, r.fund, r.usd_m) for r in store.source_flows(source="issuer_vaneck")]
    nav = 1_198_508_000 / 50_425_000
    assert rows == [("2025-03-03", "HODL", pytest.approx(200_000 * nav / 1e6)), ("2025-03-03", "ETHV", 0.0)]

    # Thursday: the issuer still serves Monday's HODL file. No flow is invented; the source is stale.
    out = _poll(store, "issuer_vaneck", upstream, dt.datetime(2025, 3, 6, 22, tzinfo=dt.UTC))
    assert out.state == "stale" and "HODL: newest file is 2025-03-03" in (out.warning or "")
    assert [(r.date, r.fund) for r in store.source_flows(source="issuer_vaneck")] == [
        ("2025-03-03", "HODL"),
        ("2025-03-03", "ETHV"),
    ]
    store.close()


def test_a_refused_file_fails_the_poll_and_writes_nothing(tmp_path):
    store = Store.open(tmp_path / "s.db")
    upstream = Issuer({"ticker=HODL": HODL.replace("14,204.695", "-1"), "ticker=ETHV": ETHV})
    out = _poll(store, "issuer_vaneck", upstream, dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC))
    assert out.state == "error" and "Bitcoin in Trust" in (out.error or "")
    assert store.meta(history_key("issuer_vaneck", "HODL")) is None and store.source_flows() == []
    store.close()


def test_a_host_that_ignores_the_date_is_asked_once_per_fund_and_the_poll_says_so(tmp_path):
    store = Store.open(tmp_path / "s.db")
    upstream = Issuer({"IBIT_holdings": IBIT, "ETHA_holdings": ETHA})  # today's file whatever the asOfDate
    out = _poll(store, "issuer_ishares", upstream, dt.datetime(2026, 5, 7, 13, tzinfo=dt.UTC))
    assert out.state == "ok" and len(upstream.paths) == 4
    assert "IBIT: asked for the 2026-05-05 file, got 2026-05-06's" in (out.warning or "")
    assert store.source_flows() == [] and len(load_history(store, "issuer_ishares", "IBIT", "btc")) == 1
    store.close()


def test_a_file_whose_flow_breaks_physics_is_refused_and_not_kept(tmp_path):
    store = Store.open(tmp_path / "s.db")
    upstream = Issuer({"ticker=HODL": HODL, "ticker=ETHV": ETHV})
    assert _poll(store, "issuer_vaneck", upstream, dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)).state == "ok"
    huge = json.loads(HODL)  # each value in its own bounds, together a creation of about US$1 trillion in a day
    huge["data"]["AsOfDate"] = "03/03/2025"
    values = {"Shares Outstanding": "50,225,000,000", "Bitcoin in Trust": "14,204,695", "Total Net Assets": "999,000,000,000"}
    for item in huge["data"]["Navs"]:
        item["Value"] = values.get(item["Key"], item["Value"])
    upstream.files["ticker=HODL"] = json.dumps(huge)
    out = _poll(store, "issuer_vaneck", upstream, dt.datetime(2025, 3, 4, 12, tzinfo=dt.UTC))
    assert out.state == "error" and "HODL issuer-derived flow 2025-03-03" in (out.error or "")
    assert [h.as_of for h in load_history(store, "issuer_vaneck", "HODL", "btc")] == [dt.date(2025, 2, 28)]
    assert store.source_flows() == []
    store.close()
