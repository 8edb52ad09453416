"""One poll of one derivatives venue: fetch its requests, check envelopes, parse, store."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import httpx

from ..config import SourceConfig
from ..http import BlockedError, fetch_text, looks_like_challenge
from ..polling import BodyResult, PollOutcome, run_poll
from ..store import Store
from . import Venue
from .common import VenueDataError, loads

MAX_JSON_BYTES = 4 * 1024 * 1024


async def poll_venue(
    client: httpx.AsyncClient, store: Store, cfg: SourceConfig, venue: Venue, *, now: dt.datetime,
    rng: random.Random | None = None,
) -> PollOutcome:
    async def body() -> BodyResult:
        responses = {}
        for key, path in venue.requests(now):
            text = await fetch_text(client, cfg.base_url + path, deadline=cfg.deadline, now=now, max_bytes=MAX_JSON_BYTES)
            if looks_like_challenge(text):
                raise BlockedError(f"{key}: bot challenge instead of data")
            obj = await asyncio.to_thread(loads, text)
            venue.check(key, obj, now)
            responses[key] = obj
        quotes = await asyncio.to_thread(venue.parse, responses, now)
        if not quotes:
            raise VenueDataError("empty result")
        written = await asyncio.to_thread(store.write_quotes, quotes, fetched_at=now)
        newest = max(q.ts for q in quotes)
        stale = (now - newest).total_seconds() > venue.stale_after_s
        warning = f"newest data is from {newest:%Y-%m-%d %H:%M} UTC" if stale else None
        return BodyResult(written, 0, warning, stale=stale)

    return await run_poll(store, venue.source_id, cfg, body, now=now, rng=rng)
