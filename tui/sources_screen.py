"""The sources screen: every source's state, data age, last error in plain words and next attempt; the
status bar keeps only the summary and the worst one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from common.calendar import from_iso
from common.config import KEY_HELP
from common.records import SourceState, SourceStatus

from . import format as fmt
from .bars import SEVERITY, plain_error, retry_in, summary
from .theme import palette


def sources_text(statuses: Mapping[str, Mapping[str, object]], labels: Mapping[str, str], now: dt.datetime) -> Text:
    """One block per source, the troubled ones first (worst first), each: name and publisher, state, data age,
    last error (plain words, the raw text dimmed after it when they differ) and the next attempt."""
    out, pal = Text(), palette()
    out.append(summary(statuses) + "\n\n" if statuses else "No source polled yet.\n", style="bold")
    rows = sorted(
        ((sid, SourceStatus.from_row(row)) for sid, row in statuses.items()), key=lambda r: (SEVERITY.index(r[1].state), r[0])
    )
    for sid, st in rows:
        out.append_text(fmt.safe(sid.replace("_", " "), max_len=30, style="bold"))
        label = labels.get(sid)
        if label:
            out.append(f" ({label})", style="dim")
        out.append(": ")
        ok = st.state in (SourceState.OK, SourceState.STARTING)
        out.append(
            st.state.value,
            style=pal.ok
            if st.state == SourceState.OK
            else pal.warn
            if ok or st.state == SourceState.STALE
            else f"{pal.error} bold",
        )
        last = from_iso(st.last_success)
        out.append(f" · data {fmt.age((now - last).total_seconds())} old" if last else " · no good fetch yet")
        retry = retry_in(st, now)
        if retry:
            out.append(f" · next attempt in {retry}")
        out.append("\n")
        error = plain_error(st.last_error)
        if error and not ok:
            out.append("    last error: ")
            out.append_text(fmt.safe(error, max_len=120))
            out.append("\n")
            if st.last_error and error != st.last_error:  # the raw words, for a bug report
                out.append("    as reported: ", style="dim")
                out.append_text(fmt.safe(st.last_error, max_len=120, style="dim"))
                out.append("\n")
        if st.warning:
            out.append("    note: ")
            out.append_text(fmt.safe(st.warning, max_len=120, style=pal.warn))
            out.append("\n")
    for section, how in KEY_HELP.items():  # a keyed source never polled is off for want of a key: say how to get one
        if section not in statuses:
            out.append(f"{section} ({labels.get(section, section)}): ", style="bold")
            out.append("off, no API key\n", style="dim")
            out.append(f"    {how}\n", style="dim")
    return out


class SourcesScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,i", "dismiss", "Close", show=True)]

    def __init__(self, statuses: Mapping[str, Mapping[str, object]], labels: Mapping[str, str], now: dt.datetime) -> None:
        super().__init__(id="sources")
        self._text = sources_text(statuses, labels, now)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="sources-body"):
            yield Static(Text("flowtape: sources", style="bold"))
            yield Static(self._text, id="sources-text")
            yield Static(Text("Escape, q or i closes this screen. r fetches every source now.", style="dim"))
