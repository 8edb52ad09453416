"""Persisted views (issues 14 and 15): the strict codec (analytics/codec.py) round-trips the demo's real views and
refuses every payload it did not write; analytics/persisted.py hands views back only when they are exactly what
computing now would show (same data version, date, configuration and STALE state), and reading loads no polars."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import codec, persisted
from analytics.cache import AnalyticsCache, dashboard_views
from analytics.scenarios import load_rules
from analytics.settings import AnalyticsSettings
from analytics.views import DashboardViews
from common.calendar import AsOf
from store import Store
from tests.dashboard_fixtures import FROZEN, _defaults

ROOT = Path(__file__).resolve().parents[2]
RULES = load_rules((), None)
SETTINGS = AnalyticsSettings.of(_defaults())
_computed: dict[str, tuple[DashboardViews, str]] = {}


def computed(store: Store) -> DashboardViews:
    return dashboard_views(store, AsOf.at(None, FROZEN), SETTINGS, RULES, FROZEN, AnalyticsCache())


def real_payload(demo) -> tuple[DashboardViews, str]:
    """The demo's views as of FROZEN and their payload (computed once: every copy of the demo store is the same)."""
    if "demo" not in _computed:
        views = computed(demo)
        _computed["demo"] = (views, codec.dumps(views, DashboardViews))
    return _computed["demo"]


def save(store: Store, views: DashboardViews) -> bool:
    return persisted.save(store, views, version=store.data_version(), settings=SETTINGS, scenarios=RULES)


def load(store: Store, *, now: dt.datetime = FROZEN + dt.timedelta(seconds=30), pinned: dt.date | None = None, **kw):
    return persisted.load(store, AsOf.at(pinned, now), kw.pop("settings", SETTINGS), kw.pop("scenarios", RULES), now=now)


# ---- the codec ----------------------------------------------------------------------------------------------
def test_the_demo_views_round_trip_exactly(demo):
    views, text = real_payload(demo)
    assert views.complete and views.scenario_results and views.transitions and views.fed and views.trend
    assert not views.derivatives.empty and views.views["btc"].history is not None
    back = codec.loads(text, DashboardViews)
    assert back == views
    assert codec.dumps(back, DashboardViews) == text  # and it writes the same text again
    # every part, so a failure says which (== on the whole compares them all)
    for field in dataclasses.fields(DashboardViews):
        assert getattr(back, field.name) == getattr(views, field.name), field.name


def test_a_union_keeps_a_date_apart_from_a_datetime():
    from analytics.scenarios import Condition, ConditionResult

    cond = Condition("basis_3m_pct", ">=", 8.0)
    for when in (dt.date(2025, 11, 24), dt.datetime(2025, 11, 24, 21, tzinfo=dt.UTC), None):
        for value in (8.5, "rebuilding", None):
            result = ConditionResult(cond, value, None if value is None else True, when, None, "x", False)
            back = codec.loads(codec.dumps(result, ConditionResult), ConditionResult)
            assert back == result and type(back.as_of) is type(when) and type(back.value) is type(value)


def mutate(text: str, change) -> str:
    data = json.loads(text)
    change(data)
    return json.dumps(data)


