"""Issue 13 points 4 and 5: one number style (tui/format.py), semantic theme styles (tui/theme.py), the theme
choice ([ui] theme, FLOWTAPE_THEME, NO_COLOR, remembered), and the glossary the help screen and README share."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from rich.color import Color
from rich.style import Style
from rich.text import Text

from common.config import THEMES, ConfigError, UiConfig, default_state_path, load_config, parse_config
from tests.dashboard_fixtures import _defaults, make_app
from tui import format as fmt
from tui import theme
from tui.panes import TapeTable

D = dt.date
README = Path(__file__).parents[2] / "README.md"


# ---- the formatting functions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (0, "0.0"),
        (0.0, "0.0"),
        (-1608.94, "▼-1,608.9"),
        (224.2, "▲+224.2"),
        (-0.04, "▼-0.0"),
        (12345.0, "▲+12,345.0"),
    ],
)
def test_flow_has_arrow_and_sign_missing_is_a_dash(value, shown):
    assert fmt.flow_str(value) == shown
    assert fmt.flow(value).plain == shown


def test_flow_missing_is_never_zero_and_styles_come_from_the_palette():
    pal = theme.PALETTES["colorblind"]
    assert fmt.flow(None, pal=pal).style == pal.missing
    assert fmt.flow(-5, pal=pal).style == pal.outflow and fmt.flow(5, pal=pal).style == pal.inflow
    assert fmt.flow(-5, bold=True, pal=pal).style == f"{pal.outflow} bold"
    record = fmt.flow(5, record=True, pal=pal)
    assert record.plain == "▲+5.0★" and record.spans[-1].style == pal.record


@pytest.mark.parametrize(
    ("points", "shown"), [(None, "—"), (0, "0bp"), (0.004, "0bp"), (-0.53, "-53bp"), (0.05, "+5bp"), (12.345, "+1,234bp")]
)
def test_bp_is_a_change_of_a_percentage_in_basis_points(points, shown):
    assert fmt.bp(points) == shown


def test_change_text_arrow_and_unit():
    pal = theme.PALETTES["dark"]
    assert fmt.change(-0.53, "24h", pal=pal).plain == "24h ▼-53bp"
    assert fmt.change(-0.53, "24h", pal=pal).style == pal.down
    assert fmt.change(0.004, "24h", pal=pal).plain == "24h 0bp"  # rounds to nothing: no arrow, no colour
    assert fmt.change(10.0, "7d", unit="%", pal=pal).plain == "7d ▲+10.0%"
    assert fmt.change(None, "24h", pal=pal).plain == "24h —"


def test_pct_and_sizes():
    assert fmt.pct(None) == "—" and fmt.pct(0) == "0.00%" and fmt.pct(3.894) == "3.89%"
    assert fmt.pct(-1.234, signed=True) == "-1.23%" and fmt.pct(5, decimals=1) == "5.0%"
    assert fmt.usd_m(200.0) == "US$200m" and fmt.usd_m(23.84) == "US$23.8m" and fmt.usd_m(None) == "—"
    assert fmt.usd_bn(15.44e9) == "US$15.4bn" and fmt.usd_bn(None) == "—"


def test_plural():
    assert fmt.plural(1, "session") == "1 session"
    assert fmt.plural(0, "session") == "0 sessions"
    assert fmt.plural(2, "session") == "2 sessions"
    assert fmt.plural(1500, "venue") == "1,500 venues"
    assert fmt.plural(2, "day", "days off") == "2 days off"
    assert fmt.plural(None, "session") == "— sessions"


def test_one_date_format():
    assert fmt.date(D(2025, 11, 3)) == "03 Nov 2025" and fmt.date(None) == "—"
    assert fmt.day(D(2025, 11, 24)) == "Mon 24 Nov 2025"
    assert fmt.date_range(D(2025, 11, 17), D(2025, 11, 21)) == "17–21 Nov 2025"
    assert fmt.date_range(D(2025, 11, 28), D(2025, 12, 2)) == "28 Nov–02 Dec 2025"
    assert fmt.date_range(D(2025, 12, 29), D(2026, 1, 2)) == "29 Dec 2025–02 Jan 2026"
    assert fmt.date_range(None, D(2026, 1, 2)) == "—–02 Jan 2026"
    assert fmt.month("2025-02") == "Feb 2025" and fmt.month(D(2025, 2, 9)) == "Feb 2025"


# ---- the theme choice --------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_theme_names_agree_between_config_and_tui():
    assert tuple(theme.THEMES) == tuple(theme.PALETTES) == THEMES


@pytest.mark.parametrize("bad", ['"neon"', "3", "true", '""'])
def test_bad_ui_theme_is_one_clear_line(tmp_path, bad):
    path = _write(tmp_path / "c.toml", f"[ui]\ntheme = {bad}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message and "ui.theme" in message and str(path) in message
    assert "expected one of dark, light, colorblind, monochrome" in message


def test_unknown_ui_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="ui.colour: unknown key"):
        load_config(_write(tmp_path / "c.toml", '[ui]\ncolour = "dark"\n'))


def test_flowtape_theme_wins_over_the_file_and_is_validated(tmp_path, monkeypatch):
    path = _write(tmp_path / "c.toml", '[ui]\ntheme = "light"\n')
    assert load_config(path).ui.theme == "light"
    monkeypatch.setenv("FLOWTAPE_THEME", "Colorblind")
    assert load_config(path).ui.theme == "colorblind"
    monkeypatch.setenv("FLOWTAPE_THEME", "sepia")
    with pytest.raises(ConfigError, match=r"^FLOWTAPE_THEME: expected one of dark, light, colorblind, monochrome, got 'sepia'$"):
        load_config(path)


def test_initial_theme_order(tmp_path, monkeypatch):
    state = tmp_path / "ui.json"
    plain = _defaults()
    assert theme.initial_theme(plain, state) == "dark"
    theme.remember(state, "light")
    assert theme.initial_theme(plain, state) == "light"
    monkeypatch.setenv("NO_COLOR", "1")
    assert theme.initial_theme(plain, state) == "monochrome"  # NO_COLOR beats what was remembered
    explicit = replace(plain, ui=UiConfig(theme="colorblind"))
    assert theme.initial_theme(explicit, state) == "colorblind"  # an explicit choice beats NO_COLOR


@pytest.mark.parametrize("content", ["{", "[]", '{"theme": 3}', '{"theme": "neon"}', "\x00\xff"])
def test_a_broken_state_file_is_ignored(tmp_path, content):
    state = _write(tmp_path / "ui.json", content)
    assert theme.remembered(state) is None


def test_state_path_follows_the_env(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWTAPE_STATE", str(tmp_path / "x.json"))
    assert default_state_path() == tmp_path / "x.json"


# ---- the dashboard -----------------------------------------------------------------------------------


async def _started(app, pilot):
    await pilot.pause()
    await app.settle()
    await pilot.pause()


def _colours(text: Text) -> set[Color]:
    styles = [text.style, *(span.style for span in text.spans)]
    found = set()
    for style in styles:
        parsed = style if isinstance(style, Style) else Style.parse(str(style))
        found |= {c for c in (parsed.color, parsed.bgcolor) if c is not None}
    return found


def _palette_colours(pal: theme.Palette) -> set[Color]:
    return {c for s in vars(pal).values() for c in _colours(Text("x", style=s))}


def _figures(app) -> dict[str, Text]:
    """Every pane's and bar's text, and the tape's cells joined, as the Rich Text the widgets were given."""
    from textual.widgets import Static

    texts = {
        sel: app.query_one(sel, Static).content
        for sel in (
            "#title-main",
            "#title-spot",
            "#status-badges",
            "#status-summary",
            "#status-detail",
            "#tape-caption",
            "#gauge-text",
            "#records-text",
            "#tile-basis .tile-text",
            "#tile-funding .tile-text",
            "#tile-oi .tile-text",
            "#scenarios-text",
            "#context-text",
        )
    }
    table = app.query_one(TapeTable)
    texts["tape cells"] = Text("").join(c for i in range(table.row_count) for c in table.get_row_at(i))
    assert all(isinstance(t, Text) for t in texts.values()), texts
    return texts


