"""A long-lived loop per source: poll when due, sleep until the next attempt, wake on demand.

No textual here: the dashboard runs each loop in one worker; anything else can run it with asyncio.
Polls never overlap (the next one is armed only when the last one finished), and the due time comes
from the persisted source status, so backoff and bans survive restarts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

from common.records import SourceState
from common.sanitize import clean
from store import Store

from .polling import PollOutcome, stored_wait

MAX_SLEEP_S = 60.0  # re-read the schedule at least this often (clock changes, config reloads)


class SourceLoop:
    def __init__(
        self,
        source_id: str,
        poll: Callable[[dt.datetime], Awaitable[PollOutcome]],
        store: Store,
        *,
        clock: Callable[[], dt.datetime],
        on_outcome: Callable[[PollOutcome], None],
    ) -> None:
        self.source_id = source_id
        self._poll = poll
        self._store = store
        self._clock = clock
        self._on_outcome = on_outcome
        self._wake = asyncio.Event()
        self._force = False
        self.paused = False
        self.polls = 0
        self._not_before: dt.datetime | None = None  # floor when the status could not be written

    def refresh_now(self) -> None:
        """Poll at once (a ban the host asked for is still honoured by the poll itself)."""
        self._force = True
        self._wake.set()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._wake.set()

    def _due(self) -> dt.datetime | None:
        status = self._store.status(self.source_id)
        now = self._clock()  # both may hold a host's Retry-After from before its cap: capped again when read
        stored = (stored_wait(status, "next_attempt", now), stored_wait(status, "ban_until", now))
        times = [t for t in (*stored, self._not_before) if t]
        return max(times) if times else None

    async def run(self) -> None:
        while True:
            delay: float | None = None
            if not self.paused:
                now = self._clock()
                due = self._due()
                if self._force or due is None or now >= due:
                    self._force = False
                    await self._poll_once(now)
                    continue
                delay = min((due - now).total_seconds(), MAX_SLEEP_S)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay if delay is not None else MAX_SLEEP_S)
            except TimeoutError:
                pass

    async def _poll_once(self, now: dt.datetime) -> None:
        self.polls += 1
        try:
            outcome = await self._poll(now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in a poll must not end the loop: report it and back off
            message = clean(f"internal error: {type(exc).__name__}: {exc}", max_len=160)
            self._not_before = now + dt.timedelta(seconds=MAX_SLEEP_S)  # holds even if the status cannot be written
            try:
                self._store.set_status(
                    self.source_id,
                    state=SourceState.ERROR,
                    last_error=message,
                    next_attempt=(now + dt.timedelta(seconds=MAX_SLEEP_S)).isoformat(),
                )
            except Exception:
                pass
            outcome = PollOutcome(self.source_id, SourceState.ERROR, message)
        if outcome.skipped:
            await asyncio.sleep(1.0)  # banned: the due time is the ban end; never spin
        self._on_outcome(outcome)
