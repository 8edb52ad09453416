"""`flowtape collect`: the store's single writer, headless.

Every enabled source polls on its own schedule (sources/runner.py); after a poll that wrote, the views are
recomputed and the alerts decided, once per transition for the whole desk (the store's alert log dedupes across
processes and restarts), and the alert command runs. One log line per poll outcome; a heartbeat every
HEARTBEAT_S. `request_stop` (SIGTERM/SIGINT, cli/main.py) ends it: no poll starts after it, the polls in flight
finish (up to FINISH_POLLS_S; a second signal stops at once), then the computation in flight and the alert
commands running finish, and the caller closes the store. A poll's rows are written in one transaction, so
whenever it stops nothing is half-written; at worst a fetch still in flight is dropped and done again next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from common.calendar import AsOf
from common.config import Config
from common.logs import kv
from common.records import SourceState
from common.sanitize import clean
from store import Store

from .heartbeat import HEARTBEAT_S, ROLE, wall_clock
from .writer import Statuses, Writer, deliver

if TYPE_CHECKING:
    import httpx

    from analytics.dashboard import DashboardViews
    from sources.polling import PollOutcome

log = logging.getLogger(__name__)

_QUIET_STATES = (SourceState.OK, SourceState.STALE)  # logged at INFO; every other state at WARNING
# How long a stopping collector waits for the polls in flight (each bounded by its deadline, up to 60 s): under
# systemd's default TimeoutStopSec (90 s) with room for the computation and an alert command (10 s) after it.
FINISH_POLLS_S = 20.0
_WAIT_S = 0.05


class Collector:
    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        mode: str,
        clock: Callable[[], dt.datetime],
        scenarios: tuple = (),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        store.hold_when_full = True  # disk full or read-only: keep polling, hold writes, flush when writable
        self.store, self.config, self.mode, self.clock, self.scenarios = store, config, mode, clock, scenarios
        self.writer = Writer(store, clock=clock, transport=transport)
        self.started_at = wall_clock()
        self.statuses: Statuses = {}
        self.computations = 0
        self.problem: str | None = None  # the last computation failed: in the heartbeat's detail
        self._due = asyncio.Event()
        self._stop = asyncio.Event()  # asked to stop: no new poll
        self._hurry = asyncio.Event()  # asked again: stop the polls in flight too
        self._deliveries: set[asyncio.Task[None]] = set()
        self._notes_seen: set[str] = set()

    def request_stop(self) -> None:
        """The first call stops new polls and lets those in flight finish; a second stops them too."""
        if self._stop.is_set():
            self._hurry.set()
        self._stop.set()

    async def run(self) -> None:
        stop = self._stop
        self._read_statuses()
        self.beat()
        loops = self.writer.start_sources(self.config, self._on_outcome)
        tasks = [asyncio.create_task(loop.run(), name=f"source {loop.source_id}") for loop in loops]
        beating = asyncio.create_task(self._beat_every(HEARTBEAT_S), name="heartbeat")
        self._due.set()  # what the store holds, at once (the alerts wait for the sources: Writer.alert_inputs_known)
        closing = asyncio.Event()
        computing = asyncio.create_task(self._compute_when_due(closing), name="analytics")
        log.info("collect %s", kv(started=self.store.location, mode=self.mode, sources=len(loops)))
        try:
            await stop.wait()
            for loop in loops:  # no poll starts now
                loop.set_paused(True)
            await self._finish_polls()
        finally:
            await _cancel((*tasks, beating))
            closing.set()
            await asyncio.gather(computing, return_exceptions=True)  # a thread cannot be stopped: it finishes
            if self._deliveries:  # each bounded by the command deadline (collector/alerts.py)
                await asyncio.gather(*self._deliveries, return_exceptions=True)
            await self.writer.aclose()
            self.beat("stopped")
            log.info("collect %s", kv(stopped=self.store.location, polls=sum(loop.polls for loop in loops)))

    # ---- polls -----------------------------------------------------------------------------
    async def _finish_polls(self) -> None:
        if self.writer.in_flight:
            log.info("collect %s", kv(stopping=",".join(sorted(self.writer.in_flight)), note="finishing the polls in flight"))
        until = asyncio.get_running_loop().time() + FINISH_POLLS_S
        while self.writer.in_flight and not self._hurry.is_set() and asyncio.get_running_loop().time() < until:
            await asyncio.sleep(_WAIT_S)
        if self.writer.in_flight:
            log.warning("collect %s", kv(dropped=",".join(sorted(self.writer.in_flight)), note="polls still in flight, stopped"))

    def _read_statuses(self) -> Statuses:
        try:
            self.statuses = self.store.all_status()
        except Exception as exc:  # a store read failing must not end the collector: the next outcome reads again
            log.error("store %s", kv(error=clean(f"reading the source statuses: {exc}", max_len=300)))
        return self.statuses

    def _on_outcome(self, outcome: PollOutcome) -> None:
        before = self.statuses
        after = self._read_statuses()
        duration = self.writer.durations.get(outcome.source)
        log.log(
            logging.INFO if outcome.state in _QUIET_STATES and not outcome.skipped else logging.WARNING,
            "poll %s",
            kv(
                source=outcome.source,
                state=outcome.state.value,
                rows=outcome.sessions_written,
                revisions=outcome.revisions,
                duration_s=None if duration is None else f"{duration:.2f}",
                error=outcome.error,
                warning=outcome.warning,
                skipped="banned until the stored time" if outcome.skipped else None,
            ),
        )
        if self.writer.heard(outcome, before, after):
            self._due.set()

    # ---- heartbeat -------------------------------------------------------------------------
    def beat(self, detail: str | None = None) -> None:
        try:
            if self.store.disk_full and self.store.flush_held():
                log.warning("store %s", kv(note="the store can be written again: the held writes are stored"))
            problems = [p for p in (self.store.problem, self.problem) if p]
            self.store.beat(ROLE, now=wall_clock(), started_at=self.started_at, detail=detail or "; ".join(problems))
        except Exception as exc:  # the next beat tries again; viewers see the gap
            log.error("heartbeat %s", kv(error=clean(str(exc), max_len=300)))

    async def _beat_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.beat()

    # ---- analytics and alerts --------------------------------------------------------------
    async def _compute_when_due(self, closing: asyncio.Event) -> None:
        """One computation at a time; polls that write meanwhile ask for one more, which reads the store then.
        Once `closing` (no poll runs any more), what the last polls wrote is computed and alerted, then it ends."""
        closed = asyncio.create_task(closing.wait())
        try:
            while True:
                due = asyncio.create_task(self._due.wait())
                await asyncio.wait({due, closed}, return_when=asyncio.FIRST_COMPLETED)
                due.cancel()
                if not self._due.is_set():
                    return  # closing, and nothing left to compute
                self._due.clear()
                await self.compute()
        finally:
            closed.cancel()

    async def compute(self) -> None:
        started = time.monotonic()
        try:
            computed = await self.writer.compute(AsOf.at(None, self.clock()), self.config, self.scenarios)
        except Exception as exc:  # said once per distinct failure; the next write asks again
            problem = clean(f"analytics failed: {type(exc).__name__}: {exc}", max_len=300)
            if problem != self.problem:
                log.error("analytics %s", kv(error=problem))
            self.problem = problem
            return
        log.info("analytics %s", kv(computed_s=f"{time.monotonic() - started:.2f}"))
        if self.problem is not None:
            log.warning("analytics %s", kv(note="recovered"))
        self.problem = None
        self.computations += 1
        for note in computed.notices:  # bad stored rows set aside: each said once
            if note not in self._notes_seen:
                self._notes_seen.add(note)
                log.warning("store %s", kv(note=clean(note, max_len=300)))
        self._raise_alerts(computed)
        await self.writer.persist(computed, self.config, self.scenarios)  # what the viewers draw without computing

    def _raise_alerts(self, computed: DashboardViews) -> None:
        cfg = self.config.alerts
        try:
            fired = self.writer.new_alerts(computed, self.statuses, cfg=cfg, mode=self.mode)
        except Exception as exc:  # the store refused the alert log: said, and the next computation tries again
            log.error("alert %s", kv(error=clean(f"{type(exc).__name__}: {exc}", max_len=300)))
            return
        for alert, _ in fired:
            log.warning("alert %s", kv(key=alert.key, kind=alert.kind, title=clean(alert.title, max_len=200)))
        payloads = [payload for _, payload in fired]
        if cfg.command and payloads:

            def report(problem: str) -> None:
                log.error("alert %s", kv(error=problem))

            task = asyncio.create_task(deliver(cfg.command, payloads, report), name="alert command")
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)


async def _cancel(tasks: tuple[asyncio.Task[None], ...]) -> None:
    """Cancel until done: Python 3.11's wait_for (SourceLoop's sleep) drops a cancellation that lands as its inner
    wait completes (the pause just woke it), and the loop would sleep on."""
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=_WAIT_S)


@contextlib.contextmanager
def quiet_poll_log() -> Iterator[None]:
    """The collector's line per poll says what sources/polling.py's does, plus the duration: one line, not two
    (its debug traceback still shows with FLOWTAPE_LOG_LEVEL=DEBUG)."""
    polling = logging.getLogger("sources.polling")
    level = polling.level
    if logging.getLogger().level > logging.DEBUG:
        polling.setLevel(logging.ERROR)
    try:
        yield
    finally:
        polling.setLevel(level)
