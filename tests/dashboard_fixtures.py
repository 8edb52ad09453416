"""Build dashboard apps over a prepared store: injected data, frozen clock, no network."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from pathlib import Path

from common.config import parse_config
from demo import DEMO_NOW, demo_config, demo_transport, replay_history
from sources.refresh import refresh_once
from store import Store

FROZEN = DEMO_NOW + dt.timedelta(minutes=5)


def _defaults():
    """Built-in defaults (whatever the developer's own config says) with every source on the demo transport."""
    return demo_config(parse_config({}, Path("<defaults>")))


def demo_store(path: Path) -> Store:
    """A store filled through the real fetch path from the demo recordings, as of the demo's clock."""
    store = Store.open(path)
    asyncio.run(replay_history(store, _defaults(), [DEMO_NOW], rng=random.Random(0)))
    asyncio.run(refresh_once(store, _defaults(), transport=demo_transport(), now=DEMO_NOW, rng=random.Random(0)))
    return store


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
        notice="replayed sample data, partly illustrative" if mode == "demo" else None,
        start_sources=start_sources,
    )
