"""The scenario engine: the seed's rebuild / caution / snapback paths as rules over named metrics.

Rules are data (defaults below, overridable in the config's [[scenarios]] tables). Each condition reads
one metric as of a date and compares it with a threshold. A metric whose data is missing or stale makes
its condition `unknown`, never met. A scenario is `active` when every condition is met, `building
(k of n)` when some are, `inactive` when none are, `unknown` when no condition could be read at all.

Unknown is data health, not a market signal: `change_kinds` tells a state change the market made (a
condition that was read both times flipped) from one the data made (conditions became unreadable or
readable again), so alerts and the history never report stale data as a scenario transition.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.calendar import is_trading_day, previous_trading_day, week_bounds
from common.config import MAX_SESSIONS, ConfigError, finite_number
from common.records import ASSETS

if TYPE_CHECKING:  # no polars here: the CLI validates rules before anything heavy is imported
    from .derivatives import Derivatives

OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Reading:
    value: float | str | None  # None: missing
    as_of: dt.datetime | dt.date | None
    stale: bool = False
    source: str = ""


@dataclass(frozen=True)
class Inputs:
    """Everything metrics read, as of one date (built once per evaluation)."""

    as_of: dt.date
    now: dt.datetime
    totals: dict[str, list[tuple[dt.date, float]]]  # per asset: complete sessions <= as_of, oldest first
    derivatives: Derivatives | None
    coinshares: dict[dt.date, float] = field(default_factory=dict)  # week ending (Friday) -> US$m, entered by hand


def _flow_stale(last: dt.date | None, as_of: dt.date) -> bool:
    """More than one session behind the as-of date's expected latest session."""
    if last is None:
        return True
    expected = as_of if is_trading_day(as_of) else previous_trading_day(as_of)
    return last < previous_trading_day(expected)


def _run(totals: list[tuple[dt.date, float]], pred) -> int:
    n = 0
    for _, t in reversed(totals):
        if not pred(t):
            break
        n += 1
    return n


def _btc(inputs: Inputs, value) -> Reading:
    totals = inputs.totals.get("btc", [])
    last = totals[-1][0] if totals else None
    return Reading(value(totals) if totals else None, last, _flow_stale(last, inputs.as_of), "farside btc")


def _week_total(inputs: Inputs, start: dt.date) -> tuple[float | None, str]:
    friday = start + dt.timedelta(days=4)
    if friday in inputs.coinshares:
        return inputs.coinshares[friday], "coinshares (entered by hand)"
    values = [t for a in ASSETS for d, t in inputs.totals.get(a, []) if start <= d <= friday]
    if not any(start <= d <= friday for d, _ in inputs.totals.get("btc", [])):
        return None, "us spot etf weekly sum"
    return round(sum(values), 1), "us spot etf weekly sum (btc+eth+sol)"


def last_week_start(as_of: dt.date) -> dt.date:
    return week_bounds(as_of)[0] - dt.timedelta(days=7)


def _ledger(inputs: Inputs) -> Reading:
    start = last_week_start(inputs.as_of)
    value, source = _week_total(inputs, start)
    return Reading(value, start + dt.timedelta(days=4), False, source)


def _flip(inputs: Inputs) -> Reading:
    start = last_week_start(inputs.as_of)
    last, source = _week_total(inputs, start)
    before, _ = _week_total(inputs, start - dt.timedelta(days=7))
    if last is None or before is None:
        return Reading(None, start + dt.timedelta(days=4), False, source)
    word = "inflow" if last > 0 >= before else "outflow" if last < 0 <= before else "none"
    return Reading(word, start + dt.timedelta(days=4), False, source)


