"""`flowtape snapshot --json` against every upstream turned hostile at once, on 127.0.0.1.

The store is seeded with the demo through the real path; then every source's base URL points at a
server that answers each request with a hostile variant of the real shape (non-finite numbers, escape
sequences in every string, absurd magnitudes, 5,000-digit integers, shapes swapped, timestamps at 0).
Whatever it sends: exit 0, strict JSON, no control characters, no value outside physics, and every
source that refused keeps its last good figures in the document.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
from typing import Any

import httpx
import pytest

from cli import main as cli
from cli.main import main
from common.config import KEYED, SECTIONS
from demo import DEMO_BASE_URL, DEMO_NOW, demo_transport
from sources import registry
from tests import loopback
from tests.dashboard_fixtures import demo_store

AT = DEMO_NOW + dt.timedelta(hours=3)
ESC = "\x1b]0;pwned\x07\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07\x9b31m\u202e"
HUGE = "9" * 5000
_NUMERIC = re.compile(r"^-?[\d,]+(\.\d+)?$")
_CELL = re.compile(r'(<span class="tabletext">)(\(?-?[\d,]+\.\d\)?)(</span>)')
_DATE = re.compile(r'(<span class="tabletext">)(\d\d [A-Z][a-z]{2} \d{4})(</span>)')
_TICKER = re.compile(r'(<span class="tabletext">)([A-Z]{2,5})(</span>)')
_FIRST_FLOW = re.compile(r'(<tr[^>]*><td><span class="tabletext">\d\d [A-Z][a-z]{2} \d{4}</span></td>)<td.*?</td>')
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
VARIANTS = ("nan", "escape", "absurd", "huge_int", "shape", "time")


def _number(variant: str, value: float | int) -> Any:
    if variant == "nan":
        return math.nan
    if variant == "absurd":
        return value * 1e15 if value else 1e-9
    if variant == "time" and abs(value) > 1e9:
        return 0  # an epoch in seconds or milliseconds, zeroed
    return value


def _json_variant(obj: Any, variant: str) -> str:
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            return out
        if isinstance(node, list):
            items = [walk(x) for x in node]
            return {"unexpected": items} if variant == "shape" else items
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, (int, float)):
            if variant == "huge_int":
                return HUGE_MARK
            return _number(variant, node)
        if isinstance(node, str):
            if node.startswith("[") and _is_json(node):  # Polymarket's prices: JSON inside a string
                return _json_variant(json.loads(node), variant)
            if variant == "escape":
                return node + ESC
            if variant == "time" and _ISO.match(node):
                return "0001-01-01T00:00:00Z"
            if _NUMERIC.match(node):
                if variant == "huge_int":
                    return HUGE
                if variant == "nan":
                    return "NaN"
                changed = _number(variant, float(node.replace(",", "")))
                return str(changed) if changed != float(node.replace(",", "")) else node
            if variant == "shape":
                return {"text": node}
        return node

    text = json.dumps(walk(obj), allow_nan=True)
    return text.replace(json.dumps(HUGE_MARK), HUGE)  # a bare 5,000-digit JSON integer


HUGE_MARK = "\x00huge\x00"
_ISO = re.compile(r"^\d{4}-\d\d-\d\d")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _html_variant(page: str, variant: str) -> str:
    if variant in ("nan", "absurd", "huge_int"):
        value = {"nan": "NaN", "absurd": "99,999,999.0", "huge_int": HUGE}[variant]
        return _CELL.sub(lambda m: m[1] + value + m[3], page)
    if variant == "escape":
        return _TICKER.sub(lambda m: m[1] + m[2] + ESC + m[3], page)
    if variant == "time":
        return _DATE.sub(lambda m: m[1] + "01 Jan 0001" + m[3], page)
    return _FIRST_FLOW.sub(lambda m: m[1], page)  # shape: every row one cell short of its header


class HostileUpstream:
    """The demo's recordings at their real paths, each answer turned into `variant`."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.requests = 0
        self.transport = demo_transport(lambda: AT)

    async def handle(self, path: str, writer) -> None:
        self.requests += 1
        if path.startswith("/cme/"):  # the demo plays CME's bot wall; here it answers, hostile
            body, ctype = (
                _json_variant({"settlements": [{"month": "DEC 25", "settle": "87,700", "openInterest": "21,400"}]}, self.variant),
                "application/json",
            )
        else:
            resp = self.transport.handle_request(httpx.Request("GET", DEMO_BASE_URL + path))
            resp.read()
            ctype = resp.headers.get("Content-Type", "text/plain")
            if resp.status_code != 200:
                writer.write(loopback.response(resp.content, status=f"{resp.status_code} X", headers={"Content-Type": ctype}))
                return
            body = (
                _html_variant(resp.text, self.variant) if "html" in ctype else _json_variant(json.loads(resp.text), self.variant)
            )
        writer.write(loopback.response(body.encode(), headers={"Content-Type": ctype}))
        await writer.drain()