@pytest.mark.parametrize("name", ["colorblind", "light"])
async def test_every_pane_recolours_with_the_theme(store, name):
    """Switched in the palette, every figure (flow cells, tiles, states, bars) is drawn in the new theme's
    semantic colours and no other: no pane keeps a literal red or green."""
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _started(app, pilot)
        before = _figures(app)
        app.theme = name
        await pilot.pause()
        await pilot.pause()
        after = _figures(app)
        allowed = _palette_colours(theme.PALETTES[name])
        for where, text in after.items():
            colours = _colours(text)
            assert colours, f"{where} shows no semantic colour at all"
            assert colours <= allowed, f"{where}: {colours - allowed} is not in the {name} palette"
            assert colours != _colours(before[where]), f"{where} kept its dark colours"
        ibit_12_nov = app.query_one(TapeTable).get_cell("2025-11-12", "f:IBIT")
        assert ibit_12_nov.plain == "▼-210.4" and ibit_12_nov.style == theme.PALETTES[name].outflow


async def test_charts_use_the_theme_colours():
    from tui import charts

    calls = []

    class Plot:
        def bar(self, xs, ys, color, width):
            calls.append((tuple(xs), color))

    theme.set_palette(theme.THEMES["colorblind"])
    try:
        charts._signed_bars(Plot(), [5.0, -3.0, 2.0])
    finally:
        theme.set_palette(theme.THEMES["dark"])
    assert calls == [((0, 2), (0, 114, 178)), ((1,), (213, 94, 0))]


