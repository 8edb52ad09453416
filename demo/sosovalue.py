"""Illustrative SoSoValue recordings for the demo, in SoSoValue's own response format (issue 16).

The shape is SoSoValue's documented one (tests/data/real/sosovalue: every current figure wrapped as
`{"value", "lastUpdateDate", "status"}`, the history as `data.list[]` of daily aggregates, JSON numbers in USD).
The figures are the demo dataset's own (demo/data, mostly illustrative) re-expressed in USD: the demo's
SoSoValue agrees with the demo's Farside, so with Farside blocked the tape shows the same numbers, marked.
"""

from __future__ import annotations

import json

from sources.sosovalue import TYPES

HISTORY_DAYS = 300  # what the real endpoint returns
ASSET_OF_TYPE = {t: a for a, t in TYPES.items()}


def _complete(rows):
    """The dataset's complete sessions: all but a half-reported last day (the demo's "today")."""
    return rows[:-1] if rows and any(v is None for v in rows[-1][1]) else rows


def body(path: str, etf_type: str, tickers: list[str], rows) -> str | None:
    """The response to a POST of `{"type": etf_type}` at `path`, or None (a 404) for an unknown path or type."""
    if etf_type not in ASSET_OF_TYPE:
        return json.dumps({"code": 40002, "msg": "unsupported type", "data": None})
    complete = _complete(rows)
    if not complete:
        return None
    if path.endswith("/historicalInflowChart"):
        days = [
            {"date": d.isoformat(), "totalNetInflow": round(total * 1e6, 2), "totalValueTraded": None}
            for d, _, total in reversed(complete[-HISTORY_DAYS:])
        ]
        return json.dumps({"code": 0, "msg": None, "data": {"list": days}})
    if path.endswith("/currentEtfDataMetrics"):
        day, values, total = complete[-1]
        date = day.isoformat()

        def figure(value: float | None) -> dict:
            return {"value": None if value is None else round(value * 1e6, 2), "lastUpdateDate": date, "status": 3}

        funds = [
            {"id": str(i), "ticker": t, "institute": t, "dailyNetInflow": figure(v), "netAssets": figure(None)}
            for i, (t, v) in enumerate(zip(tickers, values, strict=True))
        ]
        data = {"dailyNetInflow": figure(total), "totalNetAssets": figure(None), "list": funds}
        return json.dumps({"code": 0, "msg": None, "data": data})
    return None
