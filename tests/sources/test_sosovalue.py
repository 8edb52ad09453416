"""SoSoValue (issue 16): the parsers on SoSoValue's own sample responses and hostile variants of them, the poll
(POST, key header, rate limits, history once a day), and the key never leaking."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.config import FlowsConfig, parse_config
from common.records import TOTAL, DataError, SourceState
from sources import sosovalue
from sources.http import RateLimitedError, make_client
from sources.sosovalue import SosoValueError, parse_current, parse_history, poll_sosovalue

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "sosovalue"
CURRENT_TEXT = (REAL / "currentEtfDataMetrics_us-btc-spot__docs_sample_response_excerpt.txt").read_text()
HISTORY_TEXT = (REAL / "historicalInflowChart_us-btc-spot__docs_sample_response_excerpt.txt").read_text()
RATE_LIMIT_TEXT = (REAL / "rate_limit_429__docs_example.json").read_text()
TODAY = dt.date(2024, 4, 19)
NOW = dt.datetime(2024, 4, 19, 22, tzinfo=dt.UTC)
KEY = "sk-test-9f8e7d6c5b4a3210-NEVER-SHOWN"


def close_truncated(text: str) -> str:
    """The docs' sample as a JSON body: `//` comments dropped, the stored copy's cut (a dangling key, a trailing
    comma) trimmed, and the open brackets closed. Derivation, not editing: the files stay verbatim."""
    body = re.sub(r"//[^\n]*", "", text).rstrip()
    while True:
        trimmed = re.sub(r'(,|"[A-Za-z]+"\s*:)\s*$', "", body).rstrip()
        if trimmed == body:
            break
        body = trimmed
    stack = []
    in_string = False
    for i, ch in enumerate(body):
        if ch == '"' and (i == 0 or body[i - 1] != "\\"):
            in_string = not in_string
        elif not in_string and ch in "[{":
            stack.append("]" if ch == "[" else "}")
        elif not in_string and ch in "]}":
            stack.pop()
    return body + "".join(reversed(stack))


CURRENT = json.loads(close_truncated(CURRENT_TEXT))
HISTORY = json.loads(close_truncated(HISTORY_TEXT))


def wrapped(value, day="2024-04-18", status=3):
    """A figure as the docs' field table gives it: value, lastUpdateDate, status."""
    return {"value": value, "lastUpdateDate": day, "status": status}


def with_funds(doc: dict, funds: dict[str, float | None], day: str = "2024-04-18") -> dict:
    """The sample with a per-fund list in the documented shape (hand-made rows; see ORIGINS.md)."""
    rows = [
        {
            "id": str(i),
            "ticker": t,
            "institute": "Issuer",
            "netAssets": wrapped(1.0e9 + i, day),
            "dailyNetInflow": wrapped(v, day),
            "cumNetInflow": wrapped(5.0e8, day),
            "fee": wrapped(0.0025, day),
        }
        for i, (t, v) in enumerate(funds.items())
    ]
    return {**doc, "data": {**doc["data"], "list": rows}}


def test_the_docs_samples_parse_to_us_dollar_millions():
    figures = parse_current(json.dumps(CURRENT), "btc", today=TODAY, now=NOW)
    assert [(f.fund, f.date, f.net_inflow_usd_m, f.net_assets_usd) for f in figures] == [
        (TOTAL, dt.date(2024, 4, 18), -4.39, 53_060_000_000.0)
    ]
    assert parse_history(json.dumps(HISTORY), "btc", today=TODAY, now=NOW) == [
        (dt.date(2024, 4, 11), TOTAL, 91.269283),  # the stored copy cuts this day after its totalNetInflow
        (dt.date(2024, 4, 12), TOTAL, -55.066297),
    ]


def test_per_fund_rows_in_the_documented_shape_parse():
    doc = with_funds(CURRENT, {"IBIT": 12_345_678.0, "gbtc": -30_000_000.0, "FBTC": None})
    figures = {f.fund: f for f in parse_current(json.dumps(doc), "btc", today=TODAY, now=NOW)}
    assert figures["IBIT"].net_inflow_usd_m == 12.345678 and figures["GBTC"].net_inflow_usd_m == -30.0
    assert figures["FBTC"].net_inflow_usd_m is None  # missing stays None, never 0


def test_a_figure_sent_as_a_plain_decimal_string_reads_as_that_number():
    """The docs sample numbers; public clients type the same fields as strings. Either reads the same."""
    doc = with_funds(CURRENT, {"IBIT": 12_345_678.0})
    doc["data"]["dailyNetInflow"]["value"] = "-4390000.0"
    doc["data"]["list"][0]["dailyNetInflow"]["value"] = "12345678"
    figures = {f.fund: f for f in parse_current(json.dumps(doc), "btc", today=TODAY, now=NOW)}
    assert figures[TOTAL].net_inflow_usd_m == -4.39 and figures["IBIT"].net_inflow_usd_m == 12.345678


