"""Compute once (issue 14): data versions, hourly observations kept at write time, per-day scenario labels kept in
the store, the analytics cache, quick_check only after an unclean shutdown; and, above all, the same results as
the straightforward full replay."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import cache as compute_once
from analytics.dashboard import AnalyticsSettings, compute_market
from analytics.derivatives import load_derivatives
from analytics.scenario_inputs import coinshares_prints, history
from analytics.scenarios import load_rules
from common.calendar import AsOf, end_of_day
from common.records import FlowRow, FlowTable
from store import SCHEMA_VERSION, Store
from store.rows import SessionRow
from tests.compute_once_fixtures import FUNDS, build

UTC = dt.UTC
RULES = load_rules((), None)
SETTINGS = AnalyticsSettings()


def full_replay(store: Store, frames, until: dt.date, now: dt.datetime, settings=SETTINGS):
    """What the app did before: every BTC session's derivatives recomputed and every rule evaluated."""

    def derivatives_at(day):
        d = load_derivatives(store, end_of_day(day, now), band_edges=settings.band_edges, trend_pct=settings.oi_trend_pct)
        return None if d.empty else d

    return history(RULES, frames, derivatives_at, coinshares_prints(store), until=until, now=now)


def incremental(store: Store, cache, until: dt.date, now: dt.datetime, settings=SETTINGS):
    as_of = AsOf.at(until, now)
    frames, market = compute_once.market(store, as_of, settings, cache)
    return compute_once.complete(store, frames, market, settings, RULES, now, cache), frames


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    path = tmp_path_factory.mktemp("year") / "year.db"
    store, now, days = build(path)
    store.close()
    return path, now, days


def copy(path: Path, to: Path) -> Store:
    to.write_bytes(path.read_bytes())
    return Store.open(to)


# ---- the same results as the full replay ------------------------------------------------------------------


