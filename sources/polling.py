"""One poll of one source, with the status bookkeeping every source shares.

A poll body fetches, parses and writes; `run_poll` wraps it with the ban check, the overall deadline,
the classification of failures into states, the persisted status and the next attempt. Nothing a
failing body did is half-written: bodies write in one transaction after everything parsed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from common.calendar import from_iso, to_iso
from common.config import SourceConfig
from common.logs import kv
from common.records import DataError, SourceState, SourceStatus
from common.sanitize import clean
from store import Store, StoreError

from .http import MAX_RETRY_AFTER, FetchError, RateLimitedError
from .schedule import next_attempt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollOutcome:
    source: str
    state: SourceState
    error: str | None = None
    sessions_written: int = 0  # rows new or changed (sessions for Farside, observations for venues)
    revisions: int = 0
    warning: str | None = None
    skipped: bool = False


@dataclass(frozen=True)
class BodyResult:
    written: int = 0
    revisions: int = 0
    warning: str | None = None
    stale: bool = False  # fetched fine but the data is old: suspect, not ok


async def run_poll(
    store: Store,
    source: str,
    cfg: SourceConfig,
    body: Callable[[], Awaitable[BodyResult]],
    *,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> PollOutcome:
    """Run `body` once for `source` and persist the outcome. Never raises but for cancellation: a
    refusal (DataError, FetchError) or any other exception becomes the source's state."""
    stored = store.status(source)
    status = SourceStatus.from_row(stored)
    ban_until = stored_wait(stored, "ban_until", now)
    if ban_until and now < ban_until:
        return PollOutcome(source, status.state, status.last_error, skipped=True)
    store.set_status(source, last_attempt=to_iso(now))
    failures = status.failures
    try:
        async with asyncio.timeout(cfg.deadline):
            result = await body()
    except Exception as exc:  # noqa: BLE001 - the boundary: whatever happened, it is this source's state
        state, message, retry_at = classify(exc, cfg)
        failures += 1
        store.set_status(
            source,
            state=state,
            failures=failures,
            last_error=message,
            ban_until=to_iso(retry_at) if retry_at else None,
            next_attempt=to_iso(
                next_attempt(now, interval=cfg.interval, failures=failures, state=state, retry_at=retry_at, rng=rng)
            ),
        )
        log.warning("poll %s", kv(source=source, state=state, rows=0, error=message))
        log.debug("poll %s traceback", kv(source=source), exc_info=exc)  # FLOWTAPE_LOG_LEVEL=DEBUG
        return PollOutcome(source, state, message)
    state = SourceState.STALE if result.stale else SourceState.OK
    store.set_status(
        source,
        state=state,
        failures=0,
        last_success=to_iso(now),
        last_error=None,
        ban_until=None,
        warning=result.warning,
        next_attempt=to_iso(next_attempt(now, interval=cfg.interval, failures=0, state=state, rng=rng)),
    )
    log.info("poll %s", kv(source=source, state=state, rows=result.written, revisions=result.revisions, warning=result.warning))
    return PollOutcome(source, state, None, result.written, result.revisions, result.warning)


def stored_wait(status: Mapping[str, Any], key: str, now: dt.datetime) -> dt.datetime | None:
    """A persisted ban end (or next attempt), at most MAX_RETRY_AFTER after the attempt that set it: a Retry-After
    date in 9999 stored before the cap existed must not stop a source forever. Anchored on that attempt, not on
    now, so the capped end stays put and arrives."""
    when = from_iso(status.get(key))
    if when is None:
        return None
    attempt = from_iso(status.get("last_attempt"))
    return min(when, min(attempt or now, now) + MAX_RETRY_AFTER)


def classify(exc: BaseException, cfg: SourceConfig) -> tuple[SourceState, str, dt.datetime | None]:
    """(state, short message, retry_at) for a failed poll."""
    if isinstance(exc, RateLimitedError):
        return exc.state, str(exc), exc.retry_at
    if isinstance(exc, FetchError):
        return exc.state, str(exc), None
    if isinstance(exc, DataError):
        return exc.state, f"{exc.prefix}{exc}", None
    if isinstance(exc, TimeoutError):
        return SourceState.ERROR, f"no complete answer within {cfg.deadline:g}s", None
    if isinstance(exc, (StoreError, sqlite3.Error)):
        return SourceState.ERROR, f"store: {exc}", None
    # A bug or a shape no rule foresaw: never a traceback in `snapshot`, never a dead loop in the app.
    return SourceState.ERROR, clean(f"internal error: {type(exc).__name__}: {exc}", max_len=160), None
