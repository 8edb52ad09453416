"""Data health is not a market signal: conditions turning unknown (stale or missing data) are a data-health
notice, never a scenario transition; a scenario with every condition unknown reads `unknown`."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.alerts import DATA_HEALTH_TITLE, scenario_alerts
from analytics.scenario_inputs import history
from analytics.scenarios import evaluate
from analytics.snapshot import scenario_document
from common.config import AlertsConfig
from store import Store
from tests.analytics.test_scenarios import RULES, demo_frames, derivs, inputs
from tests.dashboard_fixtures import demo_store, make_app

D = dt.date
AS_OF = D(2025, 11, 18)


def caution(d):
    return {r.scenario.id: r for r in evaluate(RULES, inputs(demo_frames(), AS_OF, d))}["caution"]


def test_a_scenario_with_every_condition_unknown_reads_unknown_not_inactive():
    nothing = {r.scenario.id: r for r in evaluate(RULES, inputs({}, AS_OF, None))}
    for r in nothing.values():
        assert r.unknown == r.total
        assert r.state == "unknown" and r.label == "unknown"
        assert r.data_health is not None and f"{r.total} of {r.total} conditions unknown" in r.data_health
    doc = scenario_document(nothing["caution"])
    assert doc["state"] == "unknown" and "missing" in doc["data_health"]
    assert scenario_document(caution(derivs(2.5, "bleeding")))["data_health"] is None


def test_conditions_going_stale_are_a_data_health_notice_not_a_transition():
    before = caution(derivs(4.8, "bleeding"))  # ledger, reds, OI met; basis not met
    assert before.label == "building (3 of 4)" and before.marks == "1101"
    after = caution(None)  # the derivatives venues went quiet: basis and OI unknown
    assert after.label == "building (2 of 4)" and after.marks == "11??"
    alerts = scenario_alerts([after], {"caution": before.label}, "2025-11-18", {"caution": before.marks})
    assert [a.kind for a in alerts] == ["data_health"]
    assert alerts[0].title == DATA_HEALTH_TITLE and "not a market signal" in alerts[0].message
    # And back: the data returns, the label climbs back, still no scenario transition.
    back = scenario_alerts([before], {"caution": after.label}, "2025-11-19", {"caution": after.marks})
    assert [a.kind for a in back] == ["data_health"] and "can be read again" in back[0].message


def test_a_market_move_is_still_a_scenario_transition():
    before, after = caution(derivs(4.8, "bleeding")), caution(derivs(2.5, "bleeding"))
    alerts = scenario_alerts([after], {"caution": before.label}, "2025-11-18", {"caution": before.marks})
    assert [a.kind for a in alerts] == ["scenario"] and after.label == "active"


def test_without_stored_marks_a_move_into_or_out_of_unknown_is_data_health():
    unknown = {r.scenario.id: r for r in evaluate(RULES, inputs({}, AS_OF, None))}["caution"]
    assert [a.kind for a in scenario_alerts([unknown], {"caution": "inactive"}, "2025-11-18")] == ["data_health"]
    known = caution(derivs(4.8, "bleeding"))
    assert [a.kind for a in scenario_alerts([known], {"caution": "unknown"}, "2025-11-18")] == ["data_health"]


def test_new_alerts_keeps_each_conditions_outcome_and_fires_the_notice_once(tmp_path):
    store = Store.open(tmp_path / "a.db")
    try:
        now = dt.datetime(2025, 11, 18, 22, tzinfo=dt.UTC)
        from collector.alerts import new_alerts

        cfg = AlertsConfig()
        assert new_alerts(store, [caution(derivs(4.8, "bleeding"))], {}, AS_OF, cfg=cfg, mode="live", now=now) == []
        assert store.meta("scenario_marks:caution") == "1101"
        fired = new_alerts(store, [caution(None)], {}, AS_OF, cfg=cfg, mode="live", now=now)
        assert [(a.kind, p["title"]) for a, p in fired] == [("data_health", "data health")]
        assert new_alerts(store, [caution(None)], {}, AS_OF, cfg=cfg, mode="live", now=now) == []
    finally:
        store.close()


def test_history_marks_changes_made_by_missing_data():
    frames = demo_frames()
    quiet = {D(2025, 11, 17)}  # one day without derivatives data

    def derivatives_at(day):
        return None if day in quiet else derivs(4.8, "bleeding", dt.datetime.combine(day, dt.time(21), tzinfo=dt.UTC))

    timeline = history(RULES, frames, derivatives_at, {}, until=D(2025, 11, 18))
    around = [t for t in timeline if t.date in (D(2025, 11, 17), D(2025, 11, 18)) and t.scenario == "caution"]
    assert around and all(t.kind == "data_health" for t in around), around


@pytest.fixture
def store(tmp_path):
    s = demo_store(tmp_path / "demo.db")
    yield s
    s.close()


async def test_the_dashboard_shows_the_notice_titled_data_health(store):
    for sid in ("rebuild", "caution", "snapback"):
        store.set_meta(f"scenario_label:{sid}", "unknown")  # as if the last run could read nothing
    app = make_app(store)
    titles: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (titles.append(kw.get("title", "")), notify(message, **kw))[1]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.settle()
        assert app.alerts_fired and {a.kind for a in app.alerts_fired} == {"data_health"}
        assert "data health" in titles
