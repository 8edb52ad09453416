"""Make outside text safe to store and to show in a terminal.

Rich/Textual strip only a few C0 controls; ESC and the C1 range pass straight through to the
terminal (a scraped string can retitle the window or fill the clipboard via OSC 52). So every
string that came from outside goes through `clean()` at ingest and again at render.
"""

from __future__ import annotations

import math
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


def json_safe(value: object, *, max_len: int = 2000) -> object:
    """A document made strict JSON and terminal-safe: non-finite floats become null (missing, never a
    number JSON cannot carry), every string and key is cleaned. Idempotent."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return clean(value, max_len=max_len)
    if isinstance(value, dict):
        return {clean(k, max_len=200): json_safe(v, max_len=max_len) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, max_len=max_len) for v in value]
    return value