def test_the_rate_limit_body_is_rate_limited_with_its_retry_after():
    with pytest.raises(RateLimitedError) as caught:
        parse_current(RATE_LIMIT_TEXT, "btc", today=TODAY, now=NOW)
    assert caught.value.state == SourceState.RATE_LIMITED and caught.value.retry_at == NOW + dt.timedelta(seconds=45)


@pytest.mark.parametrize(
    ("edit", "names"),
    [
        (lambda d: d["data"]["dailyNetInflow"].update(value="-4.39e6"), "dailyNetInflow.value"),  # not a plain decimal
        (lambda d: d["data"]["dailyNetInflow"].update(value=" -4390000.0"), "dailyNetInflow.value"),
        (lambda d: d["data"]["dailyNetInflow"].update(value="NaN"), "dailyNetInflow.value"),
        (lambda d: d["data"]["dailyNetInflow"].update(value=1e30), "net inflow"),
        (lambda d: d["data"]["dailyNetInflow"].update(value=True), "dailyNetInflow.value"),
        (lambda d: d["data"]["dailyNetInflow"].update(lastUpdateDate="2099-01-01"), "lastUpdateDate"),
        (lambda d: d["data"]["dailyNetInflow"].update(lastUpdateDate="18/04/2024"), "lastUpdateDate"),
        (lambda d: d["data"].update(dailyNetInflow=-4390000.0), "dailyNetInflow"),  # unwrapped
        (lambda d: d["data"]["totalNetAssets"].update(value=-1.0), "totalNetAssets"),
        (lambda d: d.update(code=1, msg="invalid \x1b[31mkey"), "code 1"),
        (lambda d: d.update(data=[]), "data"),
        (lambda d: d["data"].update(list={"IBIT": 1}), "data.list"),
        (lambda d: d["data"].update(list=[{"ticker": "IB IT"}]), "ticker"),
    ],
)
def test_hostile_current_bodies_are_refused_naming_the_field(edit, names):
    doc = json.loads(json.dumps(CURRENT))
    edit(doc)
    with pytest.raises(DataError) as caught:
        parse_current(json.dumps(doc), "btc", today=TODAY, now=NOW)
    assert names in str(caught.value) and "\x1b" not in str(caught.value)


def test_hostile_history_bodies_are_refused_naming_the_field():
    doc = json.loads(json.dumps(HISTORY))
    doc["data"]["list"].append(dict(doc["data"]["list"][0]))
    with pytest.raises(SosoValueError, match="appears twice"):
        parse_history(json.dumps(doc), "btc", today=TODAY, now=NOW)
    for bad in ("-5.5e7", None, float("nan")):
        doc = json.loads(json.dumps(HISTORY))
        doc["data"]["list"][0]["totalNetInflow"] = bad
        if bad is None:  # a day without a figure is None (missing), not a refusal
            rows = {d: v for d, _, v in parse_history(json.dumps(doc), "btc", today=TODAY, now=NOW)}
            assert rows[dt.date(2024, 4, 12)] is None
            continue
        with pytest.raises(DataError, match="totalNetInflow"):
            parse_history(json.dumps(doc).replace("NaN", "1e999"), "btc", today=TODAY, now=NOW)
    for text in ("not json", "[]", "[" * 5000, json.dumps({"code": 0, "data": {"list": [{"date": 20240412}]}})):
        with pytest.raises(DataError):
            parse_history(text, "btc", today=TODAY, now=NOW)


_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_paths = [
    ("data", "totalNetAssets", "value"),
    ("data", "dailyNetInflow", "value"),
    ("data", "dailyNetInflow", "lastUpdateDate"),
    ("data", "dailyNetInflow"),
    ("data", "list"),
    ("data",),
    ("code",),
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_paths), _junk, st.booleans())
def test_any_mutation_of_the_sample_is_typed_figures_within_bounds_or_a_named_error(path, junk, drop):
    doc = json.loads(json.dumps(with_funds(CURRENT, {"IBIT": 1.5e7, "FBTC": -2.0e6})))
    node = doc
    for key in path[:-1]:
        node = node[key]
    if drop:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = junk
    try:
        figures = parse_current(json.dumps(doc), "btc", today=TODAY, now=NOW)
    except (DataError, RateLimitedError):
        return
    for f in figures:
        assert isinstance(f.fund, str) and isinstance(f.date, dt.date) and f.date <= TODAY + dt.timedelta(days=1)
        assert f.net_inflow_usd_m is None or (isinstance(f.net_inflow_usd_m, float) and abs(f.net_inflow_usd_m) <= 20_000)
        assert f.net_assets_usd is None or 0 <= f.net_assets_usd <= 1e13


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 1), _junk, st.sampled_from(["date", "totalNetInflow", None]))
def test_any_mutation_of_the_history_sample_is_typed_rows_or_a_named_error(index, junk, key):
    doc = json.loads(json.dumps(HISTORY))
    row = doc["data"]["list"][index]
    if key is None:
        doc["data"]["list"][index] = junk
    else:
        row[key] = junk
    try:
        rows = parse_history(json.dumps(doc), "btc", today=TODAY, now=NOW)
    except DataError:
        return
    assert all(isinstance(d, dt.date) and f == TOTAL and (v is None or abs(v) <= 20_000) for d, f, v in rows)


