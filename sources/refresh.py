"""One refresh of every enabled source, bounded in time: what `snapshot` runs before it reports."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import httpx

from .config import Config
from .coinbase import poll_coinbase
from .fed_odds import KALSHI, POLYMARKET, poll_odds
from .farside import poll_farside
from .http import make_client
from .polling import PollOutcome
from .records import ASSETS
from .store import Store
from .venues import VENUES
from .venues.poll import poll_venue


async def refresh_once(
    store: Store,
    config: Config,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> list[PollOutcome]:
    """Poll every enabled source once, concurrently; each is bounded by its own deadline.
    `rng` seeds the schedule's jitter (tests pass a seeded one for reproducible next attempts)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    farside = config.source("farside")
    async with make_client(transport) as client:
        polls = [poll_farside(client, store, farside, a, now=now, rng=rng) for a in ASSETS] if farside.enabled else []
        polls += _venue_polls(client, store, config, now, rng)
        if config.source("coinbase").enabled:
            polls.append(poll_coinbase(client, store, config.source("coinbase"), cycle_start=config.cycle_start, now=now, rng=rng))
        polls += _odds_polls(client, store, config, now, rng)
        return list(await asyncio.gather(*polls))


async def refresh_odds(store: Store, config: Config, *, transport=None, now: dt.datetime, rng=None) -> list[PollOutcome]:
    async with make_client(transport) as client:
        return list(await asyncio.gather(*_odds_polls(client, store, config, now, rng)))


def _odds_polls(client, store: Store, config: Config, now: dt.datetime, rng):
    return [poll_odds(client, store, config.source(w), w, now=now, rng=rng) for w in (POLYMARKET, KALSHI) if config.source(w).enabled]


async def refresh_venues(store: Store, config: Config, *, transport=None, now: dt.datetime,
                         rng: random.Random | None = None) -> list[PollOutcome]:
    async with make_client(transport) as client:
        return list(await asyncio.gather(*_venue_polls(client, store, config, now, rng)))


def _venue_polls(client, store: Store, config: Config, now: dt.datetime, rng: random.Random | None):
    return [
        poll_venue(client, store, config.source(name), venue, now=now, rng=rng)
        for name, venue in VENUES.items()
        if config.source(name).enabled
    ]
