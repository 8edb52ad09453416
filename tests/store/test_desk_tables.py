"""Schema 4's tables: second flow sources side by side, the writer's heartbeat, persisted views."""

from __future__ import annotations

import datetime as dt

import pytest

from common import bounds
from store.rows import DataVersion, ScenarioDay

NOW = dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 20)


def test_source_flows_sit_beside_farside_and_a_change_bumps_the_flows_version(store):
    before = store.data_version()
    assert store.write_source_flows("sosovalue", "btc", [(DAY, "IBIT", -120.5), (DAY, "TOTAL", -300.0)], fetched_at=NOW) == 2
    after = store.data_version()
    assert after.flows == before.flows + 1 and after.derivatives == before.derivatives
    rows = store.source_flows("btc")
    assert [(r.source, r.date, r.fund, r.usd_m) for r in rows] == [
        ("sosovalue", "2026-11-20", "IBIT", -120.5),
        ("sosovalue", "2026-11-20", "TOTAL", -300.0),
    ]
    assert store.flows("btc") == []  # Farside's table is untouched


def test_the_same_figures_again_change_nothing_and_missing_never_replaces_a_number(store):
    store.write_source_flows("sosovalue", "btc", [(DAY, "IBIT", -120.5)], fetched_at=NOW)
    version = store.data_version()
    assert store.write_source_flows("sosovalue", "btc", [(DAY, "IBIT", -120.5), (DAY, "IBIT", None)], fetched_at=NOW) == 0
    assert store.data_version() == version
    assert store.source_flows("btc", "sosovalue")[0].usd_m == -120.5
    assert store.write_source_flows("issuer_ishares", "btc", [(DAY, "IBIT", -118.0)], fetched_at=NOW) == 1
    assert {r.source: r.usd_m for r in store.source_flows("btc")} == {"sosovalue": -120.5, "issuer_ishares": -118.0}


def test_a_second_source_write_drops_the_scenario_labels_from_its_date(store):
    version = store.data_version()
    days = [ScenarioDay("2026-11-18", "rebuild", "off", "00", 0), ScenarioDay("2026-11-21", "rebuild", "off", "00", 0)]
    assert store.put_scenario_days("k", days, computed_at=version)
    store.write_source_flows("sosovalue", "btc", [(DAY, "IBIT", 1.0)], fetched_at=NOW)
    assert [d.date for d in store.scenario_days("k")] == ["2026-11-18"]


@pytest.mark.parametrize(
    "row",
    [(DAY, "IBIT", 1e9), (DAY, "IB IT; DROP", 1.0), (DAY, "IBIT", float("nan"))],
)
def test_source_flows_out_of_bounds_are_refused_whole(store, row):
    with pytest.raises(bounds.BoundsError):
        store.write_source_flows("sosovalue", "btc", [(DAY, "FBTC", 2.0), row], fetched_at=NOW)
    assert store.source_flows() == []


def test_the_heartbeat_moves_no_data_version(store):
    version = store.data_version()
    start = NOW - dt.timedelta(hours=1)
    store.beat("collector", now=NOW, started_at=start)
    store.beat("collector", now=NOW + dt.timedelta(seconds=5), started_at=start, detail="polling 14 sources")
    beat = store.heartbeat("collector")
    assert beat.beat_at == "2026-11-20T21:00:05+00:00" and beat.started_at == "2026-11-20T20:00:00+00:00"
    assert beat.detail == "polling 14 sources" and beat.pid > 0
    assert store.data_version() == version
    assert store.heartbeat("nobody") is None


def test_views_are_kept_under_their_key_and_replaced(store):
    assert store.views("dashboard") is None
    assert store.put_views("dashboard", "v1", "{}", computed_at=NOW)
    assert store.put_views("dashboard", "v2", '{"a": 1}', computed_at=NOW)
    row = store.views("dashboard")
    assert (row.version, row.payload) == ("v2", '{"a": 1}')
    assert store.data_version() == DataVersion(0, 0, 0, 0)


def test_a_read_only_second_store_reads_the_desk_tables(store, make_store):
    store.beat("collector", now=NOW, started_at=NOW)
    store.write_source_flows("sosovalue", "eth", [(DAY, "ETHA", 3.0)], fetched_at=NOW)
    viewer = make_store("flowtape", readonly=True)
    assert viewer.heartbeat().beat_at == "2026-11-20T21:00:00+00:00"
    assert viewer.source_flows("eth")[0].usd_m == 3.0
    assert not viewer.put_views("dashboard", "v", "{}", computed_at=NOW)
