"""One poll of one derivatives venue: fetch its requests, check envelopes, parse, store."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import httpx

from common.calendar import from_iso, to_iso
from common.config import SourceConfig
from store import Store

from ..http import BlockedError, RateLimitedError, fetch_text, looks_like_challenge
from ..polling import BodyResult, PollOutcome, run_poll
from . import Venue, binance
from .common import VenueDataError, loads

MAX_JSON_BYTES = 4 * 1024 * 1024


async def poll_venue(
    client: httpx.AsyncClient,
    store: Store,
    cfg: SourceConfig,
    venue: Venue,
    *,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> PollOutcome:
    async def get(key: str, path: str, headers: dict[str, str] | None = None):
        text = await fetch_text(
            client, cfg.base_url + path, deadline=cfg.deadline, now=now, max_bytes=MAX_JSON_BYTES, headers_out=headers
        )
        if looks_like_challenge(text):
            raise BlockedError(f"{key}: bot challenge instead of data")
        obj = await asyncio.to_thread(loads, text)
        venue.check(key, obj, now)
        return obj

    async def body() -> BodyResult:
        limit = await _weight_limit(store, venue, get, now) if venue.limits_path else None
        responses = {}
        for key, path in venue.requests(now):
            headers: dict[str, str] = {}
            responses[key] = await get(key, path, headers)
            used = binance.used_weight(headers)
            if limit and used is not None and used >= binance.WEIGHT_SHARE * limit:
                # Near the per-minute weight limit: stop before Binance answers 429 (and then 418).
                next_minute = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
                raise RateLimitedError(f"request weight {used:.0f} of {limit:.0f} used this minute", next_minute)
        quotes = await asyncio.to_thread(venue.parse, responses, now)
        if not quotes:
            raise VenueDataError("empty result")
        written = await asyncio.to_thread(store.write_quotes, quotes, fetched_at=now)
        newest = max(q.ts for q in quotes)
        stale = (now - newest).total_seconds() > venue.stale_after_s
        warnings = [f"newest data is from {newest:%Y-%m-%d %H:%M} UTC"] if stale else []
        refused = store.refused.get((venue.name, now.astimezone(dt.UTC).date().isoformat()))
        if refused:  # the store's cap on new names: said where the venue's state is read, not only in a notice
            warnings.append(f"{refused} new instrument names refused today (the store takes a bounded number a day)")
        return BodyResult(written, 0, "; ".join(warnings) or None, stale=stale)

    return await run_poll(store, venue.source_id, cfg, body, now=now, rng=rng)


async def _weight_limit(store: Store, venue: Venue, get, now: dt.datetime) -> float:
    """The venue's per-minute request-weight limit: read from its exchangeInfo at most once a day."""
    key = f"weight_limit:{venue.name}"
    cached = store.meta(key)
    if cached:
        value, _, when = cached.partition("@")
        seen = from_iso(when)
        if seen and now - seen < dt.timedelta(days=1):
            return float(value)
    limit = binance.weight_limit(await get("exchange_info", venue.limits_path))
    store.set_meta(key, f"{limit:g}@{to_iso(now)}")
    return limit
