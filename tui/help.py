"""The help screen: every key (from the one command table), a glossary of every term on screen, every source
with its attribution (from sources/registry.py), the store path. README "Glossary" is GLOSSARY as Markdown
(tests/test_style.py keeps them equal)."""

from __future__ import annotations

from urllib.parse import urlsplit

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from common.config import SECTIONS
from sources.registry import CANDLES, DERIVATIVES, FLOWS, ODDS, REGISTRY

from . import format as fmt
from .commands import COMMANDS

# Every term the dashboard shows, in screen order (pane 1 to 6, then the bars).
GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "Flow",
        "Net creation (+, inflow ▲) or redemption (-, outflow ▼) of a US spot ETF's shares for one trading "
        "session, in US$ millions as Farside publishes it: ▲+224.2, ▼-1,608.9. The arrow repeats the sign, so "
        "direction reads without colour.",
    ),
    ("—", "No data (the fund has not reported, or the source has nothing): never zero."),
    ("Session", "A NYSE trading day. 1 session, 2 sessions; (5d) after a week is 5 sessions counted."),
    (
        "Provisional (*)",
        "A session still being reported fund by fund: shown, with the funds awaited, but not added "
        "into month, week, record, streak or cumulative figures until complete.",
    ),
    (
        "Record day ★",
        "The cell holding a fund's largest inflow or outflow since launch; pane 3's record days are "
        "the asset's largest total inflow and outflow sessions.",
    ),
    (
        "MTD",
        "Month to date: the complete sessions of the as-of month, summed; sessions left are the NYSE "
        "sessions still to come this month.",
    ),
    (
        "Record month",
        "The largest net outflow (or inflow) among the completed calendar months before this one; "
        "the bar is this month's share of it, NEW RECORD once passed.",
    ),
    (
        "Projected month end",
        "This month's total at its pace so far, over every session of the month: an extrapolation, not data.",
    ),
    (
        "Streak",
        "Consecutive red (net outflow) or green (net inflow) complete sessions ending at the latest one; "
        "'in a row of US$200m+' counts those at least that size ([analytics] streak_size_usd_m).",
    ),
    ("Week", "Monday to Friday; 'all' after a week's figure adds the three assets' ETFs (BTC+ETH+SOL) together."),
    ("Cumulative since launch", "Every stored session's net flow added up, per fund and in total."),
    ("Share of month", "A fund's part of the month's net flow, in %."),
    (
        "Basis 3m",
        "How far a dated BTC future trades above spot, annualized, in % ((future / index - 1) x "
        "365 / days to expiry), for the future nearest 3 months out, across venues; Constant-maturity 90d "
        "interpolates to exactly 90 days.",
    ),
    (
        "Basis band",
        "Where the basis sits (edges in [analytics] basis_band_edges): backwardation (below 0), "
        "compressed, deleveraged, rebuild, snapback (highest).",
    ),
    (
        "Funding",
        "The perpetual swaps' funding rate, annualized in %, each venue weighted by its open interest "
        "(OI-wtd); in the venue table also per interval (0.0100%/8h).",
    ),
    ("bp", "Basis point, 0.01 percentage point: the 24 h change of basis or funding (▼-53bp: down 0.53 points)."),
    (
        "OI",
        "Open interest: the US$ value of futures contracts outstanding. Offshore is the crypto venues "
        "(Deribit, Binance, Bybit, OKX) together; CME is the regulated US exchange, shown apart (its data is "
        "daily or weekly).",
    ),
    (
        "OI trend",
        "rebuilding or bleeding when the offshore OI moved more than [analytics] oi_trend_pct in 7 days; flat otherwise.",
    ),
    ("5v", "The number of fresh venues a tile's figure is built from; then its data age."),
    (
        "Scenario",
        "A named checklist of conditions (config [[scenarios]]): inactive (none met), building (k of n "
        "met), active (all met). The defaults: Reset, then rebuild; Caution case; Reflexive snapback.",
    ),
    ("✓ ✗ ?", "A condition met, not met, or unknown (its data missing or stale: never counted as met)."),
    ("50d / 200d", "The 50- and 200-day simple moving averages of BTC-USD daily closes (Coinbase)."),
    (
        "Golden / death cross",
        "The 50-day average crossing above (golden) or below (death) the 200-day; counted since [analytics] cycle_start.",
    ),
    (
        "Weekly ledger",
        "Last Monday-Friday week's ETF net flow per asset and in all, beside CoinShares' weekly print when entered (c).",
    ),
    (
        "Fed odds",
        "Prediction-market odds of a cut, hold or hike at the next FOMC meeting; '(-5pt 1m)' after the odds is the "
        "cut odds' change in percentage points over a month.",
    ),
    ("Age", "How old a figure's data is: now, 45s, 12m, 3h, 2d."),
    (
        "Source states",
        "ok; stale (fetched, but its data is older than that source allows); blocked (a bot wall "
        "answered); rate-limited or banned (the host asked us to wait: retry in ...); error; starting.",
    ),
    ("STALE", "On a pane's border or a venue: its figures are the last good ones and older than they should be."),
    ("As of", "The New York date the figures are computed for: latest, or time travel when stepped back ([ ])."),
    ("DEMO / OFFLINE / PAUSED", "Replayed sample data; the store only, no polling; polling paused (p)."),
)

