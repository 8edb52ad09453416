"""Fed decision odds against the venues' real listings (tests/data/real/{polymarket,kalshi}): resolving the
meeting's event from a listing (suffixed slugs, the right year), the calendar through 2027 and the
`[fed] decision_days` key, "no market listed yet" as a state, the bounds on prices and on each venue's sum,
hostile variants derived from the real captures, and properties over mutated captures."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.fed import NOT_LISTED, compute_fed, load_fed
from analytics.snapshot import fed_document
from common.config import ConfigError, SourceConfig, load_config, parse_config
from sources import registry
from sources.fed_odds import (
    FOMC_DECISION_DAYS,
    KALSHI,
    LISTING_PATHS,
    POLYMARKET,
    UNLISTED,
    OddsError,
    calendar,
    listed_events,
    next_meeting,
    next_meetings,
    parse_kalshi,
    parse_polymarket,
    poll_odds,
    resolve,
)
from sources.http import make_client
from store import Store
from tui.context_pane import fed_text

D = dt.date
UTC = dt.UTC
REAL = Path(__file__).resolve().parents[1] / "data" / "real"
SEP26, OCT26, DEC26, JAN27 = D(2026, 9, 16), D(2026, 10, 28), D(2026, 12, 9), D(2027, 1, 27)


def poly_listing() -> list:
    """Gamma /events listing with one open event, `fed-decision-in-september-762`, for 16 Sep 2026."""
    return json.loads((REAL / "polymarket" / "gamma_events_listing_fed-decision-in-september-762.json").read_text())


def kalshi_listing() -> dict:
    """Kalshi /events?series_ticker=KXFEDDECISION&with_nested_markets=true: 26OCT, 26DEC, 27JAN."""
    return json.loads((REAL / "kalshi" / "kalshi_events_KXFEDDECISION_open_nested.json").read_text())


def poly_market(listing: list, label: str) -> dict:
    return next(m for m in listing[0]["markets"] if m["groupItemTitle"] == label)


def kalshi_market(listing: dict, ticker: str) -> dict:
    return next(m for e in listing["events"] for m in e["markets"] if m["ticker"] == ticker)


# ---- resolving the meeting's event from the listing ---------------------------------------------------


def test_polymarket_resolves_the_suffixed_slug_by_month_and_end_date():
    # Real prices: cut 0.0095 + 0.0165, hold 0.625, hike 0.365 + 0.0075 (summing to 1.0235, not normalised).
    assert parse_polymarket(poly_listing(), SEP26) == {"cut": 0.026, "hold": 0.625, "hike": 0.3725}
    assert parse_polymarket(poly_listing()[0], SEP26)["hold"] == 0.625  # /events/slug/<slug> answers one object
    assert parse_polymarket(poly_listing(), D(2025, 9, 17)) is None  # same month, the year before: not this event
    assert parse_polymarket(poly_listing(), OCT26) is None


def test_kalshi_resolves_the_event_by_ticker_and_strike_date():
    listing = kalshi_listing()
    assert parse_kalshi(listing, OCT26) == {"cut": 0.02, "hold": 0.8, "hike": 0.22}
    assert parse_kalshi(listing, DEC26) == {"cut": 0.03, "hold": 0.26, "hike": 0.76}
    assert parse_kalshi(listing, JAN27) == {"cut": 0.04, "hold": 0.6, "hike": 0.38}
    assert parse_kalshi(listing, D(2025, 12, 10)) is None  # KXFEDDECISION-25DEC is not listed
    moved = kalshi_listing()
    moved["events"][1]["strike_date"] = "2026-12-16T19:00:00Z"  # the ticker's month, another date: not this meeting
    assert parse_kalshi(moved, DEC26) is None


def test_resolver_picks_the_event_nearest_the_meeting_when_a_month_recurs():
    listing = poly_listing()
    later = copy.deepcopy(listing[0])
    later.update(slug="fed-decision-in-september-20270301120000000", endDate="2027-09-16T03:59:00Z")
    for market in later["markets"]:
        market["outcomePrices"] = json.dumps(["0.2", "0.8"])
    events = listed_events(POLYMARKET, [later, *listing])
    assert resolve(events, SEP26).ref == "fed-decision-in-september-762"
    assert resolve(events, D(2027, 9, 15)).ref.endswith("20270301120000000")


async def _poll(handler, which, now, days=FOMC_DECISION_DAYS, tmp_path=None, db="odds"):
    store = Store.open(tmp_path / f"{db}.db")
    async with make_client(httpx.MockTransport(handler)) as client:
        out = await poll_odds(
            client, store, SourceConfig(which, f"https://{which}.test", 900), which, now=now, decision_days=days
        )
    return out, store


async def test_poll_finds_the_suffixed_event_through_the_listing(tmp_path):
    """Gamma answers an exact slug that does not exist with []: only the listing finds `-762`."""
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.params.get("tag_slug") == "fed-rates":
            return httpx.Response(200, json=poly_listing())
        return httpx.Response(200, json=[])

    out, store = await _poll(handler, POLYMARKET, dt.datetime(2026, 8, 7, 20, tzinfo=UTC), tmp_path=tmp_path)
    assert out.state == "ok", out
    assert seen == ["https://polymarket.test" + LISTING_PATHS[POLYMARKET]]  # one request a poll
    assert {(r[1], r[2], r[4]) for r in store.observations() if r[2] != UNLISTED} == {
        ("2026-09-16", "cut", 0.026),
        ("2026-09-16", "hold", 0.625),
        ("2026-09-16", "hike", 0.3725),
    }
    store.close()


def test_registry_names_the_listing_endpoints_the_poll_asks():
    assert [registry.spec(w).endpoints for w in (POLYMARKET, KALSHI)] == [(LISTING_PATHS[POLYMARKET],), (LISTING_PATHS[KALSHI],)]


async def test_poll_reads_2027_and_tolerates_a_bad_second_meeting(tmp_path):
    listing = kalshi_listing()
    kalshi_market(listing, "KXFEDDECISION-27JAN-H0")["last_price_dollars"] = "7.5"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["series_ticker"] == "KXFEDDECISION"
        return httpx.Response(200, json=listing)

    out, store = await _poll(handler, KALSHI, dt.datetime(2026, 11, 25, 12, tzinfo=UTC), tmp_path=tmp_path)
    assert out.state == "ok" and "27 Jan 2027 meeting not read" in out.warning and "7.5" in out.warning
    assert {r[1] for r in store.observations()} == {"2026-12-09"}
    store.close()
    out, store = await _poll(
        lambda r: httpx.Response(200, json=kalshi_listing()),
        KALSHI,
        dt.datetime(2026, 12, 10, 12, tzinfo=UTC),
        tmp_path=tmp_path,
        db="after",
    )
    assert out.state == "ok" and out.warning is None
    assert {r[1] for r in store.observations()} >= {"2027-01-27"}  # past 9 Dec 2026 the pane still has a meeting
    store.close()


# ---- the calendar and [fed] decision_days ----------------------------------------------------------------


def test_calendar_runs_through_2027_and_config_extends_it():
    assert next_meetings(D(2026, 12, 10)) == [JAN27, D(2027, 3, 17)]
    assert next_meeting(D(2027, 12, 9)) == D(2028, 1, 26)
    assert next_meeting(D(2028, 1, 27)) is None
    assert next_meeting(D(2028, 1, 27), calendar((D(2028, 3, 15),))) == D(2028, 3, 15)
    assert calendar((DEC26,)) == FOMC_DECISION_DAYS  # a configured day already known is not doubled


def test_fed_decision_days_config_key(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[fed]\ndecision_days = [2028-04-26, 2028-03-15]\n")
    assert load_config(path).fed.decision_days == (D(2028, 3, 15), D(2028, 4, 26))
    assert parse_config({}, path).fed.decision_days == ()


@pytest.mark.parametrize(
    "table",
    [
        {"decision_days": ["2028-03-15"]},
        {"decision_days": [dt.datetime(2028, 3, 15, 14)]},
        {"decision_days": [D(2101, 1, 1)]},
        {"decision_days": D(2028, 3, 15)},
        {"decision_days": ["a\nb"]},
        {"decision_day": [D(2028, 3, 15)]},
    ],
)
def test_fed_decision_days_refused_with_one_line_naming_the_key(table, tmp_path):
    with pytest.raises(ConfigError) as exc:
        parse_config({"fed": table}, tmp_path / "config.toml")
    assert "fed.decision_day" in str(exc.value) and "\n" not in str(exc.value)


async def test_past_the_calendar_the_listing_says_which_meeting_is_next(tmp_path):
    listing = kalshi_listing()
    for event in listing["events"]:  # the same listing 104 weeks on (same weekdays), past every known day
        when = dt.datetime.fromisoformat(event["strike_date"]) + dt.timedelta(weeks=104)
        event.update(event_ticker=f"KXFEDDECISION-{when:%y%b}".upper(), strike_date=when.isoformat())
    now = dt.datetime(2028, 10, 1, tzinfo=UTC)
    out, store = await _poll(lambda r: httpx.Response(200, json=listing), KALSHI, now, tmp_path=tmp_path)
    assert out.state == "ok", out
    fed = load_fed(store, now)
    assert fed.meeting == D(2028, 10, 25) and fed.venues[KALSHI].odds["hold"] == 0.8  # 25 Oct 2028, a Wednesday
    store.close()


# ---- no market listed yet --------------------------------------------------------------------------------


async def test_no_market_listed_yet_is_a_state_with_the_meeting_date(tmp_path):
    now = dt.datetime(2026, 8, 20, tzinfo=UTC)  # next meetings: 16 Sep (listed) and 28 Oct (not yet)
    out, store = await _poll(
        lambda r: httpx.Response(200, json=poly_listing()), POLYMARKET, now, days=(OCT26, DEC26), tmp_path=tmp_path
    )
    assert out.state == "ok" and "no market listed yet for the 28 Oct 2026 meeting" in out.warning
    fed = load_fed(store, now, (OCT26, DEC26))
    assert fed.meeting == OCT26 and fed.venues == {} and fed.unlisted == (POLYMARKET,) and fed.state == NOT_LISTED
    doc = fed_document(fed)
    assert doc["meeting"] == "2026-10-28" and doc["state"] == "no market listed yet" and doc["no_market_listed"] == ["polymarket"]
    assert fed_text(fed).plain == "28 Oct 2026: no market listed yet (Polymarket)"
    store.close()


def test_a_later_listing_replaces_no_market_listed_and_vice_versa():
    now = dt.datetime(2026, 11, 25, 12, tzinfo=UTC)
    t0, t1 = (now - dt.timedelta(hours=2)).isoformat(), (now - dt.timedelta(hours=1)).isoformat()
    rows = [
        (KALSHI, "2026-12-09", UNLISTED, t0, 1.0),
        (KALSHI, "2026-12-09", "cut", t1, 0.03),
        (POLYMARKET, "2026-12-09", "cut", t0, 0.04),
        (POLYMARKET, "2026-12-09", UNLISTED, t1, 1.0),
    ]
    fed = compute_fed(rows, now)
    assert set(fed.venues) == {KALSHI} and fed.unlisted == (POLYMARKET,) and fed.state == "ok"
    assert fed_text(fed).plain == "09 Dec 2026: Kalshi cut 3% hold — hike — · Polymarket no market listed yet"


# ---- bounds: prices, each venue's sum, odd shapes ------------------------------------------------------------


def test_a_venue_whose_buckets_do_not_sum_to_about_one_is_refused_naming_the_sum():
    listing = kalshi_listing()
    kalshi_market(listing, "KXFEDDECISION-26DEC-H0")["last_price_dollars"] = "0.9000"  # 1.05 -> 1.69
    with pytest.raises(OddsError, match=r"KXFEDDECISION-26DEC buckets sum = 1.69 is outside \[0.85, 1.15\]"):
        parse_kalshi(listing, DEC26)
    poly = poly_listing()
    poly_market(poly, "No change")["outcomePrices"] = json.dumps(["0.2", "0.8"])  # 1.0235 -> 0.5985
    with pytest.raises(OddsError, match="buckets sum = 0.5985"):
        parse_polymarket(poly, SEP26)


def _poly_set(label, key, value):
    def mutate(listing):
        poly_market(listing, label)[key] = value

    return mutate


@pytest.mark.parametrize(
    "mutate,needle",
    [
        (_poly_set("No change", "outcomePrices", "not json"), "outcomePrices is not a JSON list"),
        (_poly_set("No change", "outcomePrices", json.dumps(["1.7", "-0.7"])), "price = 1.7 is outside"),
        (_poly_set("No change", "outcomePrices", json.dumps(["NaN", "0.5"])), "price = nan is outside"),
        (_poly_set("No change", "outcomePrices", json.dumps([{"p": 1}, "0.5"])), "is not a number"),
        (_poly_set("No change", "outcomePrices", json.dumps([10**400, 1])), "is not a number"),
        (_poly_set("No change", "outcomes", json.dumps(["Oui", "Non"])), "no Yes price"),
        (lambda e: e[0].update(markets={"0": {}}), "markets is not a list"),
        (lambda e: e[0].update(markets=[]), "no cut / hold / hike markets"),
        (lambda e: e[0].update(endDate="soon"), "endDate"),
        (lambda e: e[0].update(closed=True), "no open Fed decision events"),
        (lambda e: e.clear(), "no open Fed decision events"),
    ],
)
def test_hostile_polymarket_variants(mutate, needle):
    listing = poly_listing()
    mutate(listing)
    with pytest.raises(OddsError, match=needle):
        parse_polymarket(listing, SEP26)


@pytest.mark.parametrize(
    "mutate,needle",
    [
        (lambda k: kalshi_market(k, "KXFEDDECISION-26DEC-H0").update(last_price_dollars="abc"), "not a number"),
        (lambda k: kalshi_market(k, "KXFEDDECISION-26DEC-H0").update(last_price_dollars={"v": 1}), "not a number"),
        (lambda k: kalshi_market(k, "KXFEDDECISION-26DEC-H0").pop("last_price_dollars"), "no last price"),
        (
            lambda k: kalshi_market(k, "KXFEDDECISION-26DEC-H0").update(last_price_dollars=None, last_price=10**400),
            "not a number",
        ),
        (lambda k: kalshi_market(k, "KXFEDDECISION-26DEC-H0").update(ticker="KX\x1b]0;pwned\x07-H0"), "not an instrument name"),
        (lambda k: k["events"][1].update(markets="none"), "markets is not a list"),
        (lambda k: k["events"][1].update(strike_date=12), "strike_date"),
        (lambda k: k.update(events={"a": 1}), "no `events` list"),
        (lambda k: k.update(events=[]), "no open Fed decision events"),
    ],
)
def test_hostile_kalshi_variants(mutate, needle):
    listing = kalshi_listing()
    mutate(listing)
    with pytest.raises(OddsError, match=needle) as exc:
        parse_kalshi(listing, DEC26)
    assert "\x1b" not in str(exc.value)


def test_kalshi_older_integer_cents_and_labels_sanitised():
    old = kalshi_listing()
    for m in old["events"][1]["markets"]:
        m["last_price"] = round(float(m.pop("last_price_dollars")) * 100)
    assert parse_kalshi(old, DEC26) == {"cut": 0.03, "hold": 0.26, "hike": 0.76}
    poly = poly_listing()
    poly_market(poly, "No change")["groupItemTitle"] = "\x1b]0;owned\x07No change"
    assert parse_polymarket(poly, SEP26)["hold"] == 0.625  # the label is cleaned, still read as hold
    poly_market(poly, "\x1b]0;owned\x07No change")["outcomePrices"] = "[bad"
    with pytest.raises(OddsError) as exc:
        parse_polymarket(poly, SEP26)
    assert "\x1b" not in str(exc.value) and "\x07" not in str(exc.value)


def test_one_month_change_compares_the_same_meeting():
    now = dt.datetime(2025, 11, 24, 22, tzinfo=UTC)
    rows = [
        ("polymarket", "2025-12-10", "cut", (now - dt.timedelta(days=31)).isoformat(), 0.937),
        ("polymarket", "2025-10-29", "cut", (now - dt.timedelta(days=31)).isoformat(), 0.99),
        ("polymarket", "2025-12-10", "cut", now.isoformat(), 0.46),
    ]
    fed = compute_fed(rows, now)
    v = fed.venues["polymarket"]
    assert fed.meeting == D(2025, 12, 10) and v.odds["cut"] == 0.46 and v.month_change_pt["cut"] == -47.7  # 93.7% -> 46%
    assert compute_fed(rows, now + dt.timedelta(hours=7)).venues["polymarket"].stale


# ---- properties: mutated real captures give odds in bounds, None, or OddsError ------------------------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.just("NaN"),
    st.just('["0.5", "0.5"]'),
    st.just('[{"x": 1}]'),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _paths(node, prefix=()):
    """Every (container, key) in a JSON tree."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        yield prefix + (k,)
        yield from _paths(v, prefix + (k,))


