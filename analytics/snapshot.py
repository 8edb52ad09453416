"""The `flowtape snapshot --json` document: every figure with its date, in US$ millions, dates ISO."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from common.records import ATTRIBUTION
from common.sanitize import clean
from store import Store

from .derivatives import Derivatives, load_derivatives
from .fed import FedOdds, load_fed
from .flows import AssetReport, DayRecord, MonthRecord, Week, asset_report
from .frames import AssetFrames, load_asset
from .preferred import name as source_name
from .preferred import rank
from .scenario_inputs import load_inputs, weekly_ledger
from .scenarios import Scenario, ScenarioResult, evaluate
from .settings import AnalyticsSettings
from .trend import Trend, compute_trend

DEFAULT_SETTINGS = AnalyticsSettings()  # the configuration's defaults (tests build documents without a config)

SCHEMA = "flowtape.snapshot/1"


def _day(rec: DayRecord | None, key: str = "total_usd_m") -> dict | None:
    return None if rec is None else {"date": rec.date.isoformat(), key: rec.usd_m}


def _month(rec: MonthRecord | None) -> dict | None:
    return None if rec is None else {"month": rec.month, "total_usd_m": rec.total_usd_m}


def _week(w: Week, *, with_end: bool) -> dict:
    out: dict[str, Any] = {"start": w.start.isoformat()}
    if with_end:
        out["end"] = w.end.isoformat()
    out.update(total_usd_m=w.total_usd_m, sessions=w.sessions)
    return out


def _attribution(frames: Iterable[AssetFrames]) -> str:
    """Farside's attribution, and every other source whose figures the document shows (issue 16)."""
    others = sorted({s for f in frames for s in f.origins.values()}, key=rank)
    return ATTRIBUTION + "".join(f"; {source_name(s)}" for s in others)


def flow_sources_document(frames: AssetFrames, as_of: dt.date) -> dict[str, Any]:
    """Which source each value came from: Farside unless listed, and where two sources disagree."""
    return {
        "series": frames.series,
        "default_source": "farside",
        "other_sources": [
            {"date": d.isoformat(), "fund": fund, "source": source}
            for (d, fund), source in sorted(frames.origins.items())
            if d <= as_of
        ],
        "disagreements": [
            {
                "date": x.date.isoformat(),
                "fund": x.fund,
                "shown_source": x.shown_source,
                "shown_usd_m": x.shown_usd_m,
                "other_source": x.other_source,
                "other_usd_m": x.other_usd_m,
            }
            for x in frames.disagreements
            if x.date <= as_of
        ],
    }


def asset_document(r: AssetReport, frames: AssetFrames | None = None) -> dict[str, Any]:
    latest = None
    if r.latest:
        latest = {
            "date": r.latest.date.isoformat(),
            "total_usd_m": r.latest.total_usd_m,
            "provisional": r.latest.provisional,
            "funds": r.latest.funds,
            "missing_funds": list(r.latest.missing),
        }
    mtd = r.month_to_date
    return {
        "latest": latest,
        "latest_complete_date": r.latest_complete.isoformat() if r.latest_complete else None,
        "month_to_date": {
            "month": mtd.month,
            "total_usd_m": mtd.total_usd_m,
            "sessions": mtd.sessions,
            "sessions_left": mtd.sessions_left,
            "projected_usd_m": mtd.projected_usd_m,
            "projection_basis": "month-end projection at the month-to-date pace per session; not data",
            "passed_record_outflow_month": r.mtd_passed_record_outflow,
            "passed_record_inflow_month": r.mtd_passed_record_inflow,
        },
        "record_outflow_month": _month(r.record_outflow_month),
        "record_inflow_month": _month(r.record_inflow_month),
        "record_outflow_day": _day(r.record_outflow_day),
        "record_inflow_day": _day(r.record_inflow_day),
        "latest_sets_record_outflow_day": r.latest_sets_record_outflow_day,
        "latest_sets_record_inflow_day": r.latest_sets_record_inflow_day,
        "fund_records": {
            fund: None
            if rec is None
            else {
                "max_outflow": _day(rec.max_outflow, "usd_m"),
                "max_inflow": _day(rec.max_inflow, "usd_m"),
                "latest_sets_outflow": rec.latest_sets_outflow,
                "latest_sets_inflow": rec.latest_sets_inflow,
            }
            for fund, rec in r.fund_records.items()
        },
        "streak": dataclasses.asdict(r.streak),
        "week_to_date": _week(r.week_to_date, with_end=False),
        "last_week": _week(r.last_week, with_end=True),
        "cumulative_usd_m": r.cumulative_usd_m,
        "cumulative_by_fund_usd_m": r.cumulative_by_fund,
        "fund_month_to_date_usd_m": r.fund_mtd_usd_m,
        "fund_share_of_month_to_date_pct": r.fund_share_mtd_pct,
        **({"flow_sources": flow_sources_document(frames, r.as_of)} if frames is not None else {}),
    }


