"""The dashboard screen: the six panes' layout, the keys that move around them, and how the app's
current figures are drawn.

The App (tui/app.py) owns the wiring: the store, the source workers, the analytics worker and the figures it
receives. This screen owns what the trader sees and does: it reads the App's figures to draw them, and its
actions change what is shown (pane, asset, as-of date), asking the App to recompute when the date moves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from common.calendar import from_iso, new_york_today
from common.records import SourceState, SourceStatus, source_id

from . import format as fmt
from .bars import StatusBar, TitleBar
from .coinshares_form import CoinSharesForm
from .commands import bindings
from .context_pane import ContextPane
from .derivatives_pane import DerivativesPane
from .help import HelpScreen
from .panes import FlowTapePane, GaugePane, Pane, RecordsPane, TapeTable
from .scenarios_pane import ScenariosPane
from .sources_screen import SourcesScreen

if TYPE_CHECKING:
    from .app import FlowtapeApp


# Below this the dashboard is replaced by one line saying so; from here up every pane stays usable.
MIN_WIDTH, MIN_HEIGHT = 60, 20
# Narrower than this, side-by-side panes stack (a derivatives tile needs ~15 columns for its longest word).
NARROW_WIDTH = 100


class DashboardScreen(Screen[None]):
    BINDINGS = bindings()
    # A maximized pane keeps the title line (asset, as-of, DEMO) and the status bar (staleness) with it.
    ALLOW_IN_MAXIMIZED_VIEW = "#title, #status, Footer"

    @property
    def flowtape(self) -> FlowtapeApp:
        return cast("FlowtapeApp", self.app)

    # ---- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TitleBar(id="title")
        with VerticalScroll(id="main", can_focus=False):
            yield FlowTapePane("1 Flow tape", id="pane-1")
            with Horizontal(id="middle"):
                yield GaugePane("2 Month to date vs record", id="pane-2")
                yield RecordsPane("3 Records, streaks, weeks", id="pane-3")
            with Horizontal(id="lower"):
                yield DerivativesPane("4 Derivatives · BTC futures", id="pane-4")
                yield ScenariosPane("5 Scenarios", id="pane-5")
            yield ContextPane("6 Context", id="pane-6")
        yield StatusBar(id="status")
        yield Footer()
        yield Static("", id="too-small")

    def on_resize(self, event: events.Resize) -> None:
        self.fit_to(event.size.width, event.size.height)

    def fit_to(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "-too-small")
        self.set_class(width < NARROW_WIDTH, "-narrow")
        if small:
            self.query_one("#too-small", Static).update(
                f"flowtape needs at least {MIN_WIDTH}x{MIN_HEIGHT}; this terminal is {width}x{height}"
            )

    _scroll_before_maximize = 0.0

    def on_mount(self) -> None:
        self.fit_to(self.app.size.width, self.app.size.height)
        self.query_one(TapeTable).focus()
        self.show_title()
        self.flowtape.start()

    # ---- rendering (the App's current figures) -------------------------------------------------
    def render_views(self) -> None:
        app = self.flowtape
        with self.app.batch_update():
            self.render_market()
            self.query_one(ScenariosPane).show(app.scenario_results, app.transitions)
            self.query_one(ContextPane).show(app.trend, app.ledger, app.fed)

    def render_market(self) -> None:
        """The flow panes and the derivatives tiles: what start-up paints before the scenario history."""
        app = self.flowtape
        view = app.views.get(app.asset)
        self.query_one(FlowTapePane).show(view)
        self.query_one(GaugePane).show(view)
        self.query_one(RecordsPane).show(view, self._combined_weeks())
        self.query_one(DerivativesPane).show(app.derivatives, app.clock(), failing=self._venues_failing())
        self.show_title()
        self.mark_stale()

    def restyle(self) -> None:
        """Repaint every figure in the active theme's colours (the panes' views have not changed)."""
        for pane in self.query(Pane):
            pane.changed(object())  # forget what was shown: the next show() paints
        app = self.flowtape
        with self.app.batch_update():
            self.render_views()
            app.refresh_status()
            if isinstance(self.maximized, GaugePane):
                self.maximized.show_charts(app.views.get(app.asset))
            elif isinstance(self.maximized, DerivativesPane):
                self.maximized.show_chart(app.derivatives)

    def show_status(self, problems: tuple[str, ...]) -> None:
        """The status bar, the tiles' ages (they move by the minute) and the panes' stale marks."""
        app = self.flowtape
        now = app.clock()
        self.query_one(StatusBar).show(app.statuses, now, mode=app.badge_mode, paused=app.paused, problems=problems)
        self.show_collector()
        self.query_one(DerivativesPane).show(app.derivatives, now, failing=self._venues_failing())
        self.show_spot()
        self.mark_stale()

    def show_collector(self) -> None:
        """A viewer's collector health in the status bar (the app's follow loop judges it)."""
        app = self.flowtape
        self.query_one(StatusBar).show_collector(app.collector_words(), app.collector_problem is None)

    def show_spot(self) -> None:
        """BTC spot in the title, from the store (one indexed read): the poll that wrote it led here."""
        from analytics.spot import load_spot

        app = self.flowtape
        now = app.clock()
        try:
            spot = load_spot(app.store, now)
        except Exception:  # noqa: BLE001 - a store read failing must not take the screen down; the bar says why
            spot = None
        self.query_one(TitleBar).show_spot(spot, now)

    def _venues_failing(self) -> tuple[str, ...] | None:
        """Every derivatives venue's poll failing: their names (the tiles say so, not "no data yet"); else None."""
        from sources.registry import VENUE_IDS

        states = {sid: SourceStatus.from_row(row).state for sid, row in self.flowtape.statuses.items() if sid in VENUE_IDS}
        bad = (SourceState.OK, SourceState.STALE, SourceState.STARTING)
        if states and all(st not in bad for st in states.values()):
            return tuple(sorted(states))
        return None

    def show_title(self) -> None:
        app = self.flowtape
        self.query_one(TitleBar).show(
            asset=app.asset,
            as_of=app.effective_as_of(),
            following=app.as_of_pinned is None,
            mode=app.badge_mode,
            notice=app.notice,
        )

    def _combined_weeks(self) -> tuple[float | None, float | None] | None:
        views = self.flowtape.views
        if not views:
            return None

        def total(values: Iterable[float | None]) -> float | None:
            present = [v for v in values if v is not None]
            return round(sum(present), 1) if present else None

        reports = [v.report for v in views.values()]
        return total(r.week_to_date.total_usd_m for r in reports), total(r.last_week.total_usd_m for r in reports)

    def mark_stale(self) -> None:
        app = self.flowtape
        if app.analytics_problem:  # nothing on screen is current: every pane says why
            last = app.last_good_compute
            note = f"analytics failed; {f'figures as of {last:%H:%M UTC}' if last else 'no figures yet'}"
            for pane in self.query(Pane):
                pane.mark_stale(note)
            return
        if app.collector_problem:  # a viewer whose collector is silent (or absent): nothing on screen moves
            for pane in self.query(Pane):
                pane.mark_stale(app.collector_problem)
            return
        source_note = self._stale_note(app.asset)
        for pane in self.query(Pane):
            if isinstance(pane, (FlowTapePane, GaugePane, RecordsPane)):  # the others mark their own stale inputs
                pane.mark_stale(source_note)
            else:
                pane.mark_stale(None)

    def _stale_note(self, asset: str) -> str | None:
        app = self.flowtape
        row = app.statuses.get(source_id(asset))
        if not row:
            return None
        st = SourceStatus.from_row(row)
        last = from_iso(st.last_success)
        ago = f"last good {fmt.age((app.clock() - last).total_seconds())} ago" if last else "no good fetch yet"
        if app.mode == "offline":
            return f"offline, {ago}"
        if st.state in (SourceState.OK, SourceState.STARTING):
            return None
        return f"farside {asset} {st.state.value}, {ago}"

    # ---- actions (declared once in commands.py) -----------------------------------------------
    def action_focus_pane(self, n: int) -> None:
        if n == 1:
            self.query_one(TapeTable).focus()
        else:
            self.query_one(f"#pane-{n}", Pane).focus()

    def action_toggle_maximize(self) -> None:
        app = self.flowtape
        main = self.query_one("#main", VerticalScroll)
        if self.maximized is not None:
            was = self.maximized
            # Not Screen.minimize(): it re-centres the focused pane, so the compact layout came back scrolled
            # elsewhere than the trader left it. The charts are hidden by CSS outside the maximized view.
            self.maximized = None
            if isinstance(was, ScenariosPane):
                was.redraw()  # back to the compact form
            scroll_y = self._scroll_before_maximize
            self.call_after_refresh(main.scroll_to, y=scroll_y, animate=False, immediate=True)
            return
        self._scroll_before_maximize = main.scroll_y
        if self.focused is not None and self.maximize(self.focused):
            if isinstance(self.maximized, ScenariosPane):
                self.maximized.redraw()  # the full checklist
            if isinstance(self.maximized, GaugePane):
                self.maximized.show_charts(app.views.get(app.asset))
            elif isinstance(self.maximized, DerivativesPane):
                self.maximized.show_chart(app.derivatives)

    def action_asset(self, asset: str) -> None:
        app = self.flowtape
        if asset != app.asset:
            app.asset = asset
            self.render_views()
            gauge = self.query_one(GaugePane)
            if gauge.has_class("-maximized"):
                gauge.show_charts(app.views.get(app.asset))

    def action_step_as_of(self, step: int) -> None:
        app = self.flowtape
        current = app.effective_as_of()
        if step < 0:
            earlier = [d for d in app.dates if d < current]
            if not earlier:
                self.app.bell()
                return
            app.as_of_pinned = earlier[-1]
        else:
            if app.as_of_pinned is None:
                self.app.bell()
                return
            today = new_york_today(app.clock())
            later = [d for d in app.dates if current < d < today]
            app.as_of_pinned = later[0] if later else None  # reaching today: follow live data again
        self.show_title()
        app.recompute()

    def action_to_today(self) -> None:
        app = self.flowtape
        if app.as_of_pinned is not None:
            app.as_of_pinned = None
            self.show_title()
            app.recompute()

    def action_coinshares_form(self) -> None:
        app = self.flowtape
        if app.store.readonly:
            self.notify("the store is read-only here (another flowtape writes to it)", severity="error")
            return

        def save(values: tuple[dt.date, float, float | None] | None) -> None:
            if values is None:
                return
            week, total, btc = values
            replaced = app.store.add_coinshares(week, total, btc, entered_at=app.clock())
            self.notify(f"{'Replaced' if replaced else 'Recorded'} CoinShares week ending {week}: {total:+,.1f} US$m")
            app.recompute()

        self.app.push_screen(CoinSharesForm(new_york_today(app.clock())), save)

    def action_sources(self) -> None:
        from sources.registry import BY_ID

        app = self.flowtape
        labels = {sid: spec.label for sid, spec in BY_ID.items()}
        self.app.push_screen(SourcesScreen(app.statuses, labels, app.clock()))

    def action_help(self) -> None:
        store = self.flowtape.store
        self.app.push_screen(HelpScreen(store_path=store.location, mode=self.flowtape.mode, notices=list(store.notices)))
