"""The title line (asset, as-of date, mode, BTC spot) and the status bar (a summary of the sources, then the
one detail that matters most; every source in full on the sources screen).

Both are rows of small widgets: an age ticking repaints only its own few cells, never the whole line, and
only when its text changed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from common.calendar import from_iso
from common.desk import CollectorHealth
from common.records import SourceState, SourceStatus

from . import format as fmt
from .paint import update_if_changed
from .theme import palette

if TYPE_CHECKING:
    from analytics.spot import Spot

MODE_BADGES = {"demo": "DEMO", "offline": "OFFLINE"}


class Bar(Horizontal):
    """A one-line row of small Statics, each repainted on its own."""

    @property
    def text(self) -> str:
        """The whole line as shown (tests and the headless snapshot read it)."""
        return "".join(_shown[w].plain for w in self.query(Static) if w in _shown)


class TitleBar(Bar):
    def compose(self) -> ComposeResult:
        yield Static("", id="title-main")
        yield Static("", id="title-spot")

    def show(self, *, asset: str, as_of: dt.date, following: bool, mode: str, notice: str | None) -> None:
        out, pal = Text(), palette()
        out.append(" flowtape ", style="bold reverse")
        out.append("  ")
        for a in ("btc", "eth", "sol"):
            out.append(f" {a.upper()} ", style="bold reverse" if a == asset else "dim")
        out.append("   as of ")
        out.append(fmt.day(as_of), style="bold")
        out.append(
            " (latest)" if following else " (time travel: ] forward, t today)", style="dim" if following else "bold yellow"
        )
        badge = MODE_BADGES.get(mode)
        if badge:
            out.append("   ")
            out.append(f" {badge} ", style=f"{pal.warn} bold reverse")
            if notice:
                out.append(" " + notice, style=pal.warn)
        _update(self.query_one("#title-main", Static), out)

    def show_spot(self, spot: Spot | None, now: dt.datetime) -> None:
        _update(self.query_one("#title-spot", Static), spot_text(spot, now))


def spot_text(spot: Spot | None, now: dt.datetime) -> Text:
    """' BTC $87,715 ▼2.1% 24h · 3m ' (age of the price); stale: the age in reverse yellow with STALE."""
    out, pal = Text("  BTC ", style="bold"), palette()
    if spot is None:
        out.append("spot -  ", style="dim")
        return out
    out.append(f"${spot.price:,.0f} ", style="bold")
    change = spot.change_24h_pct
    if change is None:
        out.append("24h - ", style="dim")
    else:
        out.append(
            f"{fmt.arrow(change)}{abs(change):.1f}% 24h ", style=pal.down if change < 0 else pal.up if change > 0 else "dim"
        )
    age = fmt.age((now - spot.as_of).total_seconds())
    if spot.stale:
        out.append(f" STALE {age} ", style=f"{pal.stale} bold reverse")
        out.append(" ")
    else:
        out.append(f"· {age} ", style="dim")
    return out


# ---- the status bar -----------------------------------------------------------------------------------
# How bad a state is, worst first: the summary counts in this order and the detail names the worst source.
SEVERITY = (
    SourceState.ERROR,
    SourceState.BANNED,
    SourceState.BLOCKED,
    SourceState.RATE_LIMITED,
    SourceState.STALE,
    SourceState.STARTING,
    SourceState.OK,
)
# The flows are the screen's reason to exist: a flow source in trouble is named before any venue.
FLOW_PREFIX = "farside_"


def summary(statuses: Mapping[str, Mapping[str, object]]) -> str:
    """'13 sources: 11 ok, 1 blocked, 1 error': ok first, then the others worst last."""
    counts = Counter(SourceStatus.from_row(row).state for row in statuses.values())
    n = len(statuses)
    parts = [f"{counts[s]} {s.value}" for s in reversed(SEVERITY) if counts[s]]
    return f"{n} source{'s' if n != 1 else ''}: {', '.join(parts)}"


def worst(statuses: Mapping[str, Mapping[str, object]]) -> str | None:
    """The source most worth a trader's attention: a flow source before a venue, then the worst state."""
    troubled = [(sid, SourceStatus.from_row(row).state) for sid, row in statuses.items()]
    troubled = [(sid, st) for sid, st in troubled if st not in (SourceState.OK, SourceState.STARTING)]
    if not troubled:
        return None
    return min(troubled, key=lambda x: (not x[0].startswith(FLOW_PREFIX), SEVERITY.index(x[1]), x[0]))[0]