# What each kind of source gives the dashboard (the registry says who publishes it).
_GIVES = {
    FLOWS: "US spot ETF daily flows",
    DERIVATIVES: "futures basis, funding and open interest",
    CANDLES: "BTC-USD daily candles (the 50/200-day trend)",
    ODDS: "Fed decision odds",
}


def sources_text() -> list[tuple[str, str]]:
    """(publisher, what it gives and where from), one per publisher, in registry order."""
    seen: dict[str, str] = {}
    for spec in REGISTRY:
        if spec.label not in seen:
            host = urlsplit(SECTIONS[spec.section].base_url).hostname
            gives = spec.records if spec.section in ("cme", "cftc") else _GIVES[spec.kind]
            seen[spec.label] = f"{gives} · {host}"
    return list(seen.items())


def glossary_markdown() -> str:
    """README's glossary: the same entries as the help screen."""
    return "\n".join(f"- **{term}**: {text}" for term, text in GLOSSARY)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", show=True)]

    def __init__(self, *, store_path: str, mode: str, notices: list[str]) -> None:
        super().__init__(id="help")
        self._store_path = store_path
        self._mode = mode
        self._notices = notices

    def compose(self) -> ComposeResult:
        width = max(len(c.display) for c in COMMANDS) + 2
        keys = Text()
        keys.append(f"{'Key':<{width}}Does\n", style="bold")
        for c in COMMANDS:
            keys.append(f"{c.display:<{width}}", style="bold")
            keys.append(f"{c.help}\n")
        keys.append(f"{'Ctrl+P':<{width}}", style="bold")
        keys.append("Command palette: every command above by name")
        about = Text()
        about.append("\nSources", style="bold")
        about.append(" (figures are theirs; flowtape only collects and sums them)\n", style="dim")
        for publisher, gives in sources_text():
            about.append(f"  {publisher}", style="bold")
            about.append(f": {gives}\n")
        about.append("\nGlossary\n", style="bold")
        for term, text in GLOSSARY:
            about.append(f"  {term}", style="bold")
            about.append(f": {text}\n")
        about.append("\nStore: ", style="bold")
        about.append_text(fmt.safe(self._store_path, max_len=300))
        about.append(f"\nMode: {self._mode}\n")
        for note in self._notices:
            about.append_text(fmt.safe(note, max_len=300, style="yellow"))
            about.append("\n")
        about.append("\nThemes: Ctrl+P, Theme (dark, light, colorblind, monochrome); remembered for the next start.", style="dim")
        with VerticalScroll(id="help-body"):
            yield Static(Text("flowtape: keys", style="bold"))
            yield Static(keys)
            yield Static(about)
            yield Static(Text("Escape, q or ? closes this screen.", style="dim"))
