"""Repaint only what changed, judged by what would be drawn.

Textual re-sends a widget's whole region whenever it is updated, even with the text it already shows, and
has no character diff. Freshly computed views differ from the last ones in float digits no pane prints, so
comparing view objects repaints on every poll (11 KB/min idle over SSH). Every widget flowtape draws into
goes through here instead: the text, the sparkline's glyphs and colours, the border title are compared
with what the widget shows, and an identical one sends nothing.
"""

from __future__ import annotations

import io
from collections.abc import Hashable, Sequence
from weakref import WeakKeyDictionary

from rich.console import Console
from rich.text import Text
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widget import Widget
from textual.widgets import Sparkline, Static

_shown: WeakKeyDictionary[Widget, Hashable] = WeakKeyDictionary()  # what each widget draws now
_titles: WeakKeyDictionary[Widget, str] = WeakKeyDictionary()


def drawn(content: Text | str) -> Hashable:
    """What a Static draws from `content`: the characters with their styles and layout options
    (rich's Text == compares only the characters and spans)."""
    if isinstance(content, str):
        return content
    return (
        content.plain,
        tuple(content.spans),
        str(content.style),
        content.justify,
        content.overflow,
        content.no_wrap,
        content.end,
    )


def update_if_changed(widget: Static, content: Text | str, *, layout: bool = True) -> bool:
    """Update `widget` only when what it would draw changed; True when it did. `layout=False` where the
    widget's height is fixed (nothing around it moves)."""
    key = drawn(content)
    if _shown.get(widget) == key:
        return False
    _shown[widget] = key
    widget.update(content, layout=layout)
    return True


def _spark_glyphs(spark: Sparkline, data: Sequence[float]) -> Hashable:
    """The glyphs and colours `spark` would draw for `data` at its current size: Textual's own renderable,
    rendered off screen (a series whose last point moved by a hair usually draws the same bars)."""
    width, height = spark.size.width, spark.size.height
    if width <= 0 or height <= 0:  # not laid out yet: the data itself is all there is to compare
        return ("data", tuple(data))
    current = spark.render()  # carries the colours Sparkline takes from CSS
    assert isinstance(current, SparklineRenderable)
    low, high = current.min_color.color, current.max_color.color
    assert low is not None and high is not None, "Sparkline.render always sets both colours"
    candidate = SparklineRenderable(
        data, width=width, height=height, min_color=low, max_color=high, summary_function=spark.summary_function
    )
    console = Console(width=width, file=io.StringIO(), color_system="truecolor", force_terminal=True, legacy_windows=False)
    return ("glyphs", width, height, tuple(console.render(candidate, console.options.update_width(width))))


def sparkline_if_changed(spark: Sparkline, data: Sequence[float]) -> bool:
    """Give `spark` new data only when its bars would look different; True when they did."""
    key = _spark_glyphs(spark, data)
    if _shown.get(spark) == key:
        return False
    _shown[spark] = key
    spark.data = list(data)
    return True


def title_if_changed(widget: Widget, title: str) -> bool:
    """Reassign a border title only when its text changed (each assignment repaints the border)."""
    if _titles.get(widget) == title or (widget not in _titles and widget.border_title == title):
        return False
    _titles[widget] = title
    widget.border_title = title
    return True