# Raw errors as the network stack words them -> what a trader can act on. First match wins.
_PLAIN: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), words)
    for p, words in (
        (
            r"name or service not known|temporary failure in name resolution|nodename nor servname|getaddrinfo failed"
            r"|no address associated",
            "cannot resolve host (no network or DNS)",
        ),
        (r"network is unreachable|no route to host", "no network route to the host"),
        (r"connection refused", "the host refused the connection"),
        (r"connection reset|server disconnected|remote ?protocol", "the host dropped the connection"),
        (r"certificate|ssl|tls", "secure connection failed (certificate or TLS)"),
        (r"timed out|no complete answer within", "no answer in time"),
        (r"bot challenge", "blocked by the site's bot check"),
        (r"HTTP 4(29|18)|too frequent", "rate-limited by the host"),
        (r"HTTP 5\d\d", "the host's server failed"),
        (r"HTTP 404", "address not found on the host (HTTP 404)"),
        (r"HTTP 40[13]", "access refused by the host"),
    )
)


def plain_error(raw: str | None) -> str | None:
    """A stored last error in plain words, keeping the HTTP status where there is one; unknown wording
    (a refused field, say) is already plain and is kept as is."""
    if not raw:
        return None
    for pattern, words in _PLAIN:
        if pattern.search(raw):
            code = re.search(r"HTTP \d{3}", raw)
            return f"{words} ({code.group(0)})" if code and code.group(0) not in words else words
    return raw


def retry_in(st: SourceStatus, now: dt.datetime) -> str | None:
    retry = from_iso(st.ban_until) or from_iso(st.next_attempt)
    return fmt.age((retry - now).total_seconds()) if retry and retry > now else None


def source_text(sid: str, row: Mapping[str, object], now: dt.datetime, *, brief: bool = False) -> Text:
    """'farside btc: ok, 12m' / 'cme: blocked, retry 4m (blocked by the site's bot check (HTTP 403))'."""
    st = SourceStatus.from_row(row)
    out = Text()
    out.append_text(fmt.safe(sid.replace("_", " "), max_len=30))
    out.append(": ")
    out.append(st.state.value, style=state_style(st.state))
    last = from_iso(st.last_success)
    if st.state in (SourceState.OK, SourceState.STALE):
        if last:
            out.append(f", {fmt.age((now - last).total_seconds())}")
        return out
    retry = retry_in(st, now)
    if retry:
        out.append(f", retry {retry}")
    error = plain_error(st.last_error)
    if error and not brief:
        out.append(" (")
        out.append_text(fmt.safe(error, max_len=80))
        out.append(")")
    if last and not brief:
        out.append(f", data {fmt.age((now - last).total_seconds())} old", style="dim")
    return out