def _deriv(pick) -> Callable[[Inputs, Mapping[str, Any]], Reading]:
    def read(inputs: Inputs, params: Mapping[str, Any]) -> Reading:
        d = inputs.derivatives
        if d is None:
            return Reading(None, None, False, "derivatives")
        value = pick(d)
        return Reading(None if value == "unknown" else value, d.as_of, False, "derivatives venues")

    return read


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    kind: str  # number | word
    read: Callable[[Inputs, Mapping[str, Any]], Reading]
    params: Mapping[str, float] = field(default_factory=dict)  # allowed parameters and their defaults
    words: tuple[str, ...] = ()
    unit: str = ""


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "btc_green_sessions_at_size",
            "BTC ETF green sessions of at least US${size_usd_m:,g}m in a row",
            "number",
            lambda i, p: _btc(i, lambda t: _run(t, lambda x: x >= p["size_usd_m"])),
            {"size_usd_m": 200.0},
        ),
        Metric(
            "btc_red_sessions",
            "BTC ETF red sessions in a row",
            "number",
            lambda i, p: _btc(i, lambda t: _run(t, lambda x: x < 0)),
        ),
        Metric(
            "btc_green_sessions",
            "BTC ETF green sessions in a row",
            "number",
            lambda i, p: _btc(i, lambda t: _run(t, lambda x: x > 0)),
        ),
        Metric(
            "btc_max_day_usd_m",
            "largest BTC ETF day of the last {sessions:g} sessions",
            "number",
            lambda i, p: _btc(i, lambda t: max(x for _, x in t[-int(p["sessions"]) :])),
            {"sessions": 5.0},
            unit="US$m",
        ),
        Metric("btc_latest_day_usd_m", "latest BTC ETF day", "number", lambda i, p: _btc(i, lambda t: t[-1][1]), unit="US$m"),
        Metric(
            "weekly_ledger_usd_m",
            "last week's ETF ledger (CoinShares print if entered)",
            "number",
            lambda i, p: _ledger(i),
            unit="US$m",
        ),
        Metric(
            "weekly_ledger_flip", "weekly ledger flipped to", "word", lambda i, p: _flip(i), words=("inflow", "outflow", "none")
        ),
        Metric("basis_3m_pct", "3-month annualized basis", "number", _deriv(lambda d: d.headline_basis_pct), unit="%"),
        Metric(
            "funding_annualized_pct",
            "OI-weighted funding, annualized",
            "number",
            _deriv(lambda d: d.oi_weighted_funding_pct),
            unit="%",
        ),
        Metric(
            "oi_trend", "open interest (offshore)", "word", _deriv(lambda d: d.trend), words=("rebuilding", "bleeding", "flat")
        ),
    )
}


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    threshold: float | str
    params: tuple[tuple[str, float], ...] = ()

    @property
    def label(self) -> str:
        m = METRICS[self.metric]
        text = m.label.format(**{**m.params, **dict(self.params)})
        return f"{text} {self.op} {threshold_text(self.threshold, m.unit)}"


def threshold_text(value: float | str, unit: str) -> str:
    """A threshold as the screen writes amounts: '-US$1,000m' (sign first, thousands separated), '7%'."""
    if not isinstance(value, float):
        return value
    if unit == "US$m":
        return f"{'-' if value < 0 else ''}US${abs(value):,g}m"
    return f"{value:g}{unit}"


@dataclass(frozen=True)
class Scenario:
    id: str
    name: str
    conditions: tuple[Condition, ...]


DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {
        "id": "rebuild",
        "name": "Reset, then rebuild",
        "conditions": [
            {"metric": "btc_green_sessions_at_size", "size_usd_m": 200, "op": ">=", "threshold": 3},
            {"metric": "basis_3m_pct", "op": ">=", "threshold": 8},
            {"metric": "oi_trend", "op": "==", "threshold": "rebuilding"},
        ],
    },
    {
        "id": "caution",
        "name": "Caution case",
        "conditions": [
            {"metric": "weekly_ledger_usd_m", "op": "<=", "threshold": -1000},
            {"metric": "btc_red_sessions", "op": ">=", "threshold": 4},
            {"metric": "basis_3m_pct", "op": "<=", "threshold": 3},
            {"metric": "oi_trend", "op": "==", "threshold": "bleeding"},
        ],
    },
    {
        "id": "snapback",
        "name": "Reflexive snapback",
        "conditions": [
            {"metric": "btc_max_day_usd_m", "sessions": 5, "op": ">=", "threshold": 750},
            {"metric": "weekly_ledger_flip", "op": "==", "threshold": "inflow"},
            {"metric": "basis_3m_pct", "op": ">=", "threshold": 12},
        ],
    },
)


# Metrics that count sessions: their thresholds are whole numbers (0.5 sessions is never met, nor missed).
_SESSION_COUNTS = frozenset({"btc_green_sessions_at_size", "btc_red_sessions", "btc_green_sessions"})


