"""Compute once: the analytics' last results kept by data version, and each day's scenario labels kept in the store.

A part is recomputed only when its source wrote: the flow frames and views when the store's `flows` version
moved (Farside, CoinShares), the derivatives when the `derivatives` version moved or the cut-off did (venue polls).
A day's scenario labels are a function of the data up to that day's New York close (and of how finely the store
still holds that day's derivatives: the retention tier), so each closed day is evaluated once, stored in
`scenario_days` and read back afterwards; a write touching a date drops the labels it can change (store/sqlite.py).
Time travel then reads stored labels and computes only the days missing. The results equal the straightforward
replay (analytics/scenario_inputs.history), which tests/analytics/test_compute_once.py checks.

`AnalyticsCache` is plain data owned by its caller (the app keeps one); nothing here imports textual.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from common.calendar import AsOf, end_of_day
from common.records import ASSETS
from store import Store
from store.rows import DataVersion, ScenarioDay

from .dashboard import AnalyticsSettings, AssetView, DashboardViews, complete_views, flow_views
from .derivatives import Derivatives, load_derivatives, newest_stored, retention_tier
from .frames import AssetFrames, load_asset
from .scenario_inputs import (
    CompleteTotals,
    DayState,
    coinshares_prints,
    day_states,
    session_days,
    transitions,
)
from .scenarios import Inputs, Scenario, Transition, evaluate


@dataclass
class AnalyticsCache:
    """The last result of each part with the key it was computed at; a key that has not moved is a hit."""

    frames: tuple[Any, dict[str, AssetFrames]] | None = None
    views: tuple[Any, tuple[dict[str, AssetView], tuple[dt.date, ...]]] | None = None
    derivatives: tuple[Any, Derivatives] | None = None
    # Labels computed here but not (yet) in the store (read-only store, or the data moved while computing):
    # {date: (tier, {scenario id: state})}, valid while the data version is `labels_version`.
    labels_version: Any = None
    labels: dict[dt.date, tuple[int, dict[str, DayState]]] = field(default_factory=dict)
    # Closed days' derivatives ({date: (tier, band edges, trend %, Derivatives)}, the newest CLOSED_DAYS_KEPT): a
    # time-travel step's as-of day. Valid while the store holds that day's labels under `labels_key` at that tier:
    # every write that can change what the day's derivatives read drops its labels (store/sqlite.py _invalidate).
    closed: dict[dt.date, tuple[int, tuple[float, ...], float, Derivatives]] = field(default_factory=dict)
    labels_key: str | None = None
    computed: dict[str, int] = field(default_factory=dict)  # how many times each part really ran (tests, bench)
    # A superseded recompute's thread runs on (a thread cannot be cancelled): one at a time through the cache, so
    # labels computed at one data version are never filed under another.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _ran(self, part: str) -> None:
        self.computed[part] = self.computed.get(part, 0) + 1

    def _keep_closed(self, day: dt.date, tier: int, settings: AnalyticsSettings, derivs: Derivatives) -> None:
        self.closed[day] = (tier, settings.band_edges, settings.oi_trend_pct, derivs)
        for old in sorted(self.closed)[:-CLOSED_DAYS_KEPT]:
            del self.closed[old]


# How many closed days' derivatives the cache keeps (about 40 KB each): the month a trader steps back through.
CLOSED_DAYS_KEPT = 32


def _moving(version: DataVersion | None, part: str) -> Any:
    """The cache key for a part: its version, or a fresh object (never equal) when the store has no versions."""
    return getattr(version, part) if version is not None else object()


def market(
    store: Store, as_of: AsOf, settings: AnalyticsSettings, cache: AnalyticsCache, assets: tuple[str, ...] = ASSETS
) -> tuple[dict[str, AssetFrames], DashboardViews]:
    """compute_market through the cache: the frames and flow views only when the flows version moved (or the
    as-of date), the derivatives only when the derivatives version or the cut-off moved."""
    with cache.lock:
        return _market(store, as_of, settings, cache, assets)


def _market(
    store: Store, as_of: AsOf, settings: AnalyticsSettings, cache: AnalyticsCache, assets: tuple[str, ...]
) -> tuple[dict[str, AssetFrames], DashboardViews]:
    version = store.data_version()
    flows_key = (_moving(version, "flows"), assets)
    if cache.frames is None or cache.frames[0] != flows_key:
        cache.frames = (flows_key, {a: load_asset(store, a, tolerance=settings.flows) for a in assets})
        cache._ran("frames")
    frames = cache.frames[1]
    views_key = (flows_key, as_of.date, settings.streak_size_usd_m)
    if cache.views is None or cache.views[0] != views_key:
        cache.views = (views_key, flow_views(frames, as_of.date, streak_size_usd_m=settings.streak_size_usd_m))
        cache._ran("views")
    views, dates = cache.views[1]
    deriv_key = (_moving(version, "derivatives"), as_of.until, settings.band_edges, settings.oi_trend_pct)
    if cache.derivatives is None or cache.derivatives[0] != deriv_key:
        derivs = _closed_day(store, as_of, settings, cache, version)
        if derivs is None:
            derivs = load_derivatives(store, as_of.until, band_edges=settings.band_edges, trend_pct=settings.oi_trend_pct)
            cache._ran("derivatives")
        cache.derivatives = (deriv_key, derivs)
    return frames, DashboardViews(as_of, views, dates, cache.derivatives[1])


def _closed_day(
    store: Store, as_of: AsOf, settings: AnalyticsSettings, cache: AnalyticsCache, version: DataVersion | None
) -> Derivatives | None:
    """A closed as-of day's derivatives from the cache while the store still holds its labels at the same retention
    tier (nothing it reads has changed since), None otherwise. Computed here on a miss when its labels are stored
    and nothing wrote meanwhile, so a time-travel step back over stored days computes each day once."""
    day = as_of.date
    if as_of.following or as_of.until != end_of_day(day) or cache.labels_key is None or version is None:
        return None
    newest = newest_stored(store)
    tier = retention_tier(as_of.until, max(newest, as_of.until)) if newest else 0
    labelled = {r.tier for r in store.scenario_days(cache.labels_key) if r.date == day.isoformat()}
    if labelled != {tier}:
        return None
    have = cache.closed.get(day)
    if have is not None and have[:3] == (tier, settings.band_edges, settings.oi_trend_pct):
        return have[3]
    derivs = load_derivatives(store, as_of.until, band_edges=settings.band_edges, trend_pct=settings.oi_trend_pct, newest=newest)
    cache._ran("derivatives")
    if store.data_version() == version:  # computed from the data its labels were
        cache._keep_closed(day, tier, settings, derivs)
    return derivs


def scenario_key(scenarios: tuple[Scenario, ...], settings: AnalyticsSettings) -> str:
    """What stored labels were computed under: the scenario definitions and the settings the rules read."""
    text = repr((scenarios, settings.band_edges, settings.oi_trend_pct))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def scenario_history(
    store: Store,
    frames: dict[str, AssetFrames],
    scenarios: tuple[Scenario, ...],
    settings: AnalyticsSettings,
    *,
    until: dt.date,
    now: dt.datetime,
    cache: AnalyticsCache,
    live: Derivatives | None = None,
) -> tuple[Transition, ...]:
    """scenario_inputs.history, computing only the days with no valid stored labels. `live`: the derivatives
    already computed at `now` (the open day's cut-off), reused for it."""
    with cache.lock:
        return _scenario_history(store, frames, scenarios, settings, until, now, cache, live)


def _scenario_history(
    store: Store,
    frames: dict[str, AssetFrames],
    scenarios: tuple[Scenario, ...],
    settings: AnalyticsSettings,
    until: dt.date,
    now: dt.datetime,
    cache: AnalyticsCache,
    live: Derivatives | None,
) -> tuple[Transition, ...]:
    version = store.data_version()  # read before the data: labels are stored only if nothing wrote since
    key = scenario_key(scenarios, settings)
    ids = {s.id for s in scenarios}
    stored: dict[dt.date, tuple[int, dict[str, DayState]]] = {}
    for row in store.scenario_days(key):
        stored.setdefault(dt.date.fromisoformat(row.date), (row.tier, {}))[1][row.scenario] = DayState(row.label, row.marks)
    if version is None or cache.labels_version != (version, key):
        cache.labels_version, cache.labels = (version, key), {}
    if cache.labels_key != key:
        cache.labels_key, cache.closed = key, {}
    stored.update(cache.labels)
    newest = newest_stored(store)
    totals: CompleteTotals | None = None
    coinshares: dict[dt.date, float] | None = None
    days: list[tuple[dt.date, dict[str, DayState]]] = []
    fresh: list[ScenarioDay] = []
    computed_closed: list[tuple[dt.date, int, Derivatives]] = []
    for day in session_days(frames, until):
        cutoff = end_of_day(day, now)
        tier = retention_tier(cutoff, max(newest, cutoff)) if newest else 0
        have = stored.get(day)
        if have is not None and have[0] == tier and set(have[1]) == ids:
            days.append((day, have[1]))
            continue
        if totals is None:
            totals, coinshares = CompleteTotals(frames), coinshares_prints(store)
        if live is not None and cutoff == live.as_of:
            derivs: Derivatives | None = live
        else:
            derivs = load_derivatives(
                store, cutoff, band_edges=settings.band_edges, trend_pct=settings.oi_trend_pct, newest=newest
            )
        cache._ran("scenario_day")
        cache.closed.pop(day, None)  # relabelled: the data it read may have changed (kept again below if stored)
        usable = None if derivs is None or derivs.empty else derivs
        labels = day_states(evaluate(scenarios, Inputs(day, cutoff, totals.at(day), usable, coinshares or {})))
        days.append((day, labels))
        if cutoff == end_of_day(day):  # a closed day: final until a write drops it
            cache.labels[day] = (tier, labels)
            fresh.extend(ScenarioDay(day.isoformat(), sid, st.label, st.marks, tier) for sid, st in labels.items())
            if derivs is not None and derivs is not live:  # (live: read before `version`, maybe older data)
                computed_closed.append((day, tier, derivs))
    if fresh and store.put_scenario_days(key, fresh, computed_at=version):
        cache.labels = {}  # in the store now
        for day, tier, derivs in computed_closed[-CLOSED_DAYS_KEPT:]:  # stored with their labels: valid as long
            cache._keep_closed(day, tier, settings, derivs)
    return transitions(days, {s.id: s.name for s in scenarios})


def dashboard_views(
    store: Store,
    as_of: AsOf,
    settings: AnalyticsSettings,
    scenarios: tuple[Scenario, ...],
    now: dt.datetime,
    cache: AnalyticsCache,
) -> DashboardViews:
    """Everything the dashboard shows (the complete DashboardViews), each part recomputed only when its data moved."""
    frames, computed = market(store, as_of, settings, cache)
    return complete(store, frames, computed, settings, scenarios, now, cache)


def complete(
    store: Store,
    frames: dict[str, AssetFrames],
    computed: DashboardViews,
    settings: AnalyticsSettings,
    scenarios: tuple[Scenario, ...],
    now: dt.datetime,
    cache: AnalyticsCache,
) -> DashboardViews:
    """dashboard.complete_views with the scenario history through the cache and the stored labels."""

    # The history as of the market views' own cut-off: the same days' cut-offs (end_of_day(day, t) for every
    # day up to the as-of date), and the as-of day's is exactly the derivatives just computed, reused.
    def history(frames: dict[str, AssetFrames]) -> tuple[Transition, ...]:
        return scenario_history(
            store,
            frames,
            scenarios,
            settings,
            until=computed.as_of.date,
            now=min(now, computed.as_of.until),
            cache=cache,
            live=computed.derivatives,
        )

    return complete_views(store, frames, computed, settings, scenarios, now, history)
