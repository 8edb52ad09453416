"""The flowtape App: the wiring behind the dashboard screen (tui/dashboard.py).

It owns the store, one long-lived worker per source and the analytics worker. Data path: workers poll and
write the store -> the analytics worker reads it once, computes in threads and posts one ViewsComputed
message of frozen views -> its handler keeps them and has the screen draw them in one batch
(docs/ARCHITECTURE.md). What a writer does besides drawing (the source loops, the recompute, the alert
decision and the alert command) is collector/writer.py's, shared with `flowtape collect`; the toast and the
bell are the screen's. The screen shows what the store holds at once and never waits on the network.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import logging
import signal
import termios
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from collector.writer import Writer, deliver
from common.calendar import AsOf, new_york_today
from common.config import Config, default_state_path
from common.desk import HEARTBEAT_S, ROLE, CollectorHealth, collector_health, wall_clock
from common.records import DEMO_STORE_MARK
from store import Store

if TYPE_CHECKING:  # analytics (polars) and the fetch path (httpx) load after the first paint
    import httpx

    from analytics.dashboard import AssetView, DashboardViews
    from analytics.derivatives import Derivatives
    from analytics.fed import FedOdds
    from analytics.scenarios import Scenario, ScenarioResult, Transition
    from analytics.trend import Trend
    from sources.polling import PollOutcome
    from sources.runner import SourceLoop
    from store.rows import DataVersion, HeartbeatRow

from . import format as fmt
from . import theme
from .bars import collector_words
from .commands import COMMANDS
from .dashboard import DashboardScreen

log = logging.getLogger(__name__)

AGE_TICK_S = 15.0
# A viewer whose writer persists views waits this long for the new ones after a change (the writer computes
# after it commits) before computing them itself, which loads polars.
VIEWER_WAIT_S, VIEWER_RETRY_S = 3.0, 0.25
# While its collector beats, a viewer waits this long instead: the collector is computing those views, and twenty
# viewers each computing them as well (polars loaded, the whole history read) swamped the machine (desk test,
# PostgreSQL: most screens had not caught up after 30 s).
VIEWER_WAIT_LIVE_S = 30.0
# A viewer (read-only, live) asks the store whether anything was committed (Store.changed(), cheap) every
# store.follow_every_s (SQLite 2 s, PostgreSQL 0.25 s) and reads it only then: a new figure is on screen within
# that plus one recompute. FOLLOW_S: SQLite's, the longest.
FOLLOW_S = Store.follow_every_s
# A terminal that went away without SIGHUP is noticed within this (one tcgetattr call each time).
TERMINAL_CHECK_S = 5.0
_TERMINAL_FD = 0  # Textual's Linux driver reads keys from stdin


def _demo_store(store: Store) -> bool:
    """A store the demo wrote (a viewer of `flowtape collect --demo`): its figures are the demo's."""
    try:
        return store.meta(DEMO_STORE_MARK) == "1"
    except Exception:  # noqa: BLE001 - an unreadable store says so through its reads
        return False


def _terminal_gone(fd: int) -> bool | None:
    """True when `fd` was a terminal whose other end is gone (tcgetattr fails with EIO), False while it is a
    terminal, None when it is not a terminal at all (piped, closed)."""
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return True if exc.args and exc.args[0] == errno.EIO else None
    except (OSError, ValueError):
        return None
    return False