HOSTILE = {
    "truncated": lambda t: t[: len(t) // 2],
    "empty": lambda t: "",
    "not an object": lambda t: "[1, 2, 3]",
    "extra key": lambda t: mutate(t, lambda d: d.update(pickle="cos\nsystem\n")),
    "missing key": lambda t: mutate(t, lambda d: d.pop("ledger")),
    "extra key deep": lambda t: mutate(t, lambda d: d["views"]["btc"]["report"]["streak"].update(x=1)),
    "string for an int": lambda t: mutate(t, lambda d: d["views"]["btc"]["report"]["streak"].update(sessions="3")),
    "float for an int": lambda t: mutate(t, lambda d: d["views"]["btc"]["report"]["streak"].update(sessions=3.0)),
    "bool for an int": lambda t: mutate(t, lambda d: d["views"]["btc"]["report"]["streak"].update(sessions=True)),
    "int for a float": lambda t: mutate(t, lambda d: d["views"]["btc"]["report"]["streak"].update(size_usd_m=200)),
    "huge int": lambda t: mutate(t, lambda d: d["views"]["btc"]["report"]["streak"].update(sessions=10**30)),
    "huge float": lambda t: t.replace('"size_usd_m":200.0', '"size_usd_m":1e999', 1),
    "NaN": lambda t: t.replace('"size_usd_m":200.0', '"size_usd_m":NaN', 1),
    "digits past the limit": lambda t: t.replace('"size_usd_m":200.0', '"size_usd_m":' + "9" * 5000, 1),
    "null for a required value": lambda t: mutate(t, lambda d: d["views"]["btc"].update(asset=None)),
    "object for a list": lambda t: mutate(t, lambda d: d.update(dates={})),
    "bad date": lambda t: mutate(t, lambda d: d["views"]["btc"].update(as_of="2025-13-40")),
    "non-canonical date": lambda t: mutate(t, lambda d: d["views"]["btc"].update(as_of="20251124")),
    "datetime for a date": lambda t: mutate(t, lambda d: d["views"]["btc"].update(as_of="2025-11-24T00:00:00")),
    "terminal escape in text": lambda t: mutate(t, lambda d: d["views"]["btc"].update(asset="btc\x1b]52;c;AAAA\x07")),
    "duplicate key": lambda t: t.replace('"complete":true', '"complete":true,"complete":false', 1),
    "unknown union tag": lambda t: mutate(
        t, lambda d: d["scenario_results"][0]["conditions"][0].update(value=["function", "os.system"])
    ),
    "fixed tuple of the wrong length": lambda t: mutate(t, lambda d: d["views"]["btc"]["monthly"].append(["2025-12"])),
    "deep nesting": lambda t: "[" * 100_000 + "]" * 100_000,
    "too large": lambda t: " " * (codec.MAX_PAYLOAD_CHARS + 1),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_payload_it_did_not_write_is_refused_by_name(demo, name):
    _, text = real_payload(demo)
    bad = HOSTILE[name](text)
    assert bad != text
    with pytest.raises(codec.CodecError, match=r"^\$"):
        codec.loads(bad, DashboardViews)


@pytest.mark.parametrize("name", ["truncated", "extra key", "huge int", "terminal escape in text"])
def test_a_refused_payload_in_the_store_is_treated_as_absent(demo, name, caplog):
    views, _ = real_payload(demo)
    assert save(demo, views)
    row = demo.views(persisted.slot(SETTINGS, RULES))
    assert load(demo) == views
    demo.put_views(row.key, row.version, HOSTILE[name](row.payload), computed_at=FROZEN)
    assert load(demo) is None
    assert "persisted views refused" in caplog.text


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _nodes(data, path=()):
    """Every (container, key) of a decoded JSON document, to replace or drop."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield data, k
            yield from _nodes(v)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield data, i
            yield from _nodes(v)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_whatever_is_changed_in_a_real_payload_the_result_is_views_or_a_named_refusal(demo, data):
    views, text = real_payload(demo)
    doc = json.loads(text)
    nodes = list(_nodes(doc))
    for _ in range(data.draw(st.integers(1, 3))):
        container, key = nodes[data.draw(st.integers(0, len(nodes) - 1))]
        try:
            if data.draw(st.booleans()) and isinstance(container, dict):
                container.pop(key, None)
            elif isinstance(container, dict) or key < len(container):
                container[key] = data.draw(JUNK)
        except (KeyError, IndexError, TypeError):
            pass
    try:
        back = codec.loads(json.dumps(doc), DashboardViews)
    except codec.CodecError:
        return
    assert isinstance(back, DashboardViews)


# ---- when persisted views are used ----------------------------------------------------------------------------
def test_saved_views_come_back_while_nothing_changed(demo):
    views, _ = real_payload(demo)
    assert save(demo, views)
    assert load(demo) == views


def test_views_are_not_used_after_a_write(demo):
    views, _ = real_payload(demo)
    assert save(demo, views)
    demo.write_candles("BTC-USD", [(dt.date(2025, 11, 24), 1.0, 1.0, 1.0, 87_000.0, 1.0)])  # any data write bumps the version
    assert load(demo) is None


def test_views_are_not_used_on_another_day_nor_for_a_past_day(demo):
    views, _ = real_payload(demo)
    assert save(demo, views)
    assert load(demo, now=FROZEN + dt.timedelta(days=1)) is None
    assert load(demo, pinned=FROZEN.date() - dt.timedelta(days=3)) is None


def test_views_are_not_used_under_other_settings_or_rules(demo):
    views, _ = real_payload(demo)
    assert save(demo, views)
    assert load(demo, settings=dataclasses.replace(SETTINGS, streak_size_usd_m=100.0)) is None
    assert load(demo, scenarios=RULES[:1]) is None


def test_views_are_not_used_once_a_venue_shown_fresh_has_gone_stale(demo):
    views, _ = real_payload(demo)
    fresh = {f"basis {v}" for v, b in views.derivatives.basis.items() if not b.stale}
    assert fresh and not persisted.shown_stale(views)  # the demo's venues are all fresh at FROZEN
    assert save(demo, views)
    # the first moment one of them turns stale by its venue's limit (sources/registry stale_after_s)
    from sources import registry

    turns = min(b.as_of + dt.timedelta(seconds=registry.stale_after_s(v)) for v, b in views.derivatives.basis.items())
    assert load(demo, now=turns) == views
    later = turns + dt.timedelta(seconds=1)
    assert persisted.stale_parts(views, later) & fresh
    assert load(demo, now=later) is None


def test_views_showing_a_venue_stale_are_used_while_it_stays_stale(demo):
    """What is shown stale stays stale without new data: such views are current, and the state is in the key."""
    views, _ = real_payload(demo)
    venue, basis = next(iter(views.derivatives.basis.items()))
    old = dataclasses.replace(basis, as_of=basis.as_of - dt.timedelta(days=1), stale=True)
    marked = dataclasses.replace(
        views, derivatives=dataclasses.replace(views.derivatives, basis={**views.derivatives.basis, venue: old})
    )
    assert save(demo, marked)
    meta = codec.loads(demo.views(persisted.slot(SETTINGS, RULES)).version, persisted.Computed)
    assert f"basis {venue}" in meta.stale
    assert load(demo) == marked
    # views whose STALE marks the rule cannot reproduce are never saved
    unmarked = dataclasses.replace(old, stale=False)
    wrong = dataclasses.replace(
        views, derivatives=dataclasses.replace(views.derivatives, basis={**views.derivatives.basis, venue: unmarked})
    )
    assert not save(demo, wrong)


def test_nothing_is_saved_from_a_read_only_store_past_day_or_moved_data(demo, tmp_path):
    views, _ = real_payload(demo)
    before = demo.data_version()
    demo.write_candles("BTC-USD", [(dt.date(2025, 11, 24), 1.0, 1.0, 1.0, 87_000.0, 1.0)])
    assert not persisted.save(demo, views, version=before, settings=SETTINGS, scenarios=RULES)  # moved while computing
    pinned = dataclasses.replace(views, as_of=AsOf.at(FROZEN.date() - dt.timedelta(days=1), FROZEN))
    assert not save(demo, pinned)
    viewer = Store.open(demo.path, readonly=True)
    try:
        assert not save(viewer, views)
    finally:
        viewer.close()


def test_reading_persisted_views_loads_no_polars(demo, tmp_path):
    """A viewer that finds current views never imports polars (issue 15: viewers stay light)."""
    views, _ = real_payload(demo)
    assert save(demo, views)
    db = tmp_path / "demo.db"
    script = textwrap.dedent(
        f"""
        import sys, datetime as dt
        sys.path.insert(0, {str(ROOT)!r})
        from analytics.persisted import load
        from analytics.scenarios import load_rules
        from analytics.settings import AnalyticsSettings
        from common.calendar import AsOf
        from common.config import parse_config
        from demo import demo_config
        from pathlib import Path
        from store import Store
        now = dt.datetime.fromisoformat({(FROZEN + dt.timedelta(seconds=30)).isoformat()!r})
        store = Store.open({str(db)!r}, readonly=True)
        views = load(store, AsOf.at(None, now), AnalyticsSettings.of(demo_config(parse_config({{}}, Path("<defaults>")))),
                     load_rules((), None), now=now)
        print(views is not None and views.complete, "polars" in sys.modules)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True False", out.stdout


def test_a_refusal_says_where_and_what(demo):
    _, text = real_payload(demo)
    with pytest.raises(codec.CodecError) as bad:
        codec.loads(HOSTILE["string for an int"](text), DashboardViews)
    assert str(bad.value) == "$.views.btc.report.streak.sessions: expected int, got str"
    with pytest.raises(codec.CodecError) as bad:
        codec.loads(HOSTILE["extra key deep"](text), DashboardViews)
    assert str(bad.value) == "$.views.btc.report.streak: Streak fields do not match (unknown x)"
    with pytest.raises(codec.CodecError) as bad:
        codec.loads(HOSTILE["non-canonical date"](text), DashboardViews)
    assert str(bad.value) == "$.views.btc.as_of: '20251124' is not an ISO date"
    with pytest.raises(codec.CodecError, match=r"^\$\.as_of: expected AsOf, got str$"):
        codec.dumps(dataclasses.replace(real_payload(demo)[0], as_of="today"), DashboardViews)