def _ts(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.UTC).isoformat(timespec="seconds")


def derivatives_document(d: Derivatives) -> dict[str, Any]:
    """Venue entries sit beside the aggregates, as the issue's schema has it; stale venues say so, and each
    aggregate lists the venues it leaves out (`*_missing_venues`: stale, or no current data)."""
    basis: dict[str, Any] = {
        v: {
            "annualized_pct": b.annualized_pct,
            "instrument": b.instrument,
            "days_to_expiry": b.days_to_expiry,
            "as_of": _ts(b.as_of),
            "stale": b.stale,
            "constant_maturity_pct": b.constant_maturity_pct,
        }
        for v, b in d.basis.items()
    }
    basis.update(
        constant_maturity_pct=d.constant_maturity_pct,
        headline_pct=d.headline_basis_pct,
        band=d.band,
        headline_missing_venues=list(d.basis_missing),
        term_structure=[
            {
                "venue": t.venue,
                "instrument": t.instrument,
                "days_to_expiry": t.days_to_expiry,
                "pct": t.pct,
                "annualized": t.days_to_expiry is not None,
                "stale": t.stale,
            }
            for t in d.term_structure
        ],
    )
    funding: dict[str, Any] = {
        v: {
            "rate": f.rate,
            "interval_hours": f.interval_hours,
            "annualized_pct": f.annualized_pct,
            "as_of": _ts(f.as_of),
            "stale": f.stale,
        }
        for v, f in d.funding.items()
    }
    funding.update(oi_weighted_annualized_pct=d.oi_weighted_funding_pct, oi_weighted_missing_venues=list(d.funding_missing))
    oi: dict[str, Any] = {
        v: {"usd": o.usd, "btc": o.btc, "as_of": _ts(o.as_of), "stale": o.stale} for v, o in d.open_interest.items()
    }
    oi.update(
        offshore_usd=d.offshore_usd,
        offshore_missing_venues=list(d.offshore_missing),
        cme_usd=d.cme_usd,
        cme_btc=d.cme_btc,
        change_24h_pct=d.change_24h_pct,
        change_7d_pct=d.change_7d_pct,
        trend=d.trend,
    )
    return {"as_of": _ts(d.as_of), "basis_3m": basis, "funding": funding, "open_interest": oi}


def combined_week(weeks: Iterable[Week]) -> Week | None:
    weeks = list(weeks)
    if not weeks:
        return None
    totals = [w.total_usd_m for w in weeks if w.total_usd_m is not None]
    return Week(weeks[0].start, weeks[0].end, round(sum(totals), 1) if totals else None, max(w.sessions for w in weeks))


