"""The scenario engine: the seed's November 2025 replayed, synthetic triggers, overrides, stale data,
hostile rule configs, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from analytics.derivatives import Derivatives
from analytics.frames import frames_from_rows
from analytics.scenario_inputs import complete_totals, history
from analytics.scenarios import METRICS, Inputs, evaluate, load_rules
from common.config import ConfigError
from demo import load_dataset

D = dt.date
UTC = dt.UTC


def frames_for(asset, series):
    sessions = [(asset, d.isoformat(), t, False) for d, t in series]
    flows = [(asset, d.isoformat(), "X", t) for d, t in series]
    return frames_from_rows(asset, ["X"], sessions, flows)


def demo_frames(until=None):
    out = {}
    for asset in ("btc", "eth", "sol"):
        _, rows = load_dataset(asset)
        out[asset] = frames_for(asset, [(d, t) for d, _, t in rows if d < D(2025, 11, 24) and (until is None or d <= until)])
    return out


def derivs(basis=None, trend="unknown", as_of=dt.datetime(2025, 11, 18, 21, tzinfo=UTC)):
    return Derivatives(as_of, {}, basis, basis, None, (), {}, None, {}, None, None, None, None, None, trend, (), (), ())


def inputs(frames, as_of, d=None, coinshares=None):
    now = dt.datetime.combine(as_of, dt.time(22), tzinfo=UTC)
    return Inputs(as_of, now, {a: complete_totals(f, as_of) for a, f in frames.items()}, d, coinshares or {})


def by_id(results):
    return {r.scenario.id: r for r in results}


RULES = load_rules((), None)


def test_november_2025_caution_builds_as_red_sessions_and_the_billion_dollar_week_appear():
    frames = demo_frames()
    # 7 Nov: the week of 3-7 Nov is the current week, not yet "last week"; one red session.
    early = by_id(evaluate(RULES, inputs(frames, D(2025, 11, 7), derivs(4.8, "flat"))))["caution"]
    assert early.state == "inactive"
    # 18 Nov: last week (10-14 Nov) ran beyond -$1B for US spot ETFs, five red sessions in a row, OI bleeding.
    r = by_id(evaluate(RULES, inputs(frames, D(2025, 11, 18), derivs(4.8, "bleeding"))))["caution"]
    met = {c.condition.metric: c.met for c in r.conditions}
    assert met == {"weekly_ledger_usd_m": True, "btc_red_sessions": True, "basis_3m_pct": False, "oi_trend": True}
    assert r.state == "building" and r.label == "building (3 of 4)"
    ledger = next(c for c in r.conditions if c.condition.metric == "weekly_ledger_usd_m")
    assert ledger.value < -1000 and "btc+eth+sol" in ledger.source
    # With basis compressed to 2.5% the caution case is fully active.
    assert by_id(evaluate(RULES, inputs(frames, D(2025, 11, 18), derivs(2.5, "bleeding"))))["caution"].state == "active"


def test_synthetic_750m_day_lights_the_snapback_condition():
    frames = demo_frames()
    _, rows = load_dataset("btc")
    series = [(d, t) for d, _, t in rows if d < D(2025, 11, 24)] + [(D(2025, 11, 24), 812.5)]
    frames["btc"] = frames_for("btc", series)
    r = by_id(evaluate(RULES, inputs(frames, D(2025, 11, 24), derivs(4.0, "flat"))))["snapback"]
    big = next(c for c in r.conditions if c.condition.metric == "btc_max_day_usd_m")
    assert big.met is True and big.value == 812.5
    assert r.state == "building"


def test_config_overrides_change_the_outcome():
    frames = demo_frames()
    loose = load_rules(({"id": "caution", "thresholds": {"basis_3m_pct": 5, "btc_red_sessions": 3}},), Path("c.toml"))
    r = by_id(evaluate(loose, inputs(frames, D(2025, 11, 18), derivs(4.8, "bleeding"))))["caution"]
    assert r.state == "active"
    custom = load_rules(
        (
            {"id": "mine", "name": "Mine", "conditions": [{"metric": "btc_red_sessions", "op": ">=", "threshold": 5}]},
            {"id": "snapback", "enabled": False},
        ),
        Path("c.toml"),
    )
    ids = [s.id for s in custom]
    assert "mine" in ids and "snapback" not in ids
    assert by_id(evaluate(custom, inputs(frames, D(2025, 11, 18))))["mine"].state == "active"


def test_stale_or_missing_data_makes_a_condition_unknown_never_met():
    frames = demo_frames(until=D(2025, 11, 13))
    # As of 18 Nov the newest session is 13 Nov: flow data is stale, derivatives are missing.
    r = by_id(evaluate(RULES, inputs(frames, D(2025, 11, 18), None)))["caution"]
    red = next(c for c in r.conditions if c.condition.metric == "btc_red_sessions")
    basis = next(c for c in r.conditions if c.condition.metric == "basis_3m_pct")
    assert red.met is None and red.stale and basis.met is None and basis.value is None
    assert r.unknown >= 3
    assert all(c.met is not True for c in r.conditions if c.met is None)


def test_coinshares_print_replaces_the_proxy_and_says_so():
    frames = demo_frames()
    r = by_id(evaluate(RULES, inputs(frames, D(2025, 11, 18), derivs(4.8, "bleeding"), {D(2025, 11, 14): -2000.0})))["caution"]
    ledger = next(c for c in r.conditions if c.condition.metric == "weekly_ledger_usd_m")
    assert ledger.value == -2000.0 and ledger.source == "coinshares (entered by hand)"


def test_history_lists_state_changes():
    frames = demo_frames()
    timeline = history(RULES, frames, lambda day: None, {}, until=D(2025, 11, 21))
    caution = [t for t in timeline if t.scenario == "caution"]
    assert any(t.after == "building (2 of 4)" and t.date == D(2025, 11, 17) for t in caution)
    assert all(t.before != t.after for t in timeline)


@pytest.mark.parametrize(
    "raw,needle",
    [
        ({"id": "x", "conditions": [{"metric": "moon_phase", "op": ">=", "threshold": 1}]}, "unknown metric 'moon_phase'"),
        ({"id": "x", "conditions": [{"metric": "basis_3m_pct", "op": "=>", "threshold": 1}]}, "op must be one of"),
        ({"id": "x", "conditions": [{"metric": "basis_3m_pct", "op": ">=", "threshold": "high"}]}, "must be a number"),
        ({"id": "x", "conditions": [{"metric": "oi_trend", "op": "==", "threshold": "sideways"}]}, "must be one of rebuilding"),
        ({"id": "x", "conditions": [{"metric": "oi_trend", "op": ">=", "threshold": "bleeding"}]}, "use == or !="),
        (
            {"id": "x", "conditions": [{"metric": "btc_red_sessions", "op": ">=", "threshold": 3, "size_usd_m": 5}]},
            "takes no parameter",
        ),
        ({"id": "x", "conditions": []}, "non-empty list"),
        ({"id": "nope", "thresholds": {"basis_3m_pct": 3}}, "unknown scenario 'nope'"),
        ({"id": "rebuild", "thresholds": {"btc_red_sessions": 3}}, "has no condition on 'btc_red_sessions'"),
        ({"name": "no id"}, "needs an id"),
        ({"id": "x", "colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_hostile_rule_config_is_rejected_with_file_rule_and_reason(raw, needle):
    with pytest.raises(ConfigError) as info:
        load_rules((raw,), Path("/etc/flowtape.toml"))
    assert "/etc/flowtape.toml" in str(info.value) and needle in str(info.value)


def test_every_default_condition_names_a_known_metric():
    for s in RULES:
        for c in s.conditions:
            assert c.metric in METRICS


# ---- CLI -------------------------------------------------------------------------------------


def test_cli_scenarios_history_demo(capsys):
    from cli.main import main

    assert main(["scenarios", "--demo", "--history", "--json", "--as-of", "2025-11-21"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "demo" and {s["id"] for s in doc["scenarios"]} == {"rebuild", "caution", "snapback"}
    caution = next(s for s in doc["scenarios"] if s["id"] == "caution")
    assert all({"value", "threshold", "met", "status", "age_s", "source"} <= set(c) for c in caution["conditions"])
    assert any(h["scenario"] == "caution" for h in doc["history"])


def test_snapshot_has_scenarios_and_context(capsys):
    from cli.main import main

    assert main(["snapshot", "--json", "--demo"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in doc["scenarios"]] == ["rebuild", "caution", "snapback"]
    ledger = doc["context"]["weekly_ledger"]
    assert ledger["week_start"] == "2025-11-17" and ledger["us_spot_etf_usd_m"]["btc"] == -1216.6
    assert ledger["us_spot_etf_usd_m"]["all"] is not None


def test_bad_rule_config_exits_2_naming_file_and_rule(tmp_path, capsys, monkeypatch):
    from cli.main import main

    cfg = tmp_path / "c.toml"
    cfg.write_text('[[scenarios]]\nid = "x"\nconditions = [{ metric = "nope", op = ">=", threshold = 1 }]\n')
    monkeypatch.setenv("FLOWTAPE_CONFIG", str(cfg))
    assert main(["snapshot", "--json", "--offline", "--db", str(tmp_path / "d.db")]) == 2
    err = capsys.readouterr().err
    assert str(cfg) in err and "scenarios[0] (x)" in err and "unknown metric 'nope'" in err and err.count("\n") == 1


def test_coinshares_add(tmp_path, capsys):
    from cli.main import main
    from store import Store

    db = str(tmp_path / "d.db")
    assert main(["coinshares", "add", "--week-ending", "2025-11-07", "--total-usd-m", "-1170", "--btc", "-946", "--db", db]) == 0
    assert "recorded" in capsys.readouterr().out
    assert main(["coinshares", "add", "--week-ending", "2025-11-06", "--total-usd-m", "-1", "--db", db]) == 2
    assert "is a Thursday" in capsys.readouterr().err
    assert main(["coinshares", "add", "--week-ending", "2025-11-07", "--total-usd-m", "abc", "--db", db]) == 2
    s = Store.open(db, readonly=True)
    assert s.coinshares()[0][:3] == ("2025-11-07", -1170.0, -946.0)


def test_condition_labels_write_amounts_as_the_screen_does():
    """US$ millions with the sign first and thousands separated (issue 13's one number style), in the CLI and
    the JSON as on screen; not '-1000$M'."""
    from analytics.scenarios import Condition, threshold_text

    assert threshold_text(-1000.0, "US$m") == "-US$1,000m" and threshold_text(7.0, "%") == "7%"
    label = Condition("weekly_ledger_usd_m", "<=", -1000.0).label
    assert label.endswith("<= -US$1,000m") and "$M" not in label