def test_incremental_history_equals_the_full_replay_on_a_randomized_history(year, tmp_path):
    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    cache = compute_once.AnalyticsCache()
    views, frames = incremental(store, cache, days[-1], now)
    expected = full_replay(store, frames, days[-1], now)
    assert len(expected) >= 5  # the data moves the rules: the comparison means something
    assert views.transitions == expected
    assert cache.computed["scenario_day"] == len(days)
    # Again with a fresh cache: every closed day is read back from the store, none recomputed.
    again = compute_once.AnalyticsCache()
    views2, _ = incremental(store, again, days[-1], now)
    assert views2.transitions == expected
    assert again.computed.get("scenario_day", 0) <= 1  # at most the open day
    # Time travel: an earlier as-of date gives the replay's transitions up to it, from stored labels.
    mid = days[len(days) // 2]
    back, frames_back = incremental(store, again, mid, now)
    assert back.transitions == full_replay(store, frames_back, mid, now)
    assert again.computed.get("scenario_day", 0) <= 1


def test_a_revised_past_session_invalidates_the_days_after_it(year, tmp_path):
    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    cache = compute_once.AnalyticsCache()
    incremental(store, cache, days[-1], now)
    revised_day = days[len(days) // 2]
    # A late correction: the day turns into a large outflow (the red-sessions rule reads it).
    table = FlowTable("btc", FUNDS, (FlowRow(revised_day, {f: -900.0 for f in FUNDS}, -2700.0),))
    assert store.write_table(table, source="test", fetched_at=now).revisions
    kept = {r.date for r in store.scenario_days(compute_once.scenario_key(RULES, SETTINGS))}
    assert kept and max(kept) < revised_day.isoformat()  # the days from it on were dropped
    before = cache.computed["scenario_day"]
    views, frames = incremental(store, cache, days[-1], now)
    assert views.transitions == full_replay(store, frames, days[-1], now)
    assert cache.computed["scenario_day"] - before == sum(1 for d in days if d >= revised_day)


def test_new_observations_and_thinning_keep_the_stored_history_equal_to_the_replay(year, tmp_path):
    from tests.compute_once_fixtures import quotes

    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    cache = compute_once.AnalyticsCache()
    incremental(store, cache, days[-1], now)
    import random

    rng = random.Random(7)
    # A backfilled past quote (a venue's late row) and a day of polling later (thinning runs as it goes).
    past = dt.datetime.combine(days[-10], dt.time(3), tzinfo=UTC)
    store.write_observation_rows(quotes(past, rng, 14.0), fetched_at=now)
    later = now
    for _ in range(30):
        later += dt.timedelta(hours=1)
        store.write_observation_rows(quotes(later, rng, 1.0), fetched_at=later)
    views, frames = incremental(store, cache, days[-1], later)
    assert views.transitions == full_replay(store, frames, days[-1], later)


def test_a_backfilled_quote_drops_the_labels_of_the_days_that_can_see_it(year, tmp_path):
    import random

    from tests.compute_once_fixtures import quotes

    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    cache = compute_once.AnalyticsCache()
    incremental(store, cache, days[-1], now)
    day = days[-10]
    late = end_of_day(day) - dt.timedelta(minutes=1)  # the newest quote that day's cut-off sees
    store.write_observation_rows(quotes(late.astimezone(UTC), random.Random(3), 40.0), fetched_at=now)
    kept = {r.date for r in store.scenario_days(compute_once.scenario_key(RULES, SETTINGS))}
    assert day.isoformat() not in kept and days[-12].isoformat() in kept
    views, frames = incremental(store, cache, days[-1], now)
    assert views.transitions == full_replay(store, frames, days[-1], now)


def test_labels_are_recomputed_when_the_store_holds_their_day_more_coarsely(year, tmp_path):
    """A day's derivatives depend on how finely the store still holds it (the stale limit widens with the
    retention step): newer data moving a day into another step recomputes it even though no row of it changed."""
    import random

    from tests.compute_once_fixtures import quotes

    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    cache = compute_once.AnalyticsCache()
    incremental(store, cache, days[-1], now)
    later = now + dt.timedelta(days=3)
    # Polled at `now` (nothing thinned), a quote stamped three days on: the newest data moves, the old rows do not.
    store.write_observation_rows(quotes(later, random.Random(5), 6.0), fetched_at=now)
    views, frames = incremental(store, cache, days[-1], later)
    assert views.transitions == full_replay(store, frames, days[-1], later)


def _hourly_rows(store: Store) -> list[tuple]:
    with sqlite3.connect(store.path) as conn:
        return conn.execute("SELECT * FROM observations_hourly ORDER BY 1, 2, 3, 4").fetchall()


def test_hourly_thinning_changes_no_hourly_row_and_drops_no_label(year, tmp_path):
    """The 48 h tier keeps the row observations_hourly holds for each hour, so what a day's derivatives read is
    untouched: every stored label stays, and they still equal the full replay."""
    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    key = compute_once.scenario_key(RULES, SETTINGS)
    incremental(store, compute_once.AnalyticsCache(), days[-1], now)
    stored, hourly = store.scenario_days(key), _hourly_rows(store)
    assert len({r.date for r in stored}) >= len(days) - 1
    thinned_to = now + dt.timedelta(days=5)  # the 48 h tier reaches three more days of full-resolution rows
    version = store.data_version()
    assert store.prune_observations(thinned_to, daily=False) > 0
    assert store.data_version().derivatives > version.derivatives  # bumped in the thinning transaction
    assert _hourly_rows(store) == hourly
    assert store.scenario_days(key) == stored
    cache = compute_once.AnalyticsCache()
    views, frames = incremental(store, cache, days[-1], thinned_to)
    assert views.transitions == full_replay(store, frames, days[-1], thinned_to)


def test_daily_thinning_drops_exactly_the_labels_whose_window_it_touched(year, tmp_path):
    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    key = compute_once.scenario_key(RULES, SETTINGS)
    incremental(store, compute_once.AnalyticsCache(), days[-1], now)
    before = {r.date for r in store.scenario_days(key)}
    thinned_to = now + dt.timedelta(days=5)  # the daily tier reaches five more days of hourly rows
    with sqlite3.connect(store.path) as conn:
        old = {
            r[0][:10]
            for r in conn.execute("SELECT ts FROM observations WHERE ts < ?", ((thinned_to - dt.timedelta(days=30)).isoformat(),))
        }
    assert store.prune_observations(thinned_to) > 0
    dropped = before - {r.date for r in store.scenario_days(key)}
    assert dropped  # the days whose 22-day window held a thinned hour
    first_thinned = max(old)  # thinned to one a day this time: the newest days past 30 days
    assert min(dropped) <= first_thinned and max(dropped) > first_thinned
    assert days[-60].isoformat() in before - dropped and days[-1].isoformat() in before - dropped
    views, frames = incremental(store, compute_once.AnalyticsCache(), days[-1], thinned_to)
    assert views.transitions == full_replay(store, frames, days[-1], thinned_to)


def test_a_day_of_polling_recomputes_no_closed_day_until_the_daily_thinning(year, tmp_path):
    """Polls (each thinning the 48 h tier once an hour) recompute only the derivatives at now; the daily tier runs
    once a day, and the history still equals the full replay after it."""
    import random

    from tests.compute_once_fixtures import quotes

    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    rng = random.Random(11)
    store.write_observation_rows(quotes(now, rng, 5.0), fetched_at=now)  # a fresh store's first write thins both tiers
    cache = compute_once.AnalyticsCache()
    incremental(store, cache, days[-1], now)
    start = cache.computed["scenario_day"]
    later = now
    for _ in range(23):
        later += dt.timedelta(hours=1)
        store.write_observation_rows(quotes(later, rng, 5.0), fetched_at=later)
        views, frames = incremental(store, cache, days[-1], later)
    polled = cache.computed["scenario_day"] - start
    assert polled <= 2  # at most a day or two moving into the next retention tier (a day's labels keep their tier)
    later += dt.timedelta(hours=1)
    store.write_observation_rows(quotes(later, rng, 5.0), fetched_at=later)  # 24 h on: the daily tier
    views, frames = incremental(store, cache, days[-1], later)
    assert cache.computed["scenario_day"] - start - polled > 10  # the sessions whose window held the thinned day
    assert views.transitions == full_replay(store, frames, days[-1], later)


def test_rewriting_stored_rows_unchanged_drops_no_label_and_moves_no_version(year, tmp_path):
    """Venues re-send old rows every poll (the weekly CFTC report's OI, weeks back): the same row again changes
    nothing; the same row with another value is a revision and drops the labels that can see it."""
    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    key = compute_once.scenario_key(RULES, SETTINGS)
    store.write_observation_rows([], fetched_at=now)  # the fresh store's first thinning, out of the way
    incremental(store, compute_once.AnalyticsCache(), days[-1], now)
    stored, version = store.scenario_days(key), store.data_version()
    old = store.observations(end_of_day(days[-20]).isoformat(), end_of_day(days[-19]).isoformat())[:8]
    assert old
    assert store.write_observation_rows(old, fetched_at=now) == len(old)
    assert store.data_version() == version and store.scenario_days(key) == stored
    revised = [(*old[0][:4], old[0][4] * 1.01)]
    store.write_observation_rows(revised, fetched_at=now)
    assert store.data_version().derivatives > version.derivatives
    kept = {r.date for r in store.scenario_days(key)}
    assert days[-21].isoformat() in kept and days[-1].isoformat() not in kept


def test_the_market_views_through_the_cache_equal_compute_market(year, tmp_path):
    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    cache = compute_once.AnalyticsCache()
    for as_of in (AsOf.at(None, now), AsOf.at(days[-20], now)):
        _, fresh = compute_market(store, as_of, SETTINGS)
        _, cached = compute_once.market(store, as_of, SETTINGS, cache)
        assert cached == fresh


def test_a_time_travel_step_to_a_stored_day_reuses_its_derivatives_until_a_write_can_change_them(year, tmp_path):
    """A closed day's derivatives are kept while the store holds its labels at the same retention tier: stepping
    back again after polls at now computes nothing, and a write its day can see recomputes it (same figures as
    compute_market every time)."""
    import random

    from tests.compute_once_fixtures import quotes

    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    store.write_observation_rows([], fetched_at=now)  # the fresh store's first thinning, out of the way
    cache = compute_once.AnalyticsCache()
    incremental(store, cache, days[-1], now)  # every day labelled (and the newest days' derivatives kept)
    back = AsOf.at(days[-3], now)

    def step() -> tuple[int, object]:
        before = cache.computed.get("derivatives", 0)
        _, got = compute_once.market(store, back, SETTINGS, cache)
        compute_once.market(store, AsOf.at(None, now), SETTINGS, cache)  # and back to now, as the app does
        return cache.computed.get("derivatives", 0) - before, got.derivatives

    ran, got = step()
    assert got == compute_market(store, back, SETTINGS)[1].derivatives
    assert ran == 1  # now's, not the stored day's
    rng = random.Random(9)
    store.write_observation_rows(quotes(now + dt.timedelta(seconds=10), rng, 5.0), fetched_at=now)  # a poll at now
    ran, got = step()
    assert ran == 1 and got == compute_market(store, back, SETTINGS)[1].derivatives
    late = end_of_day(days[-4]) - dt.timedelta(minutes=1)  # a backfilled quote the stored day's window holds
    store.write_observation_rows(quotes(late.astimezone(UTC), rng, 30.0), fetched_at=now)
    ran, got = step()
    assert ran == 2 and got == compute_market(store, back, SETTINGS)[1].derivatives
    # Relabelled while it is the as-of day (from the step's own derivatives): the old ones are not reused.
    stale = cache.closed[days[-3]][3]
    incremental(store, cache, days[-3], now)
    compute_once.market(store, AsOf.at(None, now), SETTINGS, cache)
    ran, got = step()
    assert got == compute_market(store, back, SETTINGS)[1].derivatives != stale


def test_demo_store_incremental_equals_the_full_replay(tmp_path):
    from tests.dashboard_fixtures import FROZEN, _defaults, demo_store

    store = demo_store(tmp_path / "demo.db")
    settings = AnalyticsSettings.of(_defaults())
    as_of = AsOf.at(None, FROZEN)
    cache = compute_once.AnalyticsCache()
    frames, market = compute_once.market(store, as_of, settings, cache)
    views = compute_once.complete(store, frames, market, settings, RULES, FROZEN, cache)
    assert views.transitions == full_replay(store, frames, as_of.date, FROZEN, settings)
    _, plain = compute_market(store, as_of, settings)
    assert market == plain


# ---- recompute only the part whose source wrote -------------------------------------------------------------


def test_an_unchanged_store_is_not_recomputed_and_a_venue_write_recomputes_only_derivatives(year, tmp_path):
    from tests.compute_once_fixtures import quotes

    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    cache = compute_once.AnalyticsCache()
    as_of = AsOf.at(days[-1], now)  # pinned: the cut-off does not move with the clock
    compute_once.dashboard_views(store, as_of, SETTINGS, RULES, now, cache)
    ran = dict(cache.computed)
    compute_once.dashboard_views(store, as_of, SETTINGS, RULES, now, cache)
    assert {k: cache.computed[k] for k in ("frames", "views", "derivatives")} == {
        k: ran[k] for k in ("frames", "views", "derivatives")
    }
    import random

    store.write_observation_rows(quotes(now - dt.timedelta(hours=2), random.Random(1), 3.0), fetched_at=now)
    compute_once.dashboard_views(store, as_of, SETTINGS, RULES, now, cache)
    assert cache.computed["derivatives"] == ran["derivatives"] + 1
    assert cache.computed["frames"] == ran["frames"] and cache.computed["views"] == ran["views"]


# ---- data versions ------------------------------------------------------------------------------------------


def test_each_write_kind_bumps_its_own_version(tmp_path):
    store = Store.open(tmp_path / "v.db")
    v0 = store.data_version()
    assert v0 is not None and v0.total == 0
    day = dt.date(2025, 3, 3)
    when = dt.datetime(2025, 3, 4, 1, tzinfo=UTC)
    store.write_table(FlowTable("btc", ("A",), (FlowRow(day, {"A": 1.0}, 1.0),)), source="t", fetched_at=when)
    v1 = store.data_version()
    assert (v1.flows, v1.derivatives, v1.context, v1.total) == (1, 0, 0, 1)
    store.write_table(FlowTable("btc", ("A",), (FlowRow(day, {"A": 1.0}, 1.0),)), source="t", fetched_at=when)
    assert store.data_version() == v1  # the same table again changes nothing
    store.add_coinshares(dt.date(2025, 3, 7), -100.0, None, entered_at=when)
    v2 = store.data_version()
    assert (v2.flows, v2.total) == (2, 2)
    store.write_observation_rows([("binance", "BTCUSDT", "mark", when.isoformat(), 60000.0)], fetched_at=when)
    v3 = store.data_version()
    assert (v3.flows, v3.derivatives, v3.context, v3.total) == (2, 1, 0, 3)
    store.write_candles("BTC-USD", [(day, 1.0, 2.0, 0.5, 1.5, 10.0)])
    v4 = store.data_version()
    assert (v4.flows, v4.derivatives, v4.context, v4.total) == (2, 1, 1, 4)
    store.set_status("farside_btc", state="ok")
    store.log_alert("k", "scenario", "{}", created_at=when)
    assert store.data_version() == v4  # status and alerts are not data the analytics read


def test_a_rolled_back_write_bumps_nothing(tmp_path):
    store = Store.open(tmp_path / "v.db")
    when = dt.datetime(2025, 3, 4, 1, tzinfo=UTC)
    good = ("binance", "BTCUSDT", "mark", when.isoformat(), 60000.0)
    bad = ("binance", "BTCUSDT", "index", when.isoformat(), None)  # NOT NULL: the transaction rolls back
    with pytest.raises(sqlite3.IntegrityError):
        store.write_observation_rows([good, bad], fetched_at=when)
    assert store.data_version().total == 0
    assert store.observations() == []


def test_a_store_without_versions_reads_as_unknown(tmp_path):
    db = tmp_path / "v.db"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE data_version")
    conn.commit()
    conn.close()
    assert Store.open(db, readonly=True).data_version() is None


# ---- the hourly observations ---------------------------------------------------------------------------------

_SCAN = """SELECT venue, instrument, metric, MAX(ts), value FROM observations WHERE ts >= ? AND ts <= ?
    AND (venue, instrument) IN (SELECT venue, instrument FROM observations WHERE ts >= ? AND ts <= ?)
    GROUP BY venue, instrument, metric, substr(ts, 1, 13)"""


def test_hourly_reads_equal_a_group_by_over_the_full_resolution_rows(year, tmp_path):
    path, now, days = year
    store = copy(path, tmp_path / "y.db")
    conn = sqlite3.connect(store.path)
    for end in (now, now - dt.timedelta(days=40, minutes=17), now - dt.timedelta(days=1, hours=3, seconds=5)):
        since = (end - dt.timedelta(days=22)).isoformat(timespec="seconds")
        until = end.isoformat(timespec="seconds")
        cutoff = (end - dt.timedelta(days=7)).isoformat(timespec="seconds")
        expected = sorted(conn.execute(_SCAN, (since, until, cutoff, until)).fetchall())
        got = sorted(tuple(r) for r in store.observations(since, until, hourly=True))
        assert got == expected and len(got) > 100


def test_hourly_reads_take_the_edge_hours_from_the_full_resolution_rows(tmp_path):
    store = Store.open(tmp_path / "h.db")
    base = dt.datetime(2025, 3, 4, tzinfo=UTC)
    stamps = [(9, 10), (9, 50), (10, 5), (10, 40), (11, 10), (11, 50), (12, 30)]
    rows = [
        ("binance", "BTCUSDT", "mark", (base + dt.timedelta(hours=h, minutes=m)).isoformat(), 6e4 + h * 60 + m) for h, m in stamps
    ]
    store.write_observation_rows(rows, fetched_at=base + dt.timedelta(hours=13))
    since, until = (base + dt.timedelta(hours=9, minutes=30)).isoformat(), (base + dt.timedelta(hours=11, minutes=20)).isoformat()
    got = [r.ts[11:16] for r in store.observations(since, until, hourly=True)]
    assert got == ["09:50", "10:40", "11:10"]


def test_a_version_2_store_migrates_and_fills_the_hourly_rows(tmp_path):
    db = tmp_path / "v2.db"
    s = Store.open(db)
    when = dt.datetime(2025, 3, 4, 1, tzinfo=UTC)
    s.write_observation_rows(
        [("binance", "BTCUSDT", "mark", (when + dt.timedelta(minutes=m)).isoformat(), 6e4 + m) for m in (0, 20, 70)],
        fetched_at=when,
    )
    s.close()
    conn = sqlite3.connect(db)  # back to what schema 2 had
    for name in ("observations_hourly_insert", "observations_hourly_delete"):
        conn.execute(f"DROP TRIGGER {name}")
    for table in ("observations_hourly", "data_version", "scenario_days"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    s = Store.open(db)
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert s.data_version() is not None
    rows = s.observations(hourly=True)
    assert [(r.ts[11:16], r.value) for r in rows] == [("01:20", 60020.0), ("02:10", 60070.0)]


# ---- named rows ---------------------------------------------------------------------------------------------


def test_store_reads_are_named_rows_that_still_unpack(tmp_path):
    store = Store.open(tmp_path / "n.db")
    when = dt.datetime(2025, 3, 4, 1, tzinfo=UTC)
    store.write_table(FlowTable("btc", ("A",), (FlowRow(dt.date(2025, 3, 3), {"A": 1.5}, 1.5),)), source="t", fetched_at=when)
    (row,) = store.sessions("btc")
    assert row == SessionRow("btc", "2025-03-03", 1.5, False) and row.total_usd_m == 1.5
    asset, day, total, provisional = row
    assert (asset, day, total, provisional) == ("btc", "2025-03-03", 1.5, False)
    (cell,) = store.flows("btc")
    assert (cell.fund, cell.usd_m) == ("A", 1.5)


# ---- quick_check only after an unclean shutdown ---------------------------------------------------------------


def test_a_clean_close_skips_quick_check_on_the_next_open(tmp_path):
    db = tmp_path / "q.db"
    Store.open(db).close()
    s = Store.open(db)
    assert not s.quick_checked
    s.close()
    assert not Store.open(db, readonly=True).quick_checked  # --offline too


def test_after_kill_9_the_next_open_runs_quick_check(tmp_path):
    db = tmp_path / "q.db"
    Store.open(db).close()
    root = Path(__file__).resolve().parents[2]
    code = f"import os, signal; from store import Store; s = Store.open({str(db)!r}); os.kill(os.getpid(), signal.SIGKILL)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == -9
    assert Store.open(db, readonly=True).quick_checked
    s = Store.open(db)
    assert s.quick_checked
    s.close()
    assert not Store.open(db).quick_checked  # and clean again after a close