def _count(value: Any, where: str, what: str, *, minimum: int) -> float:
    number = finite_number(value)
    if number is None or not number.is_integer() or not minimum <= number <= MAX_SESSIONS:
        raise ConfigError(
            f"{where}: {what} is a count of sessions: a whole number from {minimum} to {MAX_SESSIONS}, got {value!r}"
        )
    return number


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, Mapping):
        raise ConfigError(f'{where}: expected a table like {{ metric = "basis_3m_pct", op = ">=", threshold = 8 }}')
    name = raw.get("metric")
    if name not in METRICS:
        raise ConfigError(f"{where}: unknown metric {name!r} (known: {', '.join(METRICS)})")
    metric = METRICS[name]
    op = raw.get("op")
    if op not in OPS:
        raise ConfigError(f"{where}: op must be one of {' '.join(OPS)}, got {op!r}")
    threshold = raw.get("threshold")
    if metric.kind == "number":
        if name in _SESSION_COUNTS:  # 0 is meaningful: `btc_red_sessions == 0`, the last session was not red
            threshold = _count(threshold, where, f"threshold for {name}", minimum=0)
        elif (threshold := finite_number(threshold)) is None:  # nan compares false with everything: never met
            raise ConfigError(f"{where}: threshold for {name} must be a number (not nan or inf), got {raw.get('threshold')!r}")
    else:
        if threshold not in metric.words:
            raise ConfigError(f"{where}: threshold for {name} must be one of {', '.join(metric.words)}, got {threshold!r}")
        if op not in ("==", "!="):
            raise ConfigError(f"{where}: {name} is a word: use == or !=")
    params = []
    for key, value in raw.items():
        if key in ("metric", "op", "threshold"):
            continue
        if key not in metric.params:
            raise ConfigError(
                f"{where}: {name} takes no parameter {key!r}"
                + (f" (it takes: {', '.join(metric.params)})" if metric.params else "")
            )
        if key == "sessions":  # a window of the last N sessions: `sessions = inf` crashed every evaluation
            number = _count(value, where, key, minimum=1)
        elif (positive := finite_number(value)) is None or positive <= 0:
            raise ConfigError(f"{where}: {key} must be a positive number, got {value!r}")
        else:
            number = positive
        params.append((key, number))
    return Condition(name, op, threshold, tuple(sorted(params)))


