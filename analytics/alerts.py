"""What deserves an alert, decided from values already computed: scenario state changes, a new record
outflow day, the month passing the record month, a streak reaching its threshold; and the data-health
notices (a scenario condition turning unknown or readable again), which are never scenario alerts.

Each alert has a key naming the event itself (not the moment it was seen), so the store's alert log
fires it once, across restarts too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .flows import AssetReport
from .scenarios import ScenarioResult, change_kinds

DATA_HEALTH_TITLE = "data health"


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # scenario | data_health | record_day | record_month | streak
    title: str
    message: str

    def payload(self) -> dict:
        return {"key": self.key, "kind": self.kind, "title": self.title, "message": self.message}


def scenario_alerts(
    results: Iterable[ScenarioResult], previous: Mapping[str, str], as_of: str, previous_marks: Mapping[str, str] | None = None
) -> list[Alert]:
    """A scenario whose label the market changed since the last one seen (kind "scenario"), and a scenario
    whose conditions became unknown or known again (kind "data_health", titled "data health"): stale data
    is a notice about the data, never a transition. No previous label: nothing to compare."""
    out = []
    for r in results:
        before = previous.get(r.scenario.id)
        if before is None:
            continue
        marks = (previous_marks or {}).get(r.scenario.id)
        kinds = change_kinds(before, marks, r)
        if "scenario" in kinds:
            out.append(
                Alert(
                    f"scenario:{r.scenario.id}:{as_of}:{r.label}",
                    "scenario",
                    f"{r.scenario.name}: {r.label}",
                    f"{r.scenario.name} moved from {before} to {r.label} (as of {as_of})",
                )
            )
        if "data_health" in kinds:
            said = r.data_health or "every condition can be read again"
            out.append(
                Alert(
                    f"data_health:{r.scenario.id}:{as_of}:{r.marks}",
                    "data_health",
                    DATA_HEALTH_TITLE,
                    f"{r.scenario.name} reads {r.label}: {said} (as of {as_of}); a data problem, not a market signal",
                )
            )
    return out


def flow_alerts(report: AssetReport, *, red_streak: int, green_streak_at_size: int) -> list[Alert]:
    out: list[Alert] = []
    a = report.asset.upper()
    day = report.latest_complete
    if day is None:
        return out
    if report.latest_sets_record_outflow_day and report.record_outflow_day:
        rec = report.record_outflow_day
        out.append(
            Alert(
                f"record_day:{report.asset}:{rec.date}",
                "record_day",
                f"{a} ETFs: record outflow day",
                f"{a} spot ETFs {rec.usd_m:,.1f} US$m on {rec.date}: the largest daily outflow on record",
            )
        )
    if report.mtd_passed_record_outflow and report.record_outflow_month:
        month_rec = report.record_outflow_month
        out.append(
            Alert(
                f"record_month:{report.asset}:{report.month_to_date.month}",
                "record_month",
                f"{a} ETFs: worst month on record",
                f"{a} month to date {report.month_to_date.total_usd_m:,.1f} US$m has passed the record "
                f"{month_rec.month} ({month_rec.total_usd_m:,.1f})",
            )
        )
    s = report.streak
    if s.direction == "red" and s.sessions == red_streak:
        out.append(
            Alert(
                f"streak:{report.asset}:red:{day}",
                "streak",
                f"{a} ETFs: {s.sessions} red sessions in a row",
                f"{a} spot ETFs have had net outflows {s.sessions} sessions running (to {day})",
            )
        )
    if s.green_at_size == green_streak_at_size:
        out.append(
            Alert(
                f"streak:{report.asset}:green:{day}",
                "streak",
                f"{a} ETFs: {s.green_at_size} sessions of ${s.size_usd_m:,.0f}M+ inflows",
                f"{a} spot ETFs took in at least {s.size_usd_m:,.0f} US$m for {s.green_at_size} sessions running (to {day})",
            )
        )
    return out
