"""Fed decision odds: parsers on variants of the real Polymarket and Kalshi samples, the meeting calendar,
the one-month change, and a poll on the mock transport."""

from __future__ import annotations

import copy
import datetime as dt
import json

import httpx
import pytest

from analytics.fed import compute_fed
from sources.config import SourceConfig
from sources.fed_odds import (
    OddsError, kalshi_path, next_meeting, next_meetings, parse_kalshi, parse_polymarket, poll_odds, polymarket_path)
from sources.http import make_client
from sources.store import Store

from .conftest import sample

D = dt.date
UTC = dt.timezone.utc
DEC = D(2025, 12, 10)


def polymarket_fed_event():
    """The real Gamma event sample (same schema as fed-decision-in-<month>), its markets relabelled as buckets."""
    event = json.loads(sample("polymarket_gamma_events_slug_who-will-trump-nominate-as-fed-chair.json"))
    markets = [m for m in event["markets"] if not m.get("closed")][:4]
    for market, (label, yes) in zip(markets, (("50+ bps decrease", "0.02"), ("25 bps decrease", "0.44"), ("No change", "0.53"), ("25+ bps increase", "0.01"))):
        market["groupItemTitle"] = label
        market["outcomePrices"] = json.dumps([yes, f"{1 - float(yes):.2f}"])
    event["markets"] = markets
    return event


def kalshi_fed_markets():
    base = json.loads(sample("kalshi_trade-api_v2_markets_single_KXELONMARS-99.json"))["market"]
    out = []
    for suffix, price in (("C26", "0.0200"), ("C25", "0.4400"), ("H0", "0.5300"), ("H25", "0.0100")):
        m = copy.deepcopy(base)
        m.update(ticker=f"KXFEDDECISION-25DEC-{suffix}", event_ticker="KXFEDDECISION-25DEC", last_price_dollars=price)
        out.append(m)
    return {"markets": out, "cursor": ""}


def test_polymarket_buckets_from_the_sample_schema():
    assert parse_polymarket([polymarket_fed_event()], DEC) == {"cut": 0.46, "hold": 0.53, "hike": 0.01}
    assert parse_polymarket(polymarket_fed_event(), DEC)["cut"] == 0.46  # /events/slug/... returns one object


def test_kalshi_buckets_dollar_strings_and_older_integer_cents():
    assert parse_kalshi(kalshi_fed_markets(), DEC) == {"cut": 0.46, "hold": 0.53, "hike": 0.01}
    old = kalshi_fed_markets()
    for m in old["markets"]:
        m["last_price"] = round(float(m.pop("last_price_dollars")) * 100)
    assert parse_kalshi(old, DEC) == {"cut": 0.46, "hold": 0.53, "hike": 0.01}


@pytest.mark.parametrize("mutate,needle", [
    (lambda e: e["markets"][0].update(outcomePrices="not json"), "not JSON"),
    (lambda e: e["markets"][0].update(outcomePrices=json.dumps(["1.7", "-0.7"])), "outside 0..1"),
    (lambda e: e["markets"][0].update(outcomePrices=json.dumps(["NaN", "0.5"])), "outside 0..1"),
    (lambda e: e.update(markets=[]), "no cut / hold / hike"),
    (lambda e: e.update(closed=True), "no open event"),
])
def test_hostile_polymarket_variants(mutate, needle):
    event = polymarket_fed_event()
    mutate(event)
    with pytest.raises(OddsError, match=needle):
        parse_polymarket([event], DEC)


def test_hostile_kalshi_variants():
    with pytest.raises(OddsError, match="no markets"):
        parse_kalshi({"markets": []}, DEC)
    bad = kalshi_fed_markets()
    bad["markets"][0]["last_price_dollars"] = "abc"
    with pytest.raises(OddsError, match="not a number"):
        parse_kalshi(bad, DEC)


def test_meeting_calendar_and_paths():
    assert next_meeting(D(2025, 11, 24)) == DEC and next_meeting(DEC) == DEC
    assert next_meetings(D(2025, 12, 11)) == [D(2026, 1, 28), D(2026, 3, 18)]
    assert polymarket_path(DEC) == "/events?slug=fed-decision-in-december&slug=fed-decision-in-december-2025&closed=false"
    assert kalshi_path(DEC) == "/markets?event_ticker=KXFEDDECISION-25DEC"
    assert next_meeting(D(2030, 1, 1)) is None


def test_one_month_change_compares_the_same_meeting():
    now = dt.datetime(2025, 11, 24, 22, tzinfo=UTC)
    rows = [("polymarket", "2025-12-10", "cut", (now - dt.timedelta(days=31)).isoformat(), 0.937),
            ("polymarket", "2025-10-29", "cut", (now - dt.timedelta(days=31)).isoformat(), 0.99),
            ("polymarket", "2025-12-10", "cut", now.isoformat(), 0.46)]
    fed = compute_fed(rows, now)
    v = fed.venues["polymarket"]
    assert fed.meeting == DEC and v.odds["cut"] == 0.46 and v.month_change_pt["cut"] == -47.7  # 93.7% -> 46%
    assert compute_fed(rows, now + dt.timedelta(hours=7)).venues["polymarket"].stale


async def test_poll_stores_both_meetings_and_tolerates_a_missing_second(tmp_path):
    now = dt.datetime(2025, 11, 24, 22, tzinfo=UTC)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params.get("event_ticker"))
        if request.url.params.get("event_ticker") == "KXFEDDECISION-25DEC":
            return httpx.Response(200, json=kalshi_fed_markets())
        return httpx.Response(200, json={"markets": []})  # January has no market yet

    store = Store.open(tmp_path / "f.db")
    async with make_client(httpx.MockTransport(handler)) as client:
        out = await poll_odds(client, store, SourceConfig("kalshi", "https://kalshi.test", 900), "kalshi", now=now)
    assert out.state == "ok" and seen == ["KXFEDDECISION-25DEC", "KXFEDDECISION-26JAN"]
    assert {r[1] for r in store.observations()} == {"2025-12-10"}
    store.close()
