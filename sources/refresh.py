"""One refresh of every enabled source, bounded in time: what `snapshot` runs before it reports."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from .config import Config
from .farside import PollOutcome, poll_farside
from .http import make_client
from .records import ASSETS
from .store import Store


async def refresh_once(
    store: Store,
    config: Config,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    now: dt.datetime | None = None,
) -> list[PollOutcome]:
    farside = config.source("farside")
    if not farside.enabled:
        return []
    async with make_client(transport) as client:
        return list(await asyncio.gather(*(poll_farside(client, store, farside, a, now=now) for a in ASSETS)))
