"""What the store's writer does, whoever it is: `flowtape collect` (collector/service.py) or the dashboard when it
is the writer (tui/app.py). One loop per enabled source on one httpx client, the poll outcomes noted, the views
recomputed after writes through one AnalyticsCache, the alerts decided once for the store and the alert command run.

No textual here, and nothing heavy at import: the dashboard builds a Writer before its first frame, so httpx (the
fetch path) and polars (the analytics) load only when the sources start and the first computation runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from common.calendar import AsOf
from common.config import AlertsConfig, Config
from common.records import SourceState
from store import Store
from store.rows import DataVersion

from .alerts import new_alerts, run_alert_command

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import httpx

    from analytics.alerts import Alert
    from analytics.cache import AnalyticsCache
    from analytics.dashboard import DashboardViews
    from analytics.scenarios import Scenario
    from sources.polling import PollOutcome
    from sources.registry import SourceSpec
    from sources.runner import SourceLoop

# A source in one of these states has told us its data will not come: the alerts need not wait for it.
FAILING = frozenset({SourceState.ERROR, SourceState.BLOCKED, SourceState.RATE_LIMITED, SourceState.BANNED})

Statuses = Mapping[str, Mapping[str, object]]  # Store.all_status(): source id -> its stored status


class Writer:
    def __init__(
        self, store: Store, *, clock: Callable[[], dt.datetime], transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.transport = transport
        self.loops: list[SourceLoop] = []
        self.alert_sources: set[str] = set()  # the polled sources whose data the alert conditions read
        self.polled: set[str] = set()  # sources with a poll completed since start
        self.durations: dict[str, float] = {}  # each source's last poll, seconds (the collector's log line)
        self.in_flight: set[str] = set()  # sources polling now (a stopping collector lets them finish)
        self.cache: AnalyticsCache | None = None  # last results by data version (analytics/cache.py)
        self._computed_from: DataVersion | None = None  # the data version the last computation started from
        self._client: httpx.AsyncClient | None = None

    # ---- sources ---------------------------------------------------------------------------
    def start_sources(self, config: Config, on_outcome: Callable[[PollOutcome], None]) -> list[SourceLoop]:
        """One loop per enabled source, all on one httpx client (one connection pool per host); the caller runs
        each loop's `run` (a Textual worker, an asyncio task). Nothing on a read-only store: it has a writer."""
        from sources import registry
        from sources.http import make_client
        from sources.runner import SourceLoop

        if self.store.readonly or self.loops:
            return self.loops
        self._client = make_client(self.transport)
        for source in registry.enabled(config):
            if source.kind in (registry.FLOWS, registry.DERIVATIVES):  # scenario conditions and flow alerts
                self.alert_sources.add(source.id)
            poll = partial(self._poll, source, config)
            self.loops.append(SourceLoop(source.id, poll, self.store, clock=self.clock, on_outcome=on_outcome))
        return self.loops

    async def _poll(self, source: SourceSpec, config: Config, now: dt.datetime) -> PollOutcome:
        from sources import registry

        assert self._client is not None, "sources start after the client is made"
        started = time.monotonic()
        self.in_flight.add(source.id)
        try:
            return await registry.poll(source, self._client, self.store, config, now=now)
        finally:
            self.in_flight.discard(source.id)
            self.durations[source.id] = time.monotonic() - started

    def heard(self, outcome: PollOutcome, before: Statuses, after: Statuses) -> bool:
        """Note a poll's outcome (`before`/`after`: the stored statuses before and after it). True when the views
        should be recomputed: it wrote, or it was the last source the alerts waited for, so the alerts it held
        back are decided on its data."""
        waiting = not self.alert_inputs_known(before)
        self.polled.add(outcome.source)
        return bool(outcome.sessions_written or outcome.revisions or (waiting and self.alert_inputs_known(after)))

    def alert_inputs_known(self, statuses: Statuses) -> bool:
        """Whether every polled source the alerts read has answered since start, or is known to be failing.
        Until then their stored data may be old only because flowtape was not running: after a while away
        the derivatives read as stale (conditions unknown) and a scenario 'changed' state for no reason."""
        waiting = self.alert_sources - self.polled
        return all(statuses.get(sid, {}).get("state") in FAILING for sid in waiting)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ---- analytics -------------------------------------------------------------------------
    async def compute(
        self,
        as_of: AsOf,
        config: Config,
        scenarios: tuple[Scenario, ...],
        *,
        on_market: Callable[[DashboardViews], object] | None = None,
    ) -> DashboardViews:
        """Every view as of `as_of`, in threads, each part recomputed only when its data moved (analytics/cache.py).
        `on_market`: called with the market views (the tape) before the scenario history, which takes longer."""
        await asyncio.to_thread(importlib.import_module, "analytics.cache")  # polars: ~100 ms, off the loop
        from analytics.cache import AnalyticsCache, complete
        from analytics.cache import market as compute_market
        from analytics.dashboard import AnalyticsSettings

        settings = AnalyticsSettings.of(config)
        cache = self.cache = self.cache or AnalyticsCache()
        # Read before the data: views are persisted only if nothing was written while they were computed.
        self._computed_from = await asyncio.to_thread(self.store.data_version)
        frames, market = await asyncio.to_thread(compute_market, self.store, as_of, settings, cache)
        if on_market is not None:
            on_market(market)
        return await asyncio.to_thread(complete, self.store, frames, market, settings, scenarios, self.clock(), cache)

    async def persist(self, computed: DashboardViews, config: Config, scenarios: tuple[Scenario, ...]) -> bool:
        """Keep the last computation's complete views in the store (analytics/persisted.py), so a start or a viewer
        draws them without computing; only for today, from a writable store. Failing costs that head start only."""
        if self.store.readonly or not computed.complete or not computed.as_of.following:
            return False
        from analytics.persisted import save
        from analytics.settings import AnalyticsSettings

        settings = AnalyticsSettings.of(config)
        try:
            return await asyncio.to_thread(
                save, self.store, computed, version=self._computed_from, settings=settings, scenarios=scenarios
            )
        except Exception:  # noqa: BLE001
            log.warning("persisted views: could not be saved", exc_info=True)
            return False

    # ---- alerts ----------------------------------------------------------------------------
    def new_alerts(
        self, computed: DashboardViews, statuses: Statuses, *, cfg: AlertsConfig, mode: str
    ) -> list[tuple[Alert, dict]]:
        """What fires now, each once for the store (collector/alerts.py new_alerts), from complete views as of the
        followed day. Nothing is decided (nor any scenario state remembered) when travelling back in time, on a
        read-only store (its writer decides) or before the inputs are known since start."""
        if not computed.complete or not computed.as_of.following or self.store.readonly:
            return []
        if not self.alert_inputs_known(statuses):
            return []
        return new_alerts(
            self.store, computed.scenario_results, computed.views, computed.as_of.date, cfg=cfg, mode=mode, now=self.clock()
        )


async def deliver(command: Sequence[str], payloads: Sequence[dict], report: Callable[[str], None]) -> None:
    """Run the alert command once per payload, in order, each supervised to its deadline; `report` gets each failure."""
    for payload in payloads:
        if problem := await run_alert_command(command, payload):
            report(problem)
