"""Every user command, declared once: its keys, footer label, palette entry and help text come from here."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Command:
    id: str
    action: str  # a dashboard screen action, or "app." + an App action (with arguments, Textual syntax)
    keys: str  # Textual key names, comma-separated
    label: str  # footer and command palette title
    help: str  # help screen and palette help
    display: str  # how the keys are written for people
    footer: bool = False
    bind: bool = True  # False: Textual already binds the key (Tab, Shift-Tab)
    quiet_keys: str = ""  # bound too, but never shown in the footer (Ctrl+C beside q)


COMMANDS: tuple[Command, ...] = (
    Command("next-pane", "app.focus_next", "tab", "Next pane", "Move to the next pane", "Tab", bind=False),
    Command(
        "prev-pane", "app.focus_previous", "shift+tab", "Previous pane", "Move to the previous pane", "Shift-Tab", bind=False
    ),
    Command("pane-1", "focus_pane(1)", "1", "Flow tape", "Go to the flow tape (per-fund flows, last sessions)", "1"),
    Command("pane-2", "focus_pane(2)", "2", "Month vs record", "Go to the month-to-date vs record gauge", "2"),
    Command("pane-3", "focus_pane(3)", "3", "Records", "Go to records, streaks and weeks", "3"),
    Command("pane-4", "focus_pane(4)", "4", "Derivatives", "Go to the derivatives tiles", "4"),
    Command("pane-5", "focus_pane(5)", "5", "Scenarios", "Go to the scenario status", "5"),
    Command("pane-6", "focus_pane(6)", "6", "Context", "Go to the context: trend and crosses, weekly ledger", "6"),
    Command(
        "maximize",
        "toggle_maximize",
        "enter,m",
        "Expand",
        "Maximize or restore the focused pane (the gauge shows its charts)",
        "Enter / m",
        footer=True,
    ),
    Command("btc", "asset('btc')", "b", "BTC", "Show bitcoin ETFs", "b", footer=True),
    Command("eth", "asset('eth')", "e", "ETH", "Show ether ETFs", "e", footer=True),
    Command("sol", "asset('sol')", "s", "SOL", "Show solana ETFs", "s", footer=True),
    Command(
        "back",
        "step_as_of(-1)",
        "left_square_bracket,left",
        "Session back",
        "Move the as-of date one session back (time travel)",
        "[ / Left",
        footer=True,
    ),
    Command(
        "forward",
        "step_as_of(1)",
        "right_square_bracket,right",
        "Session fwd",
        "Move the as-of date one session forward",
        "] / Right",
        footer=True,
    ),
    Command("today", "to_today", "t", "Today", "Return the as-of date to today (follow live data)", "t"),
    Command("coinshares", "coinshares_form", "c", "CoinShares", "Enter CoinShares' weekly print (used by the caution case)", "c"),
    Command(
        "refresh",
        "app.refresh_now",
        "r",
        "Refresh",
        "Fetch every source now (bans the hosts asked for still apply)",
        "r",
        footer=True,
    ),
    Command("pause", "app.toggle_pause", "p", "Pause", "Pause or resume polling", "p", footer=True),
    Command(
        "help",
        "help",
        "question_mark,f1",
        "Help",
        "Show every key, a glossary of the terms on screen, the sources and the store path",
        "? / F1",
        footer=True,
    ),
    # Ctrl+C quits too: Textual binds it only to copy and a "press q to quit" hint, which this binding replaces.
    Command("quit", "app.quit", "q", "Quit", "Quit flowtape", "q / Ctrl+C", footer=True, quiet_keys="ctrl+c"),
)


def bindings() -> list[BindingType]:
    shown: list[BindingType] = [
        Binding(c.keys, c.action, c.label, show=c.footer, key_display=c.display.split(" / ")[0], id=c.id, tooltip=c.help)
        for c in COMMANDS
        if c.bind
    ]
    return shown + [Binding(c.quiet_keys, c.action, c.label, show=False, id=f"{c.id}-quiet") for c in COMMANDS if c.quiet_keys]
