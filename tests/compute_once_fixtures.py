"""A randomized store of many months (sessions, revisions, venue observations polled and thinned as in real use),
for comparing the compute-once path with the straightforward full replay."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from common.records import FlowRow, FlowTable
from store import Store

UTC = dt.UTC
FUNDS = ("AAA", "BBB", "CCC")


def sessions(first: dt.date, count: int) -> list[dt.date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def flow_table(asset: str, days: list[dt.date], rng: random.Random, provisional_last: bool = False) -> FlowTable:
    rows = []
    for n, day in enumerate(days):
        scale = 900.0 if rng.random() < 0.1 else 250.0  # now and then a day big enough for the snapback rule
        funds: dict[str, float | None] = {f: round(rng.gauss(0.0, scale / 3), 1) for f in FUNDS}
        total = round(sum(v for v in funds.values() if v is not None), 1)
        rows.append(FlowRow(day, funds, total, provisional_last and n == len(days) - 1))
    return FlowTable(asset, FUNDS, tuple(rows))


def quotes(when: dt.datetime, rng: random.Random, basis_pct: float) -> list[tuple]:
    """One poll of three venues: two perpetuals and Deribit's dated futures (a new one listed every 30 days)."""
    ts = when.isoformat(timespec="seconds")
    index = 60_000.0 + rng.uniform(-500, 500)
    out: list[tuple] = []
    for venue, name in (("binance", "BTCUSDT"), ("okx", "BTC-USDT-SWAP"), ("deribit", "BTC-PERPETUAL")):
        mark = index * (1 + rng.uniform(-0.0005, 0.0005))
        out += [
            (venue, name, "mark", ts, mark),
            (venue, name, "index", ts, index),
            (venue, name, "funding_rate", ts, rng.uniform(-0.0002, 0.0004)),
            (venue, name, "funding_interval_h", ts, 8.0),
            (venue, name, "oi_usd", ts, rng.uniform(5e9, 9e9)),
        ]
    epoch = dt.datetime(2025, 1, 3, 8, tzinfo=UTC)
    k = int((when - epoch).total_seconds() // (30 * 86400))
    for j in range(k + 1, k + 5):
        expiry = epoch + dt.timedelta(days=30 * j)
        days = (expiry - when).total_seconds() / 86400
        mark = index * (1 + basis_pct / 100 * days / 365)
        name = f"BTC-{expiry:%d%b%y}".upper()
        out += [("deribit", name, "mark", ts, mark), ("deribit", name, "index", ts, index)]
        out += [("deribit", name, "expiry", ts, expiry.timestamp())]
    return out


def poll_times(days: list[dt.date], rng: random.Random) -> list[dt.datetime]:
    """Each session: a poll shortly before the New York close cut-off, two at random hours, two in one hour."""
    out = []
    for day in days:
        base = dt.datetime.combine(day, dt.time(0), tzinfo=UTC)
        out.append(base + dt.timedelta(hours=28, minutes=50))  # 04:50 UTC the next day: before 23:59:59 New York
        for h in rng.sample(range(1, 24), 2):
            out.append(base + dt.timedelta(hours=h, minutes=rng.randrange(60)))
        h = rng.randrange(1, 24)
        out += [base + dt.timedelta(hours=h, minutes=5), base + dt.timedelta(hours=h, minutes=40)]
    return sorted(set(out))


def build(path: Path, *, n_sessions: int = 120, seed: int = 0) -> tuple[Store, dt.datetime, list[dt.date]]:
    """(store, now, BTC session days): sessions for btc and eth, polls at their times (thinned as they go)."""
    rng = random.Random(seed)
    store = Store.open(path)
    days = sessions(dt.date(2025, 3, 3), n_sessions)
    basis = 6.0
    for when in poll_times(days, rng):
        basis = min(15.0, max(-2.0, basis + rng.gauss(0, 0.8)))
        store.write_observation_rows(quotes(when, rng, basis), fetched_at=when)
    now = dt.datetime.combine(days[-1], dt.time(0), tzinfo=UTC) + dt.timedelta(hours=29)
    store.write_table(flow_table("btc", days, rng), source="test", fetched_at=now)
    store.write_table(flow_table("eth", days[len(days) // 3 :], rng), source="test", fetched_at=now)
    return store, now, days