def _mutate(obj, data):
    obj = copy.deepcopy(obj)
    paths = list(_paths(obj))
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(paths))
        parent = obj
        try:
            for k in path[:-1]:
                parent = parent[k]
            action = data.draw(st.sampled_from(["swap", "drop", "junk_key"]))
            if action == "drop" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif action == "junk_key" and isinstance(parent, dict):
                parent[data.draw(st.text(max_size=8))] = data.draw(JUNK)
            else:
                parent[path[-1]] = data.draw(JUNK)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the path
    return obj


def _check(result):
    assert result is None or (isinstance(result, dict) and set(result) <= {"cut", "hold", "hike"} and result)
    for v in (result or {}).values():
        assert isinstance(v, float) and math.isfinite(v) and 0.0 <= v <= 1.0


MEETINGS = st.sampled_from([SEP26, OCT26, DEC26, JAN27, D(2025, 12, 10)])


@pytest.mark.parametrize("parse,listing", [(parse_polymarket, poly_listing), (parse_kalshi, kalshi_listing)])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), meeting=MEETINGS)
def test_property_parsers_on_mutated_real_listings(parse, listing, data, meeting):
    try:
        _check(parse(_mutate(listing(), data), meeting))
    except OddsError:
        pass


@settings(max_examples=200, deadline=None)
@given(meeting=st.dates(D(2020, 1, 1), D(2100, 12, 31)), which=st.sampled_from([POLYMARKET, KALSHI]))
def test_property_resolver_only_returns_an_event_of_the_meeting(meeting, which):
    events = listed_events(which, poly_listing() if which == POLYMARKET else kalshi_listing())
    event = resolve(events, meeting)
    if event is not None:
        assert event.month == meeting.month and abs((event.day - meeting).days) <= 2
    else:
        assert all(e.month != meeting.month or abs((e.day - meeting).days) > 2 for e in events)
