"""Alerts: each transition once (across restarts too), toast/bell/command delivery."""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import replace

import pytest

from analytics.alerts import flow_alerts, scenario_alerts
from analytics.scenarios import load_rules
from sources.config import AlertsConfig
from sources.store import Store

from .dashboard_fixtures import demo_store, make_app
from .test_scenarios import RULES, demo_frames, derivs, inputs
from analytics.scenarios import evaluate

D = dt.date


def test_scenario_alert_only_on_a_change_with_a_known_previous_state():
    results = evaluate(RULES, inputs(demo_frames(), D(2025, 11, 18), derivs(4.8, "bleeding")))
    assert scenario_alerts(results, {}, "2025-11-18") == []  # first sight: nothing to compare with
    alerts = scenario_alerts(results, {"caution": "building (1 of 4)", "rebuild": "inactive", "snapback": "inactive"}, "2025-11-18")
    assert [a.kind for a in alerts] == ["scenario"] and "building (3 of 4)" in alerts[0].title


def test_flow_alerts_for_records_and_streaks():
    from analytics.flows import asset_report

    frames = demo_frames()
    r18 = asset_report(frames["btc"], D(2025, 11, 13))
    kinds = {a.kind for a in flow_alerts(r18, red_streak=2, green_streak_at_size=3)}
    assert "streak" in kinds  # 12 and 13 Nov: two red sessions
    r20 = asset_report(frames["btc"], D(2025, 11, 20))
    assert any(a.kind == "record_month" for a in flow_alerts(r20, red_streak=4, green_streak_at_size=3))


def test_alert_log_fires_each_key_once_across_restarts(tmp_path):
    db = tmp_path / "a.db"
    s = Store.open(db)
    now = dt.datetime(2025, 11, 24, tzinfo=dt.timezone.utc)
    assert s.log_alert("k1", "scenario", "{}", created_at=now) is True
    assert s.log_alert("k1", "scenario", "{}", created_at=now) is False
    s.close()
    s = Store.open(db)
    assert s.log_alert("k1", "scenario", "{}", created_at=now) is False
    assert len(s.alerts()) == 1
    s.close()


@pytest.fixture
def store(tmp_path):
    s = demo_store(tmp_path / "demo.db")
    yield s
    s.close()


async def test_app_delivers_an_alert_once_with_toast_bell_and_command(store, tmp_path):
    out = tmp_path / "alert.json"
    command = (sys.executable, "-c", f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())")
    store.set_meta("scenario_label:caution", "inactive")  # as if the last run saw it inactive
    app = make_app(store)
    app.config = replace(app.config, alerts=AlertsConfig(bell=True, toast=True, command=command))
    bells = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.settle()
        for _ in range(40):
            await pilot.pause(0.05)
            if out.exists():
                break
        assert [a.kind for a in app.alerts_fired] == ["scenario"]
        assert bells == [1]
        payload = json.loads(out.read_text())
        assert payload["kind"] == "scenario" and "Caution case" in payload["title"] and payload["mode"] == "demo"
        app.recompute()
        await app.settle()
        assert len(app.alerts_fired) == 1  # the same transition never fires twice
    # A restart on the same store: nothing new to say.
    again = make_app(store)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await again.settle()
        assert again.alerts_fired == []


async def test_time_travel_raises_no_alerts(store):
    store.set_meta("scenario_label:caution", "inactive")
    app = make_app(store)
    app.as_of_pinned = D(2025, 11, 18)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.settle()
        assert app.alerts_fired == []


async def test_failing_alert_command_is_reported_not_raised():
    from tui.alerts import run_alert_command

    assert "could not start" in await run_alert_command(["/nonexistent/cmd"], {"k": 1})
    assert "status 3" in await run_alert_command([sys.executable, "-c", "raise SystemExit(3)"], {"k": 1})


def test_alerts_config_errors(tmp_path):
    from pathlib import Path

    from sources.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match="alerts.command: expected a list of strings"):
        parse_config({"alerts": {"command": "notify-send"}}, Path("c.toml"))
    assert parse_config({"alerts": {"command": ["notify-send", "x"], "bell": False}}, Path("c.toml")).alerts.command == ("notify-send", "x")
