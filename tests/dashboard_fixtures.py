"""Build dashboard apps over a prepared store: injected data, frozen clock, no network."""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import random
import shutil
import tempfile
import threading
from pathlib import Path

from common.config import parse_config
from demo import DEMO_NOTICE, DEMO_NOW, demo_config, demo_transport, replay_history
from sources.refresh import refresh_once
from store import Store

FROZEN = DEMO_NOW + dt.timedelta(minutes=5)


def _defaults():
    """Built-in defaults (whatever the developer's own config says) with every source on the demo transport."""
    return demo_config(parse_config({}, Path("<defaults>")))


def _build_demo_store(path: Path) -> Store:
    store = Store.open(path)
    asyncio.run(replay_history(store, _defaults(), [DEMO_NOW], rng=random.Random(0), compact=True))
    asyncio.run(refresh_once(store, _defaults(), transport=demo_transport(compact=True), now=DEMO_NOW, rng=random.Random(0)))
    return store


_template: Path | None = None
_template_lock = threading.Lock()  # test_snapshot_hostile builds one from a worker thread


def _demo_template() -> Path:
    """Built once per test session (about 2 s of polling) and closed, so the one .db file holds it all."""
    global _template
    with _template_lock:
        if _template is None:
            folder = Path(tempfile.mkdtemp(prefix="flowtape-demo-template-"))
            atexit.register(shutil.rmtree, folder, True)
            _build_demo_store(folder / "demo.db").close()
            _template = folder / "demo.db"
        return _template


def demo_store(path: Path) -> Store:
    """A store filled through the real fetch path from the demo recordings, as of the demo's clock: a copy of
    the session's template, so each test gets its own file to change."""
    shutil.copy(_demo_template(), path)
    return Store.open(path)


def make_app(store: Store, *, mode: str = "demo", start_sources: bool = False, transport=None, config=None, clock=None):
    from analytics.scenarios import load_rules
    from tui.app import FlowtapeApp

    return FlowtapeApp(
        scenarios=load_rules((), None),
        store=store,
        config=config or _defaults(),
        mode=mode,
        transport=transport,
        clock=clock or (lambda: FROZEN),
        notice=DEMO_NOTICE if mode == "demo" else None,
        start_sources=start_sources,
    )
