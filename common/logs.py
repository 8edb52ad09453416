"""Logging: one setup for the whole program, one logger per module (`logging.getLogger(__name__)`).

The dashboard owns its terminal, so it logs to a small rotating file and never to stdout/stderr (a stray line
would tear the screen). Headless commands (`snapshot`, `scenarios`, `coinshares`) print their result on
stdout and log warnings to stderr, so `snapshot --json` stays pure JSON. The collector (`flowtape collect`) logs
one line per poll at INFO to stderr (journald under systemd) or to its --log-file. `FLOWTAPE_LOG` (a file path) and
`FLOWTAPE_LOG_LEVEL` override the destination and the level in both modes. httpx/httpcore stay at WARNING:
their INFO lines carry every full URL, once per request.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Any, cast

from platformdirs import user_state_path

DASHBOARD, HEADLESS, COLLECTOR = "dashboard", "headless", "collector"
MAX_BYTES, BACKUPS = 1_000_000, 2  # at most ~3 MB of log on disk
_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_QUIET = ("httpx", "httpcore")


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at emit time (pytest swaps it per test; a bound stream would be closed)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def default_path() -> Path:
    return user_state_path("flowtape") / "flowtape.log"


def level_from_env(default: int) -> int:
    """FLOWTAPE_LOG_LEVEL (a name such as DEBUG or WARNING); anything else is an error naming it."""
    text = os.environ.get("FLOWTAPE_LOG_LEVEL", "").strip()
    if not text:
        return default
    level = logging.getLevelName(text.upper())
    if not isinstance(level, int):
        raise ValueError(f"FLOWTAPE_LOG_LEVEL {text[:40]!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def setup(mode: str, path: Path | None = None) -> Path | None:
    """Configure the root logger for `mode` (DASHBOARD, HEADLESS or COLLECTOR); returns the log file, if any.
    `path`: a log file given on the command line (before FLOWTAPE_LOG); it is reopened when logrotate moves it.

    Idempotent: the handler a previous call installed is replaced, so tests can run main() many times."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_flowtape", False)]:
        root.removeHandler(old)
        old.close()
    env_path = os.environ.get("FLOWTAPE_LOG", "").strip()
    given = path is not None
    path = path or (Path(env_path) if env_path else (default_path() if mode == DASHBOARD else None))
    handler: logging.Handler
    if path is None:
        handler = _Stderr()
        level = level_from_env(logging.INFO if mode == COLLECTOR else logging.WARNING)
    else:
        level = level_from_env(logging.INFO)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if given:  # a service's log: rotated by logrotate, not by us
                handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8", delay=True)
            else:
                handler = logging.handlers.RotatingFileHandler(
                    path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
                )
        except OSError:
            # An unwritable log must not stop the program, and the dashboard must not write to its terminal.
            handler, path = (logging.NullHandler() if mode == DASHBOARD else _Stderr()), None
    handler.setFormatter(logging.Formatter(_FORMAT))
    cast(Any, handler)._flowtape = True  # marks our handler, so a second setup() replaces it
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return path


def kv(**fields: object) -> str:
    """key=value pairs on one line; a value with spaces, quotes or control characters is JSON-quoted (so an
    upstream's error text cannot forge a log line), None is `-`."""
    parts = []
    for key, value in fields.items():
        text = "-" if value is None else str(value)
        if not text or any(c in text for c in ' "=\\') or not text.isprintable():
            text = json.dumps(text, ensure_ascii=True)
        parts.append(f"{key}={text}")
    return " ".join(parts)
