"""When a source polls next: jittered intervals after success, capped exponential backoff after failure.

This is the only retry layer (docs/ARCHITECTURE.md): fetches themselves never retry.
"""

from __future__ import annotations

import datetime as dt
import random

BACKOFF_BASE_S = 30.0
JITTER = 0.1


def jittered(seconds: float, rng: random.Random | None = None) -> float:
    """`seconds` +/- 10%, so sources started together do not poll in lockstep."""
    jitter = rng.uniform(-JITTER, JITTER) if rng else random.uniform(-JITTER, JITTER)
    return seconds * (1.0 + jitter)


def backoff_seconds(failures: int, interval: float, rng: random.Random | None = None) -> float:
    """30 s, 60 s, 120 s ... after consecutive failures, capped at the source's own interval (min 5 min)."""
    cap = max(interval, 300.0)
    # The exponent is clamped: a source failing all day must not overflow float conversion.
    doublings = min(max(0, failures - 1), 30)
    return jittered(min(cap, BACKOFF_BASE_S * 2.0**doublings), rng)


def next_attempt(
    now: dt.datetime,
    *,
    interval: float,
    failures: int,
    state: str,
    retry_at: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> dt.datetime:
    if retry_at is not None and retry_at > now:
        return retry_at  # the host said when; asking earlier risks a longer ban
    if failures == 0:
        return now + dt.timedelta(seconds=jittered(interval, rng))
    delay = backoff_seconds(failures, interval, rng)
    if state == "blocked":
        delay = max(delay, jittered(interval, rng))  # a challenge will not clear in 30 s: poll rarely
    return now + dt.timedelta(seconds=delay)