class StatusBar(Bar):
    """[DEMO][PAUSED][problems] 13 sources: 11 ok, 1 blocked · the worst source ... BTC 12m ETH 12m SOL 12m"""

    def compose(self) -> ComposeResult:
        yield Static("", id="status-badges")
        yield Static("", id="status-collector")  # a viewer's: the collector's health (empty on the collecting screen)
        yield Static("", id="status-summary")
        yield Static("", id="status-detail")
        for asset in ("btc", "eth", "sol"):
            yield Static("", id=f"status-age-{asset}", classes="status-age")

    def show(
        self, statuses: dict[str, dict], now: dt.datetime, *, mode: str, paused: bool, problems: tuple[str, ...] = ()
    ) -> None:
        badges, pal = Text(), palette()
        badge = MODE_BADGES.get(mode)
        if badge:  # first, so a narrow terminal can never cut it off
            badges.append(f" {badge} ", style=f"{pal.warn} bold reverse")
        if paused:
            badges.append(" PAUSED ", style="bold reverse")
        for problem in problems:  # data not stored, figures not recomputed: said before any source
            badges.append_text(fmt.safe(f" {problem} ", f"{pal.error} bold reverse", max_len=160))
        _update(self.query_one("#status-badges", Static), badges)

        head = Text(" ")
        if statuses:
            all_ok = all(SourceStatus.from_row(r).state == SourceState.OK for r in statuses.values())
            head.append(summary(statuses), style=pal.ok if all_ok else pal.warn)
            phrase = fallback_phrase(statuses)
            if phrase:
                head.append(f" · {phrase}", style=f"{pal.warn} bold")
        else:
            head.append("sources: not polled yet" if mode != "offline" else "sources: offline, showing the store", style="dim")
        _update(self.query_one("#status-summary", Static), head)

        detail = Text()
        sid = worst(statuses)
        if sid is not None:
            detail.append(" · ")
            detail.append_text(source_text(sid, statuses[sid], now))
        if statuses:
            detail.append("  i: sources", style="dim")
        _update(self.query_one("#status-detail", Static), detail)

        for asset in ("btc", "eth", "sol"):  # the flows' ages: each its own few cells
            _update(self.query_one(f"#status-age-{asset}", Static), flow_age(asset, statuses.get(FLOW_PREFIX + asset), now))

    def show_collector(self, words: str | None, ok: bool) -> None:
        """A viewer's collector health (collector_words); None on a screen that collects itself."""
        out, pal = Text(), palette()
        if words:
            out.append(" ")
            out.append(f" {words} " if not ok else words, style=pal.ok if ok else f"{pal.error} bold reverse")
        _update(self.query_one("#status-collector", Static), out)


def collector_words(health: CollectorHealth, *, seen_alive: bool, now: dt.datetime) -> str:
    """'collector ok, 12s' (since its last beat); 'collector silent since 10:42 UTC' once a collector seen
    alive stops beating; 'no collector: figures as stored at 10:42 UTC' when none beat since this screen started."""
    if health.ok and health.age_s is not None:
        return f"collector ok, {fmt.age(health.age_s)}"
    last = health.last_beat
    at = None if last is None else f"{last:%H:%M} UTC" if last.date() == now.date() else f"{last:%d %b %H:%M} UTC"
    if seen_alive and at:
        return f"collector silent since {at}"
    return f"no collector: figures as stored at {at}" if at else "no collector: figures as stored"


def fallback_phrase(statuses: Mapping[str, Mapping[str, object]]) -> str | None:
    """'flows from SoSoValue: Farside blocked' while a Farside page is blocked and SoSoValue answers (issue 16)."""
    blocked = any(
        SourceStatus.from_row(r).state in (SourceState.BLOCKED, SourceState.BANNED)
        for sid, r in statuses.items()
        if sid.startswith(FLOW_PREFIX)
    )
    soso = statuses.get("sosovalue")
    if blocked and soso is not None and SourceStatus.from_row(soso).state in (SourceState.OK, SourceState.STALE):
        return "flows from SoSoValue: Farside blocked"
    return None


def flow_age(asset: str, row: Mapping[str, object] | None, now: dt.datetime) -> Text:
    """' BTC 12m' (since the last good fetch of its flows); '' when never polled."""
    if row is None:
        return Text()
    st = SourceStatus.from_row(row)
    last = from_iso(st.last_success)
    out = Text(f" {asset.upper()} ", style="dim")
    out.append(fmt.age((now - last).total_seconds()) if last else "-", style=state_style(st.state))
    out.append(" ")
    return out


_shown: WeakKeyDictionary[Static, Text] = WeakKeyDictionary()  # what each small widget shows now


def state_style(state: SourceState) -> str:
    """ok, stale, starting; anything else (blocked, rate-limited, error) is an error."""
    pal = palette()
    return {SourceState.OK: pal.ok, SourceState.STALE: pal.stale, SourceState.STARTING: "dim"}.get(state, f"{pal.error} bold")


def _update(widget: Static, text: Text) -> None:
    """Repaint only what would draw differently (tui/paint.py); a width change relayouts only the bar's own
    row. What each widget shows is kept for `Bar.text`."""
    _shown[widget] = text
    update_if_changed(widget, text)