def load_rules(
    raw_rules: tuple[Mapping[str, Any], ...], path: Path | None, *, streak_size_usd_m: float = 200.0
) -> tuple[Scenario, ...]:
    """Defaults overlaid with the config's [[scenarios]]: a table with `conditions` replaces (or adds)
    the scenario with its id; `thresholds = { metric = value }` changes a default's thresholds;
    `enabled = false` drops one. Any error names the file, the rule and the reason (ConfigError)."""
    where_file = str(path) if path else "<config>"
    rules: dict[str, dict[str, Any]] = {}
    for rule in DEFAULT_RULES:
        conditions = []
        for c in rule["conditions"]:
            c = dict(c)
            if c["metric"] == "btc_green_sessions_at_size":
                c["size_usd_m"] = streak_size_usd_m  # the configured "$200M" size
            conditions.append(c)
        rules[rule["id"]] = {**rule, "conditions": conditions}
    for i, raw in enumerate(raw_rules):
        rid = raw.get("id")
        where = f"{where_file}: scenarios[{i}]" + (f" ({rid})" if isinstance(rid, str) else "")
        if not isinstance(rid, str) or not rid.strip():
            raise ConfigError(f"{where}: every [[scenarios]] needs an id")
        unknown = set(raw) - {"id", "name", "conditions", "thresholds", "enabled"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r} (expected id, name, conditions, thresholds, enabled)")
        if not isinstance(raw.get("enabled", True), bool):  # `enabled = "no"` must not leave the rule on
            raise ConfigError(f"{where}: enabled must be true or false, got {raw['enabled']!r}")
        if not isinstance(raw.get("name", ""), str):
            raise ConfigError(f"{where}: name must be a string, got {raw['name']!r}")
        if raw.get("enabled", True) is False:
            rules.pop(rid, None)
            continue
        if "conditions" in raw:
            if not isinstance(raw["conditions"], list) or not raw["conditions"]:
                raise ConfigError(f"{where}: conditions must be a non-empty list")
            rules[rid] = {"id": rid, "name": str(raw.get("name", rid)), "conditions": list(raw["conditions"]), "where": where}
        elif "thresholds" in raw:
            if rid not in rules:
                raise ConfigError(f"{where}: thresholds given for unknown scenario {rid!r} (define its conditions)")
            if not isinstance(raw["thresholds"], Mapping):
                raise ConfigError(f"{where}: thresholds must be a table like {{ basis_3m_pct = 10 }}")
            conditions = [dict(c) for c in rules[rid]["conditions"]]
            for metric, value in raw["thresholds"].items():
                hits = [c for c in conditions if c["metric"] == metric]
                if not hits:
                    raise ConfigError(f"{where}: scenario {rid!r} has no condition on {metric!r}")
                for c in hits:
                    c["threshold"] = value
            rules[rid] = {
                **rules[rid],
                "conditions": conditions,
                "name": str(raw.get("name", rules[rid]["name"])),
                "where": where,
            }
        else:
            raise ConfigError(f"{where}: give conditions (a full rule), thresholds (overrides) or enabled = false")
    out = []
    for rid, rule in rules.items():
        where = rule.get("where") or f"{where_file}: default scenario {rid!r}"
        out.append(
            Scenario(
                rid,
                str(rule["name"]),
                tuple(_condition(c, f"{where} condition {j + 1}") for j, c in enumerate(rule["conditions"])),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class ConditionResult:
    condition: Condition
    value: float | str | None
    met: bool | None  # None: unknown (missing or stale data)
    as_of: dt.datetime | dt.date | None
    age_s: float | None
    source: str
    stale: bool


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    state: str  # inactive | building | active | unknown (every condition unknown)
    met: int
    total: int
    unknown: int
    conditions: tuple[ConditionResult, ...]

    @property
    def label(self) -> str:
        return f"building ({self.met} of {self.total})" if self.state == "building" else self.state

    @property
    def marks(self) -> str:
        """Each condition's outcome in order, one character each: 1 met, 0 not met, ? unknown."""
        return "".join("?" if c.met is None else "1" if c.met else "0" for c in self.conditions)

    @property
    def data_health(self) -> str | None:
        """The conditions that could not be read (stale or missing data), said in words; None when all were."""
        gone = [c for c in self.conditions if c.met is None]
        if not gone:
            return None
        what = "; ".join(f"{c.condition.label} ({'stale' if c.stale else 'missing'})" for c in gone)
        return f"{len(gone)} of {self.total} conditions unknown: {what}"


def change_kinds(before_label: str, before_marks: str | None, after: ScenarioResult) -> tuple[str, ...]:
    """What changed since the last evaluation: "scenario" when the label moved because the market moved a
    condition read both times, "data_health" when conditions became unknown or known again; () otherwise.

    Without the earlier marks (a store written before they were kept, or a rule edited since) only the label
    can tell: a move into or out of `unknown` is data health, any other label change a scenario transition."""
    now_marks = after.marks
    if before_marks is None or len(before_marks) != len(now_marks):
        if before_label == after.label:
            return ()
        return ("data_health",) if "unknown" in (before_label, after.label) else ("scenario",)
    pairs = list(zip(before_marks, now_marks, strict=True))
    out = []
    if before_label != after.label and any(b != a and "?" not in (b, a) for b, a in pairs):
        out.append("scenario")
    if any((b == "?") != (a == "?") for b, a in pairs):
        out.append("data_health")
    return tuple(out)


def _age(as_of: dt.datetime | dt.date | None, now: dt.datetime) -> float | None:
    if as_of is None:
        return None
    if not isinstance(as_of, dt.datetime):  # a session date: its data is final at the New York close
        from common.calendar import NEW_YORK

        as_of = dt.datetime.combine(as_of, dt.time(16), tzinfo=NEW_YORK)
    return max(0.0, (now - as_of).total_seconds())


def evaluate(scenarios: tuple[Scenario, ...], inputs: Inputs) -> tuple[ScenarioResult, ...]:
    results = []
    for s in scenarios:
        rows = []
        for c in s.conditions:
            metric = METRICS[c.metric]
            reading = metric.read(inputs, {**metric.params, **dict(c.params)})
            unknown = reading.value is None or reading.stale
            met = None if unknown else bool(OPS[c.op](reading.value, c.threshold))
            value = round(reading.value, 2) if isinstance(reading.value, float) else reading.value
            rows.append(
                ConditionResult(c, value, met, reading.as_of, _age(reading.as_of, inputs.now), reading.source, reading.stale)
            )
        n_met = sum(1 for r in rows if r.met)
        n_unknown = sum(1 for r in rows if r.met is None)
        if n_unknown == len(rows):  # nothing could be read: not "inactive", which says the market is quiet
            state = "unknown"
        else:
            state = "active" if n_met == len(rows) else "building" if n_met else "inactive"
        results.append(ScenarioResult(s, state, n_met, len(rows), n_unknown, tuple(rows)))
    return tuple(results)


@dataclass(frozen=True)
class Transition:
    date: dt.date
    scenario: str
    name: str
    before: str
    after: str
    kind: str = "scenario"  # scenario | data_health (see change_kinds)