def _strip_times(node: Any) -> Any:
    """Figures without the keys that move with the clock alone."""
    if isinstance(node, dict):
        return {k: _strip_times(v) for k, v in node.items() if k not in ("as_of", "age_s", "stale", "generated_at")}
    if isinstance(node, list):
        return [_strip_times(x) for x in node]
    return node


def _absurd(doc: Any, path: str = "") -> list[str]:
    """Every value outside what it could physically be, by what its key says it is."""
    found: list[str] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _absurd(v, f"{path}.{k}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _absurd(v, f"{path}[{i}]")
    elif isinstance(doc, str):
        if CONTROLS.search(doc) or "\u202e" in doc:
            found.append(f"{path}: control or bidi character")
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool):
        key = path.rsplit(".", 1)[-1]
        limits = {
            "cme_btc": (0, 21e6),
            "usd": (0, 1e13),
            "offshore_usd": (0, 1e13),
            "cme_usd": (0, 1e13),
            "close_usd": (100, 1e7),
            "sma50_usd": (100, 1e7),
            "sma200_usd": (100, 1e7),
            "annualized_pct": (-1000, 1000),
            "interval_hours": (1e-9, 24),
            "rate": (-0.1, 0.1),
        }
        low, high = limits.get(key, (-1e9, 1e13))
        if ".open_interest." in path and key == "btc":
            low, high = 0, 21e6
        if ".fed.venues." in path and key in ("cut", "hold", "hike"):
            low, high = (-100, 100) if "change_1m_pt" in path else (0, 1)
        if not (math.isfinite(doc) and low <= doc <= high):
            found.append(f"{path} = {doc!r}")
    return found


@pytest.mark.parametrize("variant", VARIANTS)
async def test_snapshot_against_hostile_upstreams(variant, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "wall_clock", lambda: AT)  # the recordings' time: the meeting's market is listed
    db = tmp_path / "store.db"
    (await asyncio.to_thread(demo_store, db)).close()
    code = main(["snapshot", "--json", "--offline", "--db", str(db)])
    before = json.loads(capsys.readouterr().out)
    assert code == 0

    upstream = HostileUpstream(variant)
    async with loopback.serve(upstream.handle) as base:
        lines = []
        for name in SECTIONS:
            url = base if name == "farside" else f"{base}/{name}"
            lines.append(f'[sources.{name}]\nbase_url = "{url}"\ndeadline = 3\n')
        cfg = tmp_path / "config.toml"
        cfg.write_text("\n".join(lines))
        monkeypatch.setenv("FLOWTAPE_CONFIG", str(cfg))
        # main() runs its own event loop: run it in a thread so the server's loop keeps answering
        code = await asyncio.to_thread(main, ["snapshot", "--json", "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert not CONTROLS.search(out)

    def no_constants(name):
        raise AssertionError(f"non-strict JSON constant {name}")

    doc = json.loads(out, parse_constant=no_constants)
    assert upstream.requests > 0
    assert _absurd(doc) == []
    states = {sid: st["state"] for sid, st in doc["sources"].items()}
    refused = {sid for sid, state in states.items() if state in ("error", "blocked")}
    # Teeth: every source whose answer carries the variant must have refused it.
    # Exempt only what the variant cannot touch: candles carry no text; CME settlements no instant; the odds
    # venues' dates choose the meeting's market, so dates at 0001 mean "no market listed", not a bad answer.
    exempt = {"escape": {"coinbase"}, "time": {"cme", "polymarket", "kalshi"}}.get(variant, set())
    # Keyed sources (SoSoValue) are off without a key; their hostile bodies are tests/sources/test_sosovalue.py's.
    keyed = {s.id for s in registry.REGISTRY if s.section in KEYED}
    assert {s.id for s in registry.REGISTRY} - exempt - keyed <= refused, states
    for sid in refused:
        assert "Traceback" not in (doc["sources"][sid]["last_error"] or "")
    # The last good figures stay, exactly.
    assert _strip_times(doc["assets"]) == _strip_times(before["assets"])
    venues = {s.id for s in registry.REGISTRY if s.kind == registry.DERIVATIVES}
    if venues <= refused:
        assert _strip_times(doc["derivatives"]) == _strip_times(before["derivatives"])
    else:  # a venue the variant could not touch answered (CME's settlements carry no instant): compare the rest
        keep = (venues & refused) - {"cme", "cftc"}  # both report CME open interest under "cme"
        for section in ("basis_3m", "funding", "open_interest"):
            for venue in keep:
                was = before["derivatives"][section].get(venue)
                assert _strip_times(doc["derivatives"][section].get(venue)) == _strip_times(was)
    assert _strip_times(doc["context"]) == _strip_times(before["context"])
