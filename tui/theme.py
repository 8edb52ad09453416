"""Colour themes: Textual Theme objects for the widgets' CSS, and for every figure a semantic style (inflow,
outflow, record, stale, provisional, ok / warn / error ...) mapped to a Rich style per theme.

Panes never write a colour: they ask for `palette().inflow` (tui/format.py does it for flows, changes and
states), so a theme switch recolours every cell, tile and chart on the next repaint. Arrows (▲ ▼) and signs
always carry the direction too: the monochrome theme has no colour at all.

Which theme: FLOWTAPE_THEME, then the config's `[ui] theme` (common/config.py folds both into
config.ui.theme); else NO_COLOR picks monochrome; else the theme chosen in the palette last time (a small
JSON state file, common/config.py default_state_path); else dark.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from rich.color import Color, ColorParseError
from rich.style import Style
from textual.theme import BUILTIN_THEMES, Theme

from common import config as cfg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Palette:
    """Rich style strings by meaning."""

    inflow: str  # money into the funds (▲)
    outflow: str  # money out (▼)
    up: str  # a rising basis, funding or OI
    down: str
    record: str  # the ★ of a record day / month
    stale: str  # data older than its source's limit
    provisional: str  # a session still being reported
    missing: str  # no data ("—")
    ok: str
    warn: str
    error: str


PALETTES: dict[str, Palette] = {
    "dark": Palette(
        inflow="green",
        outflow="red",
        up="green",
        down="red",
        record="bold yellow",
        stale="yellow",
        provisional="italic yellow",
        missing="dim",
        ok="green",
        warn="yellow",
        error="bold red",
    ),
    # ANSI green/yellow wash out on white: darker shades.
    "light": Palette(
        inflow="#1a7f37",
        outflow="#cf222e",
        up="#1a7f37",
        down="#cf222e",
        record="bold #9a6700",
        stale="#9a6700",
        provisional="italic #9a6700",
        missing="dim",
        ok="#1a7f37",
        warn="#9a6700",
        error="bold #cf222e",
    ),
    # Okabe & Ito's palette, told apart with any of the common colour-vision deficiencies.
    "colorblind": Palette(
        inflow="#0072B2",
        outflow="#D55E00",
        up="#0072B2",
        down="#D55E00",
        record="bold #F0E442",
        stale="#E69F00",
        provisional="italic #E69F00",
        missing="dim",
        ok="#009E73",
        warn="#E69F00",
        error="bold #D55E00",
    ),
    # No colour: weight and slant only (arrows and signs say the direction).
    "monochrome": Palette(
        inflow="",
        outflow="bold",
        up="",
        down="bold",
        record="bold",
        stale="italic",
        provisional="italic",
        missing="dim",
        ok="",
        warn="bold",
        error="bold reverse",
    ),
}

THEMES: dict[str, Theme] = {
    "dark": replace(BUILTIN_THEMES["textual-dark"], name="dark"),
    "light": replace(BUILTIN_THEMES["textual-light"], name="light"),
    "colorblind": Theme(
        name="colorblind",
        primary="#0072B2",
        secondary="#56B4E9",
        accent="#E69F00",
        warning="#E69F00",
        error="#D55E00",
        success="#009E73",
        foreground="#e0e0e0",
        background="#121212",
        surface="#1e1e1e",
        panel="#24292f",
        dark=True,
    ),
    "monochrome": Theme(
        name="monochrome",
        primary="#a0a0a0",
        secondary="#808080",
        accent="#ffffff",
        warning="#d0d0d0",
        error="#ffffff",
        success="#c0c0c0",
        foreground="#e0e0e0",
        background="#000000",
        surface="#101010",
        panel="#202020",
        dark=True,
    ),
}
assert tuple(THEMES) == tuple(PALETTES) == cfg.THEMES, "the config validates against the same names"

_active: Palette = PALETTES["dark"]


def palette() -> Palette:
    """The running app's palette (one app per process; set_palette follows its theme)."""
    return _active


def palette_for(theme: Theme) -> Palette:
    """Flowtape's themes have their own palette; any other Textual theme the picker offers gets dark's or light's."""
    return PALETTES.get(theme.name) or PALETTES["dark" if theme.dark else "light"]


def set_palette(theme: Theme) -> Palette:
    global _active
    _active = palette_for(theme)
    return _active


def chart_color(style: str) -> tuple[int, int, int] | str:
    """A palette style as a plotext colour: its RGB, or the terminal's default colour when it has none."""
    try:
        color = Style.parse(style).color
    except (ColorParseError, ValueError):  # pragma: no cover - the palettes above parse
        color = None
    return tuple(color.get_truecolor()) if isinstance(color, Color) else "default"  # type: ignore[return-value]


def initial_theme(config: cfg.Config, state_path: Path) -> str:
    """The theme to start with: explicit choice, else NO_COLOR, else remembered, else dark."""
    if config.ui.theme:
        return config.ui.theme
    if os.environ.get("NO_COLOR") is not None:
        return "monochrome"
    return remembered(state_path) or "dark"


def remembered(state_path: Path) -> str | None:
    """The theme last picked, if the state file holds a known one (a broken file is ignored, and logged)."""
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ui state %s unreadable, ignored: %s", state_path, exc)
        return None
    theme = state.get("theme") if isinstance(state, dict) else None
    return theme if isinstance(theme, str) and theme in THEMES else None


def remember(state_path: Path, theme: str) -> None:
    """Keep the picked theme for the next start (best effort: a read-only home only forgets it)."""
    try:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"theme": theme}), encoding="utf-8")
        tmp.replace(state_path)
    except OSError as exc:
        log.warning("cannot remember the theme in %s: %s", state_path, exc)


SEMANTIC = tuple(f.name for f in fields(Palette))
