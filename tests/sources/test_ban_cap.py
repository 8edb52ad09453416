"""A host's Retry-After, in any form, stops a source for at most a day, also when read back from the store.

An HTTP date in 9999 banned a source forever: the ban end is persisted (and used as the next attempt),
so it outlived restarts. Negative, past and garbage values still fall back to backoff.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.calendar import from_iso, to_iso
from common.config import SourceConfig
from sources.http import MAX_RETRY_AFTER, parse_retry_after
from sources.polling import BodyResult, run_poll
from sources.runner import SourceLoop
from store import Store
from tests.sources.test_farside_fetch import NOW, RECENT_PATHS, poll, seeded

DAY = dt.timedelta(days=1)
CFG = SourceConfig("farside", "https://farside.test", interval=900, deadline=3)


@pytest.mark.parametrize(
    "value",
    [
        "Fri, 31 Dec 9999 23:59:59 GMT",  # the forever ban
        "Sun, 01 Jan 2040 00:00:00 +0000",
        "86401",
        "999999999999999999999",
        "9" * 5000,  # more digits than int() accepts by default
    ],
)
def test_any_retry_after_is_capped_at_a_day(value):
    assert parse_retry_after(value, NOW) == NOW + DAY


@pytest.mark.parametrize("value", ["-5", "1.5", "\u00b2", "Mon, 01 Jan 2024 00:00:00 +99999999999999999999", "soon", ""])
def test_garbage_retry_after_falls_back_to_backoff(value):
    assert parse_retry_after(value, NOW) is None  # "²".isdigit() is true: int() raised; a huge offset overflowed


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    )
)
def test_retry_after_is_none_or_within_a_day(value):
    when = parse_retry_after(value, NOW)
    assert when is None or NOW <= when <= NOW + MAX_RETRY_AFTER


async def test_a_429_until_9999_bans_for_a_day_then_polls_again(store):
    await seeded(store)
    calls = []

    def limited(request):
        calls.append(request)
        return httpx.Response(429, headers={"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"})

    out = await poll(store, {RECENT_PATHS["btc"]: limited})
    assert out.state == "rate-limited"
    st_ = store.status("farside_btc")
    assert from_iso(st_["ban_until"]) == NOW + DAY == from_iso(st_["next_attempt"])
    assert (await poll(store, {RECENT_PATHS["btc"]: limited}, now=NOW + DAY - dt.timedelta(seconds=1))).skipped
    out = await poll(store, {RECENT_PATHS["btc"]: limited}, now=NOW + DAY)
    assert not out.skipped and len(calls) == 2


def _legacy_ban(store: Store) -> None:
    """A ban stored before the cap existed: 9999 in both the ban end and the next attempt."""
    forever = to_iso(dt.datetime(9999, 12, 31, tzinfo=dt.UTC))
    store.set_status("farside_btc", state="rate-limited", last_attempt=to_iso(NOW), ban_until=forever, next_attempt=forever)


async def test_a_stored_ban_beyond_a_day_ends_a_day_after_the_attempt(store):
    _legacy_ban(store)
    bodies = []

    async def body():
        bodies.append(1)
        return BodyResult()

    assert (await run_poll(store, "farside_btc", CFG, body, now=NOW + dt.timedelta(hours=23))).skipped
    out = await run_poll(store, "farside_btc", CFG, body, now=NOW + DAY)
    assert not out.skipped and out.state == "ok" and bodies == [1]


def test_the_source_loop_wakes_a_day_after_a_stored_forever_ban(store):
    _legacy_ban(store)
    for later in (dt.timedelta(0), dt.timedelta(hours=5), DAY + dt.timedelta(hours=1)):  # the end stays put
        loop = SourceLoop("farside_btc", None, store, clock=lambda later=later: NOW + later, on_outcome=lambda o: None)  # type: ignore[arg-type]
        assert loop._due() == NOW + DAY


def test_a_short_stored_ban_is_unchanged(store):
    store.set_status(
        "farside_btc",
        last_attempt=to_iso(NOW),
        ban_until=to_iso(NOW + dt.timedelta(hours=2)),
        next_attempt=to_iso(NOW + dt.timedelta(hours=2)),
    )
    loop = SourceLoop("farside_btc", None, store, clock=lambda: NOW, on_outcome=lambda o: None)  # type: ignore[arg-type]
    assert loop._due() == NOW + dt.timedelta(hours=2)
