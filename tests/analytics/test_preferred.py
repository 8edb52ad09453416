"""The preferred flow series (issue 16) on hand-made series: Farside first when it has the figure (and is fresh),
then SoSoValue, then issuer-derived; each cell's origin; disagreements beyond the [flows] tolerance."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.dashboard import asset_view
from analytics.flows import asset_report
from analytics.frames import farside_fresh, load_asset
from analytics.snapshot import flow_sources_document
from common.config import FlowsConfig, parse_config
from common.records import TOTAL, FlowRow, FlowTable, SourceState
from store import Store

D1, D2, D3, D4 = (dt.date(2025, 11, d) for d in (17, 18, 19, 20))
NOW = dt.datetime(2025, 11, 21, 2, tzinfo=dt.UTC)
FUNDS = ("IBIT", "FBTC")


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "flowtape.db")
    yield s
    s.close()


def farside(store: Store, rows: list[tuple[dt.date, float | None, float | None, bool]], *, state=SourceState.OK) -> None:
    """Farside sessions of IBIT, FBTC (None: `-`), the Total their sum; the last may be provisional."""
    table = FlowTable(
        "btc",
        FUNDS,
        tuple(
            FlowRow(
                d,
                {"IBIT": a, "FBTC": b},
                round((a or 0) + (b or 0), 1),
                prov,
                tuple(f for f, v in zip(FUNDS, (a, b), strict=True) if v is None) if prov else (),
            )
            for d, a, b, prov in rows
        ),
    )
    store.write_table(table, source="farside_btc", fetched_at=NOW)
    store.set_status("farside_btc", state=state, last_success=NOW.isoformat(), failures=0)


def load(store: Store, **kw):
    return load_asset(store, "btc", now=NOW, **kw)


def test_with_farside_alone_the_frames_are_farsides_exactly(store):
    farside(store, [(D1, 10.0, 5.0, False), (D2, -3.0, None, False)])
    frames = load(store)
    assert frames.origins == {} and frames.disagreements == () and frames.series == "Farside"
    assert frames.sessions["total"].to_list() == [15.0, -3.0]


def test_agreeing_sources_change_nothing_and_flag_nothing(store):
    farside(store, [(D1, 10.0, 5.0, False), (D2, -3.0, 1.0, False)])
    store.write_source_flows("sosovalue", "btc", [(D1, "IBIT", 10.04), (D1, TOTAL, 15.1), (D2, TOTAL, -2.0)], fetched_at=NOW)
    frames = load(store)
    before = load_asset_farside_only(store)
    assert frames.origins == {} and frames.disagreements == ()
    assert frames.sessions.equals(before.sessions) and frames.flows.equals(before.flows)


def load_asset_farside_only(store: Store):
    from analytics.frames import frames_from_rows

    return frames_from_rows("btc", store.funds("btc"), store.sessions("btc"), store.flows("btc"), today=NOW.date())


def test_a_disagreement_beyond_the_tolerance_is_a_warning_on_that_cell_and_farside_stays_shown(store):
    farside(store, [(D1, 100.0, 5.0, False)])
    store.write_source_flows("sosovalue", "btc", [(D1, "IBIT", 130.0), (D1, "FBTC", 5.5), (D1, TOTAL, 135.5)], fetched_at=NOW)
    frames = load(store)
    clash = {(d.fund, d.shown_source, d.shown_usd_m, d.other_source, d.other_usd_m) for d in frames.disagreements}
    assert clash == {("IBIT", "farside", 100.0, "sosovalue", 130.0), (TOTAL, "farside", 105.0, "sosovalue", 135.5)}
    assert frames.sessions["total"].to_list() == [105.0]  # Farside's published figure stands
    view = asset_view(frames, D1, streak_size_usd_m=200.0)
    assert view.tape[0].disputed == (True, False) and view.disagreements == 2
    # A wider tolerance says they agree.
    loose = load(store, tolerance=FlowsConfig(tolerance_usd_m=50.0, tolerance_pct=2.0))
    assert loose.disagreements == ()


def test_a_session_farside_lacks_comes_from_sosovalue_marked_then_from_an_issuer(store):
    farside(store, [(D1, 10.0, 5.0, False)])
    store.write_source_flows("sosovalue", "btc", [(D2, "IBIT", -40.0), (D2, TOTAL, -45.0)], fetched_at=NOW)
    store.write_source_flows("issuer_ishares", "btc", [(D2, "IBIT", -39.0), (D3, "IBIT", 7.0)], fetched_at=NOW)
    frames = load(store)
    sessions = {d: (t, p) for d, t, p in frames.sessions.iter_rows()}
    assert sessions[D2] == (-45.0, False)  # SoSoValue's TOTAL: a complete session
    assert sessions[D3] == (7.0, True)  # only an issuer's fund: a provisional sum of what is known
    assert frames.origins[(D2, "IBIT")] == "sosovalue" and frames.origins[(D2, TOTAL)] == "sosovalue"
    assert frames.origins[(D3, "IBIT")] == "issuer_ishares"
    assert frames.series == "Farside; 1 session from SoSoValue"
    view = asset_view(frames, D3, streak_size_usd_m=200.0)
    assert [r.total_origin for r in view.tape] == [None, "sosovalue", "issuer_ishares"]
    assert view.tape[1].origins == ("sosovalue", None)
    # Records and months use the one series: D2's -45 counts.
    report = asset_report(frames, D3)
    assert report.cumulative_usd_m == -30.0 and report.record_outflow_day and report.record_outflow_day.usd_m == -45.0
    doc = flow_sources_document(frames, D3)
    assert {"date": "2025-11-18", "fund": TOTAL, "source": "sosovalue"} in doc["other_sources"]


def test_one_missing_cell_of_a_fresh_provisional_farside_session_is_filled_and_stays_provisional(store):
    farside(store, [(D1, 10.0, 5.0, False), (D4, 20.0, None, True)])
    store.write_source_flows("sosovalue", "btc", [(D4, "FBTC", 3.0), (D4, TOTAL, 23.0)], fetched_at=NOW)
    frames = load(store)
    sessions = {d: (t, p) for d, t, p in frames.sessions.iter_rows()}
    assert sessions[D4] == (23.0, True)  # Farside will complete it: still provisional
    assert frames.origins == {(D4, "FBTC"): "sosovalue"}


def test_a_stale_farsides_provisional_session_yields_to_sosovalues_complete_one(store):
    farside(store, [(D1, 10.0, 5.0, False), (D4, 20.0, None, True)], state=SourceState.BLOCKED)
    store.write_source_flows("sosovalue", "btc", [(D4, "IBIT", 19.0), (D4, "FBTC", 3.0), (D4, TOTAL, 22.0)], fetched_at=NOW)
    frames = load(store)
    sessions = {d: (t, p) for d, t, p in frames.sessions.iter_rows()}
    assert sessions[D4] == (22.0, False)
    assert frames.origins[(D4, TOTAL)] == "sosovalue" and frames.origins[(D4, "FBTC")] == "sosovalue"
    assert (D4, "IBIT") not in frames.origins  # Farside's own figure for IBIT stays (it has one)


def test_farside_freshness():
    ok = {"state": "ok", "last_success": (NOW - dt.timedelta(hours=2)).isoformat()}
    assert farside_fresh(ok, NOW)
    assert not farside_fresh({**ok, "state": "blocked"}, NOW)
    assert not farside_fresh({**ok, "last_success": (NOW - dt.timedelta(days=3)).isoformat()}, NOW)
    assert not farside_fresh({}, NOW)


def test_the_tolerance_is_configurable_and_both_parts_must_be_exceeded(tmp_path):
    flows = parse_config({"flows": {"tolerance_usd_m": 1.0, "tolerance_pct": 10.0}}, tmp_path / "c.toml").flows
    assert flows.disagree(100.0, 80.0) and not flows.disagree(100.0, 95.0)  # 5 > 1 but under 10% of 100
    assert not flows.disagree(0.5, 1.4)  # 0.9 under the 1.0 floor
    default = FlowsConfig()
    assert default.disagree(100.0, 106.0) and not default.disagree(100.0, 104.0)