def build_snapshot(
    store: Store,
    *,
    as_of: dt.date,
    mode: str,
    assets: Iterable[str],
    now: dt.datetime,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    notice: str | None = None,
    derivatives_as_of: dt.datetime | None = None,
    scenarios: tuple[Scenario, ...] = (),
) -> dict[str, Any]:
    # Each section is computed on its own: one that raises becomes null with its reason in `errors`,
    # and every other figure is still reported (the document never turns into a traceback).
    errors: list[dict[str, str]] = []

    def guarded(section: str, compute: Callable[[], Any]) -> Any:
        try:
            return compute()
        except Exception as exc:  # noqa: BLE001 - reported in the document, with its reason
            errors.append({"section": section, "error": clean(f"internal error: {type(exc).__name__}: {exc}", max_len=300)})
            return None

    frames = {a: guarded(f"assets.{a}", partial(load_asset, store, a, tolerance=settings.flows, now=now)) for a in assets}
    reports = {
        a: guarded(f"assets.{a}", partial(asset_report, loaded, as_of, streak_size_usd_m=settings.streak_size_usd_m))
        if (loaded := frames[a]) is not None
        else None
        for a in assets
    }
    derivatives = guarded(
        "derivatives",
        lambda: load_derivatives(
            store, derivatives_as_of or now, band_edges=settings.band_edges, trend_pct=settings.oi_trend_pct
        ),
    )
    ok_frames = {a: f for a, f in frames.items() if f is not None}
    inputs = guarded("scenarios", lambda: load_inputs(store, ok_frames, as_of, now, derivatives))
    trend = guarded("context.trend", lambda: compute_trend(store.candles(), as_of, settings.cycle_start))
    fed = guarded("context.fed", lambda: load_fed(store, derivatives_as_of or now, settings.fed_days))
    # Bad stored rows set aside by each reader (analytics/rows.py); every other figure stands.
    data_notices = [n for f in ok_frames.values() for n in f.notices] + list(derivatives.notices if derivatives else ())
    data_notices += list(trend.notices if trend else ()) + list(fed.notices if fed else ())
    sources = guarded(
        "sources",
        lambda: {
            sid: {k: (clean(v) if isinstance(v, str) else v) for k, v in status.items()}
            for sid, status in store.all_status().items()
        },
    )
    present = [r for r in reports.values() if r is not None]
    wtd = combined_week(r.week_to_date for r in present)
    last = combined_week(r.last_week for r in present)
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "generated_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "as_of": as_of.isoformat(),
        "mode": mode,
    }
    if notice:
        doc["notice"] = notice
    doc.update(
        attribution=_attribution(ok_frames.values()),
        units="US$ millions",
        store={
            "path": store.location,
            "readonly": store.readonly,
            "notices": list(store.notices),
            "problem": store.problem,
            "set_aside": dict(store.set_aside),
        },
        data_notices=data_notices,
        sources=sources,
        assets={
            a: guarded(f"assets.{a}", partial(asset_document, r, frames[a])) if r is not None else None
            for a, r in reports.items()
        },
        all_assets={
            "week_to_date": _week(wtd, with_end=False) if wtd else None,
            "last_week": _week(last, with_end=True) if last else None,
        },
        derivatives=guarded("derivatives", lambda: derivatives_document(derivatives)) if derivatives is not None else None,
        scenarios=guarded("scenarios", lambda: [scenario_document(r) for r in evaluate(scenarios, inputs)])
        if inputs is not None
        else None,
        context={
            "weekly_ledger": guarded("context.weekly_ledger", lambda: weekly_ledger(inputs)) if inputs is not None else None,
            "trend": guarded("context.trend", lambda: trend_document(trend)),
            "fed": guarded("context.fed", lambda: fed_document(fed)),
        },
        errors=errors,
    )
    return doc


def fed_document(f: FedOdds | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {
        "meeting": f.meeting.isoformat(),
        "state": f.state,
        "no_market_listed": list(f.unlisted),
        "venues": {
            v.venue: {
                "cut": v.odds.get("cut"),
                "hold": v.odds.get("hold"),
                "hike": v.odds.get("hike"),
                "as_of": _ts(v.as_of),
                "stale": v.stale,
                "change_1m_pt": v.month_change_pt,
            }
            for v in f.venues.values()
        },
    }


def trend_document(t: Trend | None) -> dict[str, Any] | None:
    if t is None:
        return None  # fewer than 200 daily closes stored
    return {
        "as_of": t.as_of.isoformat(),
        "close_usd": t.close,
        "sma50_usd": t.sma50,
        "sma200_usd": t.sma200,
        "regime": t.regime,
        "latest_cross": None
        if t.latest_cross is None or t.latest_cross_date is None
        else {"kind": t.latest_cross, "date": t.latest_cross_date.isoformat()},
        "cycle_start": t.cycle_start.isoformat(),
        "death_crosses_since_cycle_start": t.death_crosses,
        "golden_crosses_since_cycle_start": t.golden_crosses,
        "source": "Coinbase Exchange BTC-USD daily candles",
    }


def scenario_document(r: ScenarioResult) -> dict[str, Any]:
    return {
        "id": r.scenario.id,
        "name": r.scenario.name,
        "state": r.state,
        "label": r.label,
        "met": r.met,
        "total": r.total,
        "unknown": r.unknown,
        "data_health": r.data_health,  # conditions unknown (stale or missing data): a data notice, not a signal
        "conditions": [
            {
                "metric": c.condition.metric,
                "label": c.condition.label,
                "op": c.condition.op,
                "threshold": c.condition.threshold,
                "value": c.value,
                "met": c.met,
                "status": "unknown" if c.met is None else "met" if c.met else "not met",
                "as_of": c.as_of.isoformat() if c.as_of else None,
                "age_s": round(c.age_s) if c.age_s is not None else None,
                "source": c.source,
                "stale": c.stale,
            }
            for c in r.conditions
        ],
    }