class ViewsComputed(Message):
    """One recompute's frozen results (analytics.dashboard.DashboardViews), posted by the analytics worker."""

    def __init__(self, computed: DashboardViews) -> None:
        super().__init__()
        self.computed = computed
        self.applied = asyncio.Event()  # set by the handler: the worker waits for it


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FlowtapeApp(App[None]):
    CSS_PATH = Path(__file__).parent / "flowtape.tcss"
    TITLE = "flowtape"

    def __init__(
        self,
        *,
        store: Store,
        config: Config,
        mode: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], dt.datetime] = system_clock,
        notice: str | None = None,
        start_sources: bool = True,
        scenarios: tuple[Scenario, ...] = (),
        state_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.state_path = state_path or default_state_path()
        for t in theme.THEMES.values():
            self.register_theme(t)
        self.theme = theme.initial_theme(config, self.state_path)
        self._theme_shown = self.theme
        theme.set_palette(self.current_theme)
        self.scenarios = scenarios
        self.store = store
        store.hold_when_full = True  # disk full or read-only: keep polling, hold writes in memory, flush when writable
        self.config = config
        self.mode = mode
        self.badge_mode = "demo" if mode == "demo" or _demo_store(store) else mode  # what the bars say (DEMO)
        self.transport = transport
        self.clock = clock
        self.notice = notice
        self.start_sources = start_sources and mode != "offline"
        self.asset = "btc"
        self.as_of_pinned: dt.date | None = None  # None: follow today
        self.views: dict[str, AssetView] = {}
        self.derivatives: Derivatives | None = None
        self.scenario_results: tuple[ScenarioResult, ...] = ()
        self.transitions: tuple[Transition, ...] = ()
        # The sources, the analytics cache and the alert decision (the clock read through, as tests may set it).
        self.writer = Writer(store, clock=lambda: self.clock(), transport=transport)
        self.alerts_fired: list = []
        self.trend: Trend | None = None
        self.fed: FedOdds | None = None
        self.ledger: dict[str, Any] | None = None
        self.dates: tuple[dt.date, ...] = ()
        self.statuses: dict[str, dict] = {}
        self.paused = False
        self.loops: list[SourceLoop] = []
        self.computations = 0
        self._computing = False  # an analytics worker is running (recompute)
        self._compute_pending = False  # and another computation has been asked for since it started
        self.analytics_problem: str | None = None  # the last recompute failed: what the screen says
        self.data_problem: str | None = None  # bad stored rows set aside by the last recompute
        self._bad_rows_seen: set[str] = set()
        self.last_good_compute: dt.datetime | None = None
        self._dashboard: DashboardScreen | None = None
        self._first_frame = asyncio.Event()  # set once the work deferred past the first frame has started
        self.persisted_shown = False  # the start-up frame came from persisted views (analytics/persisted.py)
        self._persisted_seen = False  # this store's writer persists views (a viewer waits for them)
        # A viewer: another process collects into the store (or none does); this screen follows it.
        self.following = store.readonly and mode == "live"
        self.follow_checks = 0  # the follow loop's checks so far (tests wait on it instead of sleeping)
        self._seen_version: DataVersion | None = None  # the data version the last recompute was asked for
        self.heartbeat: HeartbeatRow | None = None  # the collector's, as last read
        self.collector: CollectorHealth | None = None
        self._collector_seen_alive = False
        self.collector_problem: str | None = None  # a viewer's collector silent or absent: why every figure is stale
        # Beats are stamped and judged in wall time (common/desk.py), whatever clock the figures run on (tests set it).
        self.beat_clock: Callable[[], dt.datetime] = wall_clock
        self._started_at = wall_clock()

    # ---- wiring ----------------------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        self._dashboard = DashboardScreen(id="dashboard")
        return self._dashboard

    @property
    def dashboard(self) -> DashboardScreen:
        """The one dashboard screen (drawn to even while a modal such as help sits on top of it)."""
        assert self._dashboard is not None, "the dashboard is made when the app starts"
        return self._dashboard

    def start(self) -> None:
        """Called by the dashboard once its panes exist: draw what the store holds, then start polling."""
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for note in self.store.notices:  # read-only second instance, a corrupt file moved aside
            self.notify(fmt.safe(note, max_len=300).plain, severity="warning", timeout=15)
        if self.following:
            self._read_collector()
        self.refresh_status()
        self.set_interval(AGE_TICK_S, self.refresh_status, name="age ticker")
        if self.following:
            self.set_interval(self.store.follow_every_s, self.follow, name="follow the store")
        elif self.mode == "live" and self.start_sources and not self.store.readonly:  # this screen collects
            self.set_interval(HEARTBEAT_S, self._beat, name="heartbeat")
        if not self.is_headless:
            try:  # the terminal went away (SSH dropped) or we are told to stop: exit cleanly, terminal restored
                for sig in (signal.SIGHUP, signal.SIGTERM):
                    asyncio.get_running_loop().add_signal_handler(sig, self.exit)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
            if _terminal_gone(_TERMINAL_FD) is False:  # a terminal now: watch that it stays
                self.set_interval(TERMINAL_CHECK_S, self._exit_if_terminal_gone, name="terminal watch")
        # The first frame goes out before polars (the analytics) and httpx (the fetch path) are imported: their
        # ~150 ms would hold it back. It has figures when the store keeps views that are exactly current.
        self._show_persisted()
        self.call_after_refresh(self._after_first_frame)

    def _show_persisted(self) -> None:
        """The last complete computation persisted in the store, drawn when its key matches now (same data
        version, date and STALE state: analytics/persisted.py). Reading it loads no polars."""
        views = self._load_persisted(AsOf.at(self.as_of_pinned, self.clock()))
        if views is not None:
            self.persisted_shown = True
            self._apply(views, persisted=True)

    def _load_persisted(self, as_of: AsOf) -> DashboardViews | None:
        from analytics.persisted import load
        from analytics.settings import AnalyticsSettings

        try:
            views = load(self.store, as_of, AnalyticsSettings.of(self.config), self.scenarios, now=self.clock())
        except Exception:  # noqa: BLE001 - a store read failing: compute as without persisted views
            log.warning("persisted views: could not be read", exc_info=True)
            return None
        self._persisted_seen |= views is not None
        return views

    def _after_first_frame(self) -> None:
        if self.following:  # what the first computation reads: a commit after this is followed
            self._note_version()
        # What the store holds, at once; a viewer showing its writer's current views has nothing to compute.
        if not (self.persisted_shown and self.store.readonly):
            self.recompute()
        if self.start_sources:
            self._start_sources()
            if not self.store.readonly and self.mode == "live":
                self._run(self._beat, name="heartbeat", group="heartbeat", exit_on_error=False)  # viewers know at once
        self._first_frame.set()

    async def on_unmount(self) -> None:
        await self.writer.aclose()

    # ---- sources ---------------------------------------------------------------------------
    def _start_sources(self) -> None:
        self.loops = self.writer.start_sources(self.config, self._on_outcome)  # none on a read-only store
        for loop in self.loops:
            self._run(loop.run, name=f"source {loop.source_id}", group="sources", exit_on_error=False)

    def _run(self, work: Callable[[], Awaitable[None]], **kwargs: Any) -> Worker[None]:
        """run_worker for the app's coroutine functions (Textual types the work as returning Never)."""
        return self.run_worker(work, **kwargs)  # type: ignore[arg-type]

    def _on_outcome(self, outcome: PollOutcome) -> None:
        before = self.statuses
        self.refresh_status()
        if self.writer.heard(outcome, before, self.statuses):  # it wrote, or the alerts waited for it
            self.recompute()

    def alert_inputs_known(self) -> bool:
        """Every source the alerts read has answered since start or is known to be failing (Writer.alert_inputs_known)."""
        return self.writer.alert_inputs_known(self.statuses)

    def refresh_status(self) -> None:
        try:
            if self.store.disk_full and self.store.flush_held():
                self.notify("the store can be written again: the held writes are stored", timeout=10)
            self.statuses = self.store.all_status()
        except Exception as exc:  # a store read failing must not take the screen down
            self.notify(fmt.safe(f"store: {exc}").plain, severity="error")
        problems = tuple(p for p in (self.store.problem, self.analytics_problem, self.data_problem) if p)
        self.dashboard.show_status(problems)

    # ---- analytics (off the event loop; results arrive as one message) ----------------------------
    def effective_as_of(self) -> dt.date:
        return self.as_of_pinned or new_york_today(self.clock())

    def derivatives_as_of(self) -> dt.datetime:
        """Now, or the end of the pinned New York day when travelling back."""
        return AsOf.at(self.as_of_pinned, self.clock()).until

    def recompute(self) -> None:
        """Ask for the figures as of now and the current as-of date. Coalesced: at most one computation runs
        and at most one waits; asking again while one waits changes nothing, since the waiting one reads the
        as-of date and the clock when it starts. A computation runs in a thread, which cannot be stopped:
        cancelling its worker (Textual's exclusive=True) left it running beside its replacement."""
        self._compute_pending = True
        if not self._computing:
            self._computing = True
            self._run(self._compute_while_pending, name="analytics", group="analytics", exit_on_error=False)

    async def _compute_while_pending(self) -> None:
        try:
            while self._compute_pending:
                self._compute_pending = False
                try:
                    await self._compute()
                except Exception as exc:  # reported on screen; a request that came meanwhile still runs
                    self._analytics_failed(exc)
        finally:  # no await between the last check and this: a recompute() can never find it half-ended
            self._computing = False

    async def _compute(self) -> None:
        """Read the store and compute in threads, post the frozen results; the handler applies them. A viewer
        (read-only store) following today takes its writer's persisted views when they are current, and loads
        polars only when they are not (or for a past day). A writer persists each complete computation."""
        as_of = AsOf.at(self.as_of_pinned, self.clock())
        if self.store.readonly and as_of.following:
            waited = 0.0
            while (views := await asyncio.to_thread(self._load_persisted, as_of)) is None and self._persisted_seen:
                if waited >= (VIEWER_WAIT_LIVE_S if self.collector is not None and self.collector.ok else VIEWER_WAIT_S):
                    break
                await asyncio.sleep(VIEWER_RETRY_S)
                waited += VIEWER_RETRY_S
            if views is not None:
                await self._post(views)
                return
        # Start-up with nothing drawn yet: the tape first; scenario history takes longer (~0.3 s).
        starting = not self.computations and not self.persisted_shown
        first = (lambda market: self.post_message(ViewsComputed(market))) if starting else None
        full = await self.writer.compute(as_of, self.config, self.scenarios, on_market=first)
        await self._post(full)
        await self.writer.persist(full, self.config, self.scenarios)  # after the paint: encoding takes ~50 ms

    async def _post(self, computed: DashboardViews) -> None:
        message = ViewsComputed(computed)
        self.post_message(message)
        await message.applied.wait()  # the worker ends when the screen shows its results (settle() relies on it)

    def on_views_computed(self, message: ViewsComputed) -> None:
        """The one place computed views reach the screen: assigned together, painted in one batch."""
        computed = message.computed
        try:
            self._apply(computed)
        finally:
            message.applied.set()

    def _apply(self, computed: DashboardViews, *, persisted: bool = False) -> None:
        """`persisted`: the start-up frame from persisted views, drawn as they are; counted as no computation and
        deciding no alert (the computation that follows does both)."""
        self.views, self.dates, self.derivatives = computed.views, computed.dates, computed.derivatives
        if not computed.complete:
            with self.batch_update():
                self.dashboard.render_market()
            return
        self.scenario_results, self.transitions = computed.scenario_results, computed.transitions
        self.ledger, self.trend, self.fed = computed.ledger, computed.trend, computed.fed
        if persisted:
            self._note_bad_rows(computed.notices)
            self.last_good_compute = computed.as_of.until
            self.dashboard.render_views()
            self.refresh_status()
            return
        self.computations += 1
        self._note_bad_rows(computed.notices)
        if self.analytics_problem is not None:
            self.analytics_problem = None
            self.notify("analytics recovered: the figures are current again", timeout=5)
        self.last_good_compute = self.clock()
        self.dashboard.render_views()
        self.refresh_status()
        self._raise_alerts(computed)

    def _note_bad_rows(self, notices: tuple[str, ...]) -> None:
        """Stored rows the analytics set aside (analytics/rows.py): each notice shown once, the count in the bar."""
        for note in notices:
            if note not in self._bad_rows_seen:
                self._bad_rows_seen.add(note)
                self.notify(fmt.safe(note, max_len=300).plain, severity="warning", timeout=20)
        count = sum(int(n.split()[1]) if n.split()[1].isdigit() else 1 for n in notices)
        self.data_problem = f"STORE: {count} bad row{'s' if count != 1 else ''} set aside (see notices)" if notices else None

    def _analytics_failed(self, exc: Exception) -> None:
        when = self.clock().strftime("%H:%M UTC")
        last = self.last_good_compute
        since = f"figures as of {last:%H:%M UTC}" if last else "no figures computed yet"
        problem = fmt.safe(f"ANALYTICS FAILED {when}: {type(exc).__name__}: {exc}; {since}", max_len=200).plain
        if problem.split(": ", 1)[-1] != (self.analytics_problem or "").split(": ", 1)[-1]:
            self.notify(problem, severity="error", timeout=20)  # once per distinct failure, not every retry
        self.analytics_problem = problem
        self.refresh_status()

    def _raise_alerts(self, computed: DashboardViews) -> None:
        """Deliver what the writer's alert policy (Writer.new_alerts) says fires now: toast, bell, the command.
        Nothing when travelling back, on a read-only store or before the inputs are known since start."""
        cfg = self.config.alerts
        fired = self.writer.new_alerts(computed, self.statuses, cfg=cfg, mode=self.mode)
        for alert, _ in fired:
            self.alerts_fired.append(alert)
            if cfg.toast:
                self.notify(
                    fmt.safe(alert.message, max_len=300).plain, title=fmt.safe(alert.title).plain, severity="warning", timeout=20
                )
            if cfg.bell:
                self.bell()
        payloads = [payload for _, payload in fired]
        if cfg.command and payloads:
            report = partial(self.notify, severity="error", timeout=20)
            # Its own worker, outside the analytics worker: the command's supervision outlives the computation.
            self._run(
                partial(deliver, cfg.command, payloads, report), name="alert command", group="alert-commands", exit_on_error=False
            )

    async def settle(self) -> None:
        """Wait for pending analytics, applied on screen (tests and benchmarks await this instead of sleeping)."""
        await self._first_frame.wait()  # the start-up computation is asked for after the first frame
        while pending := [w for w in self.workers if w.group == "analytics" and not w.is_finished]:
            # Never pass an empty list: Textual then waits for every worker, source loops included.
            for worker in pending:
                try:
                    await worker.wait()
                except (WorkerCancelled, WorkerFailed):
                    pass  # the app is closing (its failures are reported by _compute_while_pending)

    def _exit_if_terminal_gone(self) -> None:
        """A terminal closed without SIGHUP (a pty master closed by a harness, a multiplexer killed) reads as
        end-of-file for ever, and Textual's input thread then spins a core at 100 %. Exit as on SIGHUP."""
        if _terminal_gone(_TERMINAL_FD):
            log.warning("the terminal went away without a hangup signal: exiting")
            self.exit()

    # ---- a desk on one store: the collector beats, viewers follow (issue 15) ---------------------------
    async def _beat(self) -> None:
        """The collecting screen's heartbeat, every HEARTBEAT_S: viewers of the store call it silent without it."""
        try:
            await asyncio.to_thread(self.store.beat, ROLE, now=self.beat_clock(), started_at=self._started_at)
        except Exception:  # noqa: BLE001 - disk full or the file gone: the status bar says so already; beat next time
            pass

    def follow(self, *, force: bool = False) -> None:
        """A viewer's check, every FOLLOW_S: after another process committed (Store.changed()), re-read the
        statuses and the heartbeat, and recompute only when a data version moved (the analytics cache
        recomputes only the parts that moved). The collector's health is judged every check: silence is the
        absence of commits. `force` (the r key) reads and recomputes whatever changed() says. Paused: nothing."""
        if self.paused and not force:
            return
        self.follow_checks += 1
        read = force
        try:
            read = self.store.changed() or force
            if read:
                if self._note_version() or force:
                    self.recompute()
                self.heartbeat = self.store.heartbeat()
        except Exception as exc:  # noqa: BLE001 - a store read failing must not take the screen down
            self.notify(fmt.safe(f"store: {exc}").plain, severity="error")
        flipped = self._judge_collector()
        if read or flipped:
            self.refresh_status()  # the statuses, the collector's health, the stale marks
        else:
            self.dashboard.show_collector()  # its age only

    def _note_version(self) -> bool:
        """Read the data version; True when it moved since the last read (or cannot be known)."""
        version = self.store.data_version()
        moved = version is None or version != self._seen_version
        self._seen_version = version
        return moved

    def _read_collector(self) -> None:
        try:
            self.heartbeat = self.store.heartbeat()
        except Exception:  # noqa: BLE001 - an unreadable store is reported by the reads that follow
            self.heartbeat = None
        self._judge_collector()

    def _judge_collector(self) -> bool:
        """The collector's health from the heartbeat last read, against our clock; True when the verdict changed
        (silent / absent <-> beating), said once in a notice."""
        health = self.collector = collector_health(self.heartbeat.beat_at if self.heartbeat else None, self.beat_clock())
        self._collector_seen_alive |= health.ok
        problem = None if health.ok else self.collector_words()
        if problem == self.collector_problem:
            return False
        was_silent, self.collector_problem = self.collector_problem, problem
        if health.ok:
            if was_silent:
                self.notify("the collector is beating again: the figures follow the store", timeout=5)
        elif self._collector_seen_alive and problem:
            self.notify(f"{problem}: every figure is stale until it beats again", severity="error", timeout=20)
        return True

    def collector_words(self) -> str | None:
        """'collector ok, 12s' / 'collector silent since 10:42 UTC' / 'no collector: ...'; None unless a viewer."""
        if not self.following or self.collector is None:
            return None
        return collector_words(self.collector, seen_alive=self._collector_seen_alive, now=self.beat_clock())

    # ---- source control (the screen's own actions are in tui/dashboard.py) -----------------------
    def action_refresh_now(self) -> None:
        if self.following:  # a viewer polls nothing: it re-reads the store
            self.follow(force=True)
            self.notify("Re-reading the store now", timeout=2)
            return
        for loop in self.loops:
            loop.refresh_now()
        self.notify("Refreshing every source now", timeout=2)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        for loop in self.loops:
            loop.set_paused(self.paused)
        if self.following:  # the screen stops, the desk does not
            if self.paused:
                self.notify("Screen paused: not following the store (the collector carries on); p resumes", timeout=5)
            else:
                self.follow()
        self.refresh_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("refresh_now", "toggle_pause") and not (self.loops or self.following):
            return None  # offline, demo read-only or disabled: shown greyed out
        return True

    def _theme_changed(self, new: Theme) -> None:
        """The palette picked a theme: recolour every figure now, and remember it for the next start."""
        if new.name == self._theme_shown:  # also published for the start-up theme, which is no choice to remember
            return
        self._theme_shown = new.name
        theme.set_palette(new)
        theme.remember(self.state_path, new.name)
        self.dashboard.restyle()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own Quit, Keys and Maximize/Minimize duplicate flowtape's commands below (listed twice).
        yield SystemCommand("Theme", "Change the colour theme (remembered for the next start)", self.action_change_theme)
        yield from (c for c in super().get_system_commands(screen) if c.title == "Screenshot")
        for c in COMMANDS:
            yield SystemCommand(c.label, c.help, partial(self.run_action, c.action, self.dashboard))
