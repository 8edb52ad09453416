"""BTC spot for the title line: the latest Coinbase ticker the store holds, its 24 h change and its age.

Stored as observations of venue `coinbase_spot` (sources/coinbase.py SPOT_VENUE): `last` and `open_24h` at the
ticker's own time. Pure reads, no polars: the title reads it after every poll.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sources import registry
from store import Store

SPOT_VENUE = "coinbase_spot"  # the registry id; the stored venue name of its observations
PRODUCT = "BTC-USD"
# Older than this the title shows no price at all (it said "STALE" for the last day already).
LOOK_BACK = dt.timedelta(days=1)


@dataclass(frozen=True)
class Spot:
    price: float
    open_24h: float | None  # Coinbase's 24 h stats open; None when the stats were not stored
    as_of: dt.datetime  # the ticker's own time (the last trade), not when we fetched it
    stale: bool  # older than the source's stale_after_s

    @property
    def change_24h_pct(self) -> float | None:
        if self.open_24h is None or self.open_24h <= 0:
            return None
        return (self.price / self.open_24h - 1.0) * 100.0


def load_spot(store: Store, now: dt.datetime) -> Spot | None:
    """The newest stored BTC spot at or before `now`; None when there is none in the last day."""
    since = (now - LOOK_BACK).astimezone(dt.UTC).isoformat(timespec="seconds")
    until = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    latest: dict[str, tuple[str, float]] = {}
    for _venue, instrument, metric, ts, value in store.observations(since, until, venues=(SPOT_VENUE,)):
        if instrument == PRODUCT and ts >= latest.get(metric, ("", 0.0))[0]:
            latest[metric] = (ts, value)
    if "last" not in latest:
        return None
    ts, price = latest["last"]
    opened = latest.get("open_24h")
    as_of = dt.datetime.fromisoformat(ts)
    limit = registry.stale_after_s(SPOT_VENUE)
    return Spot(
        price=price,
        open_24h=opened[1] if opened and opened[0] == ts else None,  # a 24 h open of another moment is not this change
        as_of=as_of,
        stale=limit is not None and (now - as_of).total_seconds() > limit,
    )
