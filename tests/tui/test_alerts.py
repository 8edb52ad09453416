"""Alerts: each transition once (across restarts too), toast/bell/command delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import time
from dataclasses import replace

import pytest

from analytics.alerts import flow_alerts, scenario_alerts
from analytics.scenarios import evaluate
from common.config import AlertsConfig
from store import Store
from tests.analytics.test_scenarios import RULES, demo_frames, derivs, inputs
from tests.dashboard_fixtures import make_app

D = dt.date


def test_scenario_alert_only_on_a_change_with_a_known_previous_state():
    results = evaluate(RULES, inputs(demo_frames(), D(2025, 11, 18), derivs(4.8, "bleeding")))
    assert scenario_alerts(results, {}, "2025-11-18") == []  # first sight: nothing to compare with
    alerts = scenario_alerts(
        results, {"caution": "building (1 of 4)", "rebuild": "inactive", "snapback": "inactive"}, "2025-11-18"
    )
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
    now = dt.datetime(2025, 11, 24, tzinfo=dt.UTC)
    assert s.log_alert("k1", "scenario", "{}", created_at=now) is True
    assert s.log_alert("k1", "scenario", "{}", created_at=now) is False
    s.close()
    s = Store.open(db)
    assert s.log_alert("k1", "scenario", "{}", created_at=now) is False
    assert len(s.alerts()) == 1
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
    from collector.alerts import run_alert_command

    assert "could not start" in await run_alert_command(["/nonexistent/cmd"], {"k": 1})
    assert "status 3" in await run_alert_command([sys.executable, "-c", "raise SystemExit(3)"], {"k": 1})


def test_alerts_config_errors(tmp_path):
    from pathlib import Path

    from common.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match="alerts.command: expected a list of strings"):
        parse_config({"alerts": {"command": "notify-send"}}, Path("c.toml"))
    assert parse_config({"alerts": {"command": ["notify-send", "x"], "bell": False}}, Path("c.toml")).alerts.command == (
        "notify-send",
        "x",
    )


def running(pid: int) -> bool:
    """Alive and not a zombie (this container's init does not reap orphans: a killed orphan stays a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def stopped(*pids: int, timeout: float = 1.0) -> bool:
    """All gone within `timeout` (a SIGKILLed process dies when next scheduled, not at the kill call)."""
    deadline = time.monotonic() + timeout
    while any(running(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def pids(tmp_path, *names, timeout=5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [(tmp_path / n).read_text().strip() if (tmp_path / n).exists() else "" for n in names]
        if all(texts):
            return [int(t) for t in texts]
        time.sleep(0.02)
    raise AssertionError(f"the command never wrote {names}")


@pytest.fixture
def short_deadline(monkeypatch):
    import collector.alerts

    monkeypatch.setattr(collector.alerts, "COMMAND_DEADLINE_S", 1.0)
    monkeypatch.setattr(collector.alerts, "STOP_GRACE_S", 0.3)


async def test_deadline_stops_the_command_and_everything_it_started(tmp_path, short_deadline):
    from collector.alerts import run_alert_command

    # The brief's case: `sleep 100 & sleep 100`; the background sleep ignores SIGTERM, so only the SIGKILL
    # after the grace ends it.
    script = f"echo $$ > {tmp_path}/leader; (trap '' TERM; exec sleep 100) & echo $! > {tmp_path}/child; sleep 100"
    started = time.monotonic()
    problem = await run_alert_command(["sh", "-c", script], {"k": 1})
    assert "took longer than 1s and was stopped" in problem
    leader, child = pids(tmp_path, "leader", "child")
    assert stopped(leader, child)
    assert time.monotonic() - started < 1.0 + 0.3 + 1.0


async def test_what_a_finished_command_left_running_is_stopped_at_its_deadline(tmp_path, short_deadline):
    from collector.alerts import run_alert_command

    problem = await run_alert_command(["sh", "-c", f"sleep 100 & echo $! > {tmp_path}/child"], {"k": 1})
    assert problem is None  # the command itself succeeded
    (child,) = pids(tmp_path, "child")
    assert stopped(child)


async def test_quitting_while_a_command_runs_kills_its_group(tmp_path):
    from collector.alerts import run_alert_command

    task = asyncio.create_task(run_alert_command(["sh", "-c", f"sleep 100 & echo $! > {tmp_path}/child; sleep 100"], {}))
    (child,) = await asyncio.to_thread(pids, tmp_path, "child")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stopped(child)


async def test_a_recompute_does_not_orphan_a_running_alert_command(store, tmp_path, short_deadline):
    """The command outlives the analytics worker that fired it: still stopped at its deadline, still reported."""
    command = ("sh", "-c", f"echo $$ > {tmp_path}/leader; sleep 100 & echo $! > {tmp_path}/child; sleep 100")
    store.set_meta("scenario_label:caution", "inactive")
    app = make_app(store)
    app.config = replace(app.config, alerts=AlertsConfig(bell=False, toast=False, command=command))
    notes: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (notes.append(message), notify(message, **kw))[1]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        leader, child = await asyncio.to_thread(pids, tmp_path, "leader", "child")
        app.recompute()  # a new computation: the command outlives the one that raised the alert
        await app.settle()
        for _ in range(60):
            if notes:
                break
            await pilot.pause(0.05)
        assert any("took longer than 1s and was stopped" in n for n in notes), notes
        assert stopped(leader, child)