# ---- the poll -----------------------------------------------------------------------------------------


def _server(answers: dict[str, list[httpx.Response]], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        kind = "history" if request.url.path.endswith("historicalInflowChart") else "current"
        queue = answers[kind]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return httpx.MockTransport(handler)


def _config(tmp_path, monkeypatch, key=KEY):
    monkeypatch.setenv("SOSOVALUE_API_KEY", key)
    return parse_config({"sources": {"sosovalue": {"base_url": "https://soso.test"}}}, tmp_path / "c.toml")


def _poll(store, config, transport, assets=("btc",)):
    async def run():
        async with make_client(transport) as client:
            return await poll_sosovalue(client, store, config.source("sosovalue"), assets, tolerance=FlowsConfig(), now=NOW)

    return asyncio.run(run())


@pytest.fixture(autouse=True)
def _no_spacing(monkeypatch):
    monkeypatch.setattr(sosovalue, "CALL_SPACING_S", 0.0)


def test_a_poll_posts_the_type_with_the_key_header_and_stores_us_dollar_millions(store, tmp_path, monkeypatch):
    config = _config(tmp_path, monkeypatch)
    seen: list[httpx.Request] = []
    answers = {
        "current": [httpx.Response(200, json=with_funds(CURRENT, {"IBIT": 12_345_678.0}))],
        "history": [httpx.Response(200, json=HISTORY)],
    }
    outcome = _poll(store, config, _server(answers, seen))
    assert outcome.state in (SourceState.OK, SourceState.STALE), outcome
    assert {r.method for r in seen} == {"POST"} and all(r.headers["x-soso-api-key"] == KEY for r in seen)
    assert all(json.loads(r.content) == {"type": "us-btc-spot"} for r in seen) and all(KEY not in str(r.url) for r in seen)
    rows = {(r.date, r.fund): r.usd_m for r in store.source_flows("btc", "sosovalue")}
    assert rows == {
        ("2024-04-11", TOTAL): 91.269283,
        ("2024-04-12", TOTAL): -55.066297,
        ("2024-04-18", TOTAL): -4.39,
        ("2024-04-18", "IBIT"): 12.345678,
    }
    _poll(store, config, _server(answers, seen := []))  # the history once a New York day
    assert [r.url.path for r in seen] == ["/openapi/v2/etf/currentEtfDataMetrics"]


def test_http_429_with_the_documented_body_is_rate_limited_until_its_retry_after(store, tmp_path, monkeypatch):
    config = _config(tmp_path, monkeypatch)
    answers = {"current": [httpx.Response(429, text=RATE_LIMIT_TEXT)], "history": [httpx.Response(200, json=HISTORY)]}
    outcome = _poll(store, config, _server(answers, []))
    assert outcome.state == SourceState.RATE_LIMITED
    assert store.status("sosovalue")["ban_until"].startswith((NOW + dt.timedelta(seconds=45)).isoformat()[:19])


def test_without_a_key_the_source_is_off_and_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("SOSOVALUE_API_KEY", raising=False)
    config = parse_config({}, tmp_path / "c.toml")
    assert not config.source("sosovalue").enabled
    from sources import registry

    assert "sosovalue" not in {s.id for s in registry.enabled(config)}
    keyed = parse_config({"sources": {"sosovalue": {"api_key": "abc"}}}, tmp_path / "c.toml")
    assert keyed.source("sosovalue").enabled and "abc" not in repr(keyed)
    off = parse_config({"sources": {"sosovalue": {"api_key": "abc", "enabled": False}}}, tmp_path / "c.toml")
    assert not off.source("sosovalue").enabled


def test_the_key_never_leaks_into_status_logs_or_errors(store, tmp_path, monkeypatch, caplog):
    """A server that echoes the request (headers included) in its error: the status, the log and the snapshot's
    sources block must still not carry the key."""
    config = _config(tmp_path, monkeypatch)
    caplog.set_level(logging.DEBUG)

    def echo(request: httpx.Request) -> httpx.Response:
        said = f"invalid key {request.headers['x-soso-api-key']} in {dict(request.headers)}"
        return httpx.Response(200, json={"code": 40001, "msg": said})

    _poll(store, config, httpx.MockTransport(echo))
    status = json.dumps(store.all_status())
    assert store.status("sosovalue")["state"] == "error"
    assert KEY not in status and KEY not in caplog.text
    _poll(store, config, httpx.MockTransport(lambda r: httpx.Response(500, text=str(dict(r.headers)))))
    assert KEY not in json.dumps(store.all_status()) and KEY not in caplog.text
