"""The title line (asset, as-of date, mode) and the status bar (each source's state and data age).

Ages tick here, in small widgets, never inside the table: a tick repaints one line, and only when the
text changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from common.calendar import from_iso
from common.records import SourceState, SourceStatus

from . import format as fmt
from .paint import update_if_changed
from .theme import palette

MODE_BADGES = {"demo": "DEMO", "offline": "OFFLINE"}


class TitleBar(Static):
    def show(self, *, asset: str, as_of: dt.date, following: bool, mode: str, notice: str | None) -> None:
        out, pal = Text(), palette()
        out.append(" flowtape ", style="bold reverse")
        out.append("  ")
        for a in ("btc", "eth", "sol"):
            out.append(f" {a.upper()} ", style="bold reverse" if a == asset else "dim")
        out.append("   as of ")
        out.append(fmt.day(as_of), style="bold")
        out.append(
            " (latest)" if following else " (time travel: ] forward, t today)", style="dim" if following else f"{pal.warn} bold"
        )
        badge = MODE_BADGES.get(mode)
        if badge:
            out.append("   ")
            out.append(f" {badge} ", style=f"{pal.warn} bold reverse")
            if notice:
                out.append(" " + notice, style=pal.warn)
        update_if_changed(self, out, layout=False)  # a fixed one-line height


class StatusBar(Static):
    def show(
        self, statuses: dict[str, dict], now: dt.datetime, *, mode: str, paused: bool, problems: tuple[str, ...] = ()
    ) -> None:
        out, pal = Text(), palette()
        badge = MODE_BADGES.get(mode)
        if badge:  # first, so a narrow terminal can never cut it off
            out.append(f" {badge} ", style=f"{pal.warn} bold reverse")
        if paused:
            out.append(" PAUSED ", style="bold reverse")
        for problem in problems:  # data not stored, figures not recomputed: said before any source
            out.append_text(fmt.safe(f" {problem} ", f"{pal.error} bold reverse", max_len=160))
        flows = {sid: st for sid, st in statuses.items() if sid.startswith("farside_")}
        venues = {sid: st for sid, st in statuses.items() if sid not in flows}
        for i, (sid, st) in enumerate(sorted(flows.items())):
            out.append(" · " if i else " ")
            out.append_text(source_text(sid, st, now))
        if venues:
            ok = sum(1 for st in venues.values() if st.get("state") == SourceState.OK)
            out.append(" · venues: ")
            out.append(f"{ok}/{len(venues)} ok", style=pal.ok if ok == len(venues) else pal.warn)
            for sid, st in sorted(venues.items()):
                if st.get("state") != SourceState.OK:
                    out.append(" · ")
                    out.append_text(source_text(sid, st, now, brief=True))
        if not statuses:
            out.append(" sources: not polled yet" if mode != "offline" else " sources: offline, showing the store", style="dim")
        update_if_changed(self, out, layout=False)  # a fixed one-line height


def state_style(state: SourceState) -> str:
    """ok, stale, starting; anything else (blocked, rate-limited, error) is an error."""
    pal = palette()
    return {SourceState.OK: pal.ok, SourceState.STALE: pal.stale, SourceState.STARTING: "dim"}.get(state, pal.error)


def source_text(sid: str, row: Mapping[str, object], now: dt.datetime, *, brief: bool = False) -> Text:
    """'farside btc: ok, 12m' / 'farside eth: blocked, retry 4m (HTTP 403 bot challenge)'."""
    st = SourceStatus.from_row(row)
    out = Text()
    out.append_text(fmt.safe(sid.replace("_", " "), max_len=30))
    out.append(": ")
    out.append(st.state.value, style=state_style(st.state))
    last = from_iso(st.last_success)
    retry = from_iso(st.ban_until) or from_iso(st.next_attempt)
    if st.state in (SourceState.OK, SourceState.STALE):
        if last:
            out.append(f", {fmt.age((now - last).total_seconds())}")
    else:
        if retry and retry > now:
            out.append(f", retry {fmt.age((retry - now).total_seconds())}")
        if st.last_error and not brief:
            out.append(" (")
            out.append_text(fmt.safe(st.last_error, max_len=60))
            out.append(")")
        if last and not brief:
            out.append(f", data {fmt.age((now - last).total_seconds())} old", style="dim")
    return out