async def test_no_color_picks_monochrome(store, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _started(app, pilot)
        assert app.theme == "monochrome"
        cell = app.query_one(TapeTable).get_cell("2025-11-12", "f:IBIT")
        assert cell.plain == "▼-210.4" and cell.style == theme.PALETTES["monochrome"].outflow  # the arrow stays


async def test_the_choice_persists_across_a_restart_and_an_explicit_one_wins(store):
    state = default_state_path()  # the test's own scratch file (conftest)
    first = make_app(store)
    async with first.run_test(size=(120, 40)) as pilot:
        await _started(first, pilot)
        assert first.theme == "dark" and not state.exists()  # starting is no choice to remember
        first.theme = "colorblind"
        await pilot.pause()
    assert json.loads(state.read_text()) == {"theme": "colorblind"}
    again = make_app(store)
    async with again.run_test(size=(120, 40)) as pilot:
        await _started(again, pilot)
        assert again.theme == "colorblind"
    explicit = make_app(store, config=replace(_defaults(), ui=UiConfig(theme="light")))
    async with explicit.run_test(size=(120, 40)) as pilot:
        await _started(explicit, pilot)
        assert explicit.theme == "light"


async def test_palette_lists_each_command_once(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _started(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles)), titles
        assert "Theme" in titles and "Quit" in titles and "Keys" not in titles


# ---- glossary and sources ----------------------------------------------------------------------------


def test_readme_glossary_is_the_help_glossary():
    from tui.help import glossary_markdown

    readme = README.read_text(encoding="utf-8")
    section = re.search(r"### Glossary\n\n.*?\n\n(.*?)\n\n", readme, re.S)
    assert section, "README has a ### Glossary section"
    assert section.group(1) == glossary_markdown(), (
        "regenerate with: python -c 'import tui.help as h; print(h.glossary_markdown())'"
    )


def test_help_names_every_source_publisher():
    from sources.registry import REGISTRY
    from tui.help import sources_text

    publishers = [p for p, _ in sources_text()]
    assert set(publishers) == {s.label for s in REGISTRY} and len(publishers) == len(set(publishers))


def test_parse_config_without_ui_has_no_explicit_theme():
    assert parse_config({}, Path("<x>")).ui.theme is None
