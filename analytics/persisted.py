"""Persisted views: the dashboard's last complete computation, kept in the store so a start (or a viewer on a
desk's store) draws figures before polars loads, or without it at all (issues 14 and 15). No polars here.

One row in the store's `views` table per configuration: the key is `dashboard:` and a hash of what the figures
depend on besides the data (the analytics settings, the scenario definitions, the assets, the codec format). The
row's version says what they were computed from: the store's DataVersion, the as-of date, that they followed
today, and the STALE state (which venues' basis / funding / open interest and which Fed venues were shown stale).

`load` returns the views only when all of it matches now: the same data version (nothing written since), the
same New York date, following today, and the same STALE state *now*, recomputed from the views' own quote times
against the venues' staleness limits (the data version proves the store holds nothing newer), so a figure
shown fresh then but stale by now is never shown as current. Anything else (no row, another version, a payload
that does not decode exactly: analytics/codec.py) is "not usable", never "use anyway": the caller computes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import NamedTuple

from common.calendar import AsOf
from common.records import ASSETS
from sources import registry
from store import Store
from store.rows import DataVersion

from . import codec
from .scenarios import Scenario
from .settings import AnalyticsSettings
from .views import FED_STALE_AFTER, DashboardViews

log = logging.getLogger(__name__)

FORMAT = 1  # bump when a record in analytics/views.py changes shape: older rows then never match


class Computed(NamedTuple):
    """What persisted views were computed from (the store row's `version`, through the same strict codec)."""

    format: int
    data: tuple[int, ...]  # the store's DataVersion
    as_of: dt.date
    following: bool
    stale: tuple[str, ...]  # the parts shown stale (stale_parts), sorted


def slot(settings: AnalyticsSettings, scenarios: tuple[Scenario, ...], assets: tuple[str, ...] = ASSETS) -> str:
    """The store key: one row per configuration (a viewer configured differently never reads another's views)."""
    text = repr((FORMAT, settings, scenarios, assets))
    return "dashboard:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def shown_stale(views: DashboardViews) -> frozenset[str]:
    """The parts the views mark stale: 'basis deribit', 'oi cme', 'fed kalshi'..."""
    found = {f"{part} {v}" for part, entries in _venue_parts(views) for v, e in entries.items() if e.stale}
    if views.fed is not None:
        found |= {f"fed {v}" for v, o in views.fed.venues.items() if o.stale}
    return frozenset(found)


def stale_parts(views: DashboardViews, at: dt.datetime) -> frozenset[str]:
    """The parts that are stale at `at` by the staleness rule, from their own quote times: a venue's entry older
    than its limit (sources/registry stale_after_s, as analytics/derivatives applies it to today's figures),
    Fed odds older than FED_STALE_AFTER."""
    found = set()
    for part, entries in _venue_parts(views):
        for venue, entry in entries.items():
            limit = registry.stale_after_s(venue) if venue in registry.VENUE_IDS else None
            if limit is not None and (at - entry.as_of).total_seconds() > limit:
                found.add(f"{part} {venue}")
    if views.fed is not None:
        found |= {f"fed {v}" for v, o in views.fed.venues.items() if at - o.as_of > FED_STALE_AFTER}
    return frozenset(found)


def _venue_parts(views: DashboardViews) -> tuple[tuple[str, dict], ...]:
    d = views.derivatives
    return (("basis", d.basis), ("funding", d.funding), ("oi", d.open_interest))


def save(
    store: Store,
    computed: DashboardViews,
    *,
    version: DataVersion | None,
    settings: AnalyticsSettings,
    scenarios: tuple[Scenario, ...],
    assets: tuple[str, ...] = ASSETS,
) -> bool:
    """Persist a complete computation that followed today, read at data `version` (read before computing).
    False, and nothing written, when it cannot be reused safely: the store is read-only, it moved meanwhile, or
    the staleness rule here does not reproduce the views' own STALE marks."""
    if store.readonly or not computed.complete or not computed.as_of.following or version is None:
        return False
    if store.data_version() != version:  # written while computing: these views are already behind
        return False
    stale = shown_stale(computed)
    if stale_parts(computed, computed.as_of.until) != stale:
        log.warning("persisted views: not saved, the staleness rule disagrees with the views' STALE marks")
        return False
    try:
        payload = codec.dumps(computed, DashboardViews)
        meta = codec.dumps(Computed(FORMAT, tuple(version), computed.as_of.date, True, tuple(sorted(stale))), Computed)
    except codec.CodecError as exc:
        log.warning("persisted views: not saved: %s", exc)
        return False
    return store.put_views(slot(settings, scenarios, assets), meta, payload, computed_at=computed.as_of.until)


def load(
    store: Store,
    as_of: AsOf,
    settings: AnalyticsSettings,
    scenarios: tuple[Scenario, ...],
    *,
    now: dt.datetime,
    assets: tuple[str, ...] = ASSETS,
) -> DashboardViews | None:
    """The persisted views when they are exactly what computing now would show (see the module doc); else None."""
    try:
        return _load(store, as_of, settings, scenarios, now, assets)
    except codec.CodecError as exc:  # refused: treated as absent, and said in the log
        log.warning("persisted views refused: %s", exc)
        return None


def _load(
    store: Store,
    as_of: AsOf,
    settings: AnalyticsSettings,
    scenarios: tuple[Scenario, ...],
    now: dt.datetime,
    assets: tuple[str, ...],
) -> DashboardViews | None:
    if not as_of.following:  # only today's views are kept; a past day is computed
        return None
    row = store.views(slot(settings, scenarios, assets))
    version = store.data_version()
    if row is None or version is None:
        return None
    meta = codec.loads(row.version, Computed)
    if meta.format != FORMAT or meta.data != tuple(version) or meta.as_of != as_of.date or not meta.following:
        return None
    views = codec.loads(row.payload, DashboardViews)
    if not (views.complete and views.as_of.following and views.as_of.date == as_of.date):
        raise codec.CodecError("$: the views do not match their own version")
    stale = frozenset(meta.stale)
    if shown_stale(views) != stale:
        raise codec.CodecError("$: the views' STALE marks do not match their version")
    if stale_parts(views, now) != stale:  # something shown fresh then is stale now (or the clock went back)
        return None
    return views
