"""One refresh of every enabled source, bounded in time: what `snapshot` runs before it reports."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import httpx

from common.config import Config
from common.records import SourceState
from common.sanitize import clean
from store import Store

from . import registry
from .http import make_client
from .polling import PollOutcome


async def refresh_once(
    store: Store,
    config: Config,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
    kinds: tuple[str, ...] | None = None,
) -> list[PollOutcome]:
    """Poll every enabled source (of `kinds`, or all) once, concurrently; each is bounded by its own
    deadline. `rng` seeds the schedule's jitter (tests pass a seeded one for reproducible next attempts)."""
    now = now or dt.datetime.now(dt.UTC)
    async with make_client(transport) as client:
        sources = registry.enabled(config, kinds)
        results = await asyncio.gather(
            *(registry.poll(s, client, store, config, now=now, rng=rng) for s in sources), return_exceptions=True
        )
    # run_poll turns every failure into a state; what escapes it (the store failing under the status
    # write) is still one source's error here, never the end of `snapshot`.
    return [
        r
        if isinstance(r, PollOutcome)
        else PollOutcome(s.id, SourceState.ERROR, clean(f"internal error: {type(r).__name__}: {r}", max_len=160))
        for s, r in zip(sources, results, strict=True)
    ]


async def refresh_odds(store: Store, config: Config, *, transport=None, now: dt.datetime, rng=None) -> list[PollOutcome]:
    return await refresh_once(store, config, transport=transport, now=now, rng=rng, kinds=(registry.ODDS,))


async def refresh_venues(
    store: Store, config: Config, *, transport=None, now: dt.datetime, rng: random.Random | None = None
) -> list[PollOutcome]:
    return await refresh_once(store, config, transport=transport, now=now, rng=rng, kinds=(registry.DERIVATIVES,))
