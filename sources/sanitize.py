"""Make outside text safe to store and to show in a terminal.

Rich/Textual strip only a few C0 controls; ESC and the C1 range pass straight through to the
terminal (a scraped string can retitle the window or fill the clipboard via OSC 52). So every
string that came from outside goes through `clean()` at ingest and again at render.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"

# C0 controls except tab/newline, DEL, and C1 (0x80-0x9f: includes 8-bit CSI 0x9b and OSC 0x9d).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROLS_NO_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Bidi embeddings/overrides/isolates, zero-width characters, BOM, soft hyphen, word joiners.
_INVISIBLE = re.compile(r"[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def clean(text: object, *, max_len: int = 200, newlines: bool = False) -> str:
    """Return `text` with controls replaced by U+FFFD, invisible/bidi characters removed,
    and the length capped (an ellipsis marks a cut). Idempotent."""
    s = str(text)
    s = _INVISIBLE.sub("", s)
    s = (_CONTROLS if newlines else _CONTROLS_NO_NEWLINE).sub(REPLACEMENT, s)
    if len(s) > max_len:
        s = s[: max_len - 1] + "\u2026"
    return s
