"""Derivatives analytics from stored venue observations, as of a time: basis, funding, open interest.

- 3-month annualized basis per venue: the dated future nearest 90 days out (at least MIN_DAYS away:
  annualizing a few days explodes), (future / index - 1) x 365 / days; a constant-maturity 90-day
  figure interpolated between the two futures that bracket 90 days; the band it falls in.
- Funding per venue: the rate per interval and annualized (x 24/interval x 365); OI-weighted average.
- Open interest per venue (USD, BTC), offshore total, CME separately (priced with the median index),
  24 h and 7 d change of the offshore total, and a trend verdict.
A contract leaves every figure (history included) at its expiry. An instrument whose newest quote is
older than its venue's limit (stale_limit_s: the limit widens with the store's thinning when looking
back) is not current: a venue's figure uses its fresh instruments; a venue with none is stale, shown
with its age, never aggregated, and each aggregate names the venues it leaves out (`*_missing`).
Bad stored rows are set aside with a notice (analytics/rows.py).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from typing import cast

import polars as pl

from common.records import DataError
from sources import registry
from store import RETENTION, Store

from .rows import instant, observation_frame
from .views import BasisVenue, Derivatives, FundingVenue, OIVenue, TermPoint

MIN_DAYS = 7.0
TARGET_DAYS = 90.0
BANDS = ("backwardation", "compressed", "deleveraged", "rebuild", "snapback")
HISTORY_DAYS = 8
CME = "cme"


def band_of(pct: float | None, edges: tuple[float, ...]) -> str | None:
    if pct is None:
        return None
    # one edge fewer than bands: above the last edge is the last band
    for name, edge in zip(BANDS, edges, strict=False):
        if pct < edge:
            return name
    return BANDS[-1]


def annualized_pct(mark: float, index: float, days: float) -> float:
    return (mark / index - 1.0) * 365.0 / days * 100.0


def funding_annualized_pct(rate: float, interval_hours: float) -> float:
    return rate * (24.0 / interval_hours) * 365.0 * 100.0


# metric -> its bound in common/bounds.py (None: an expiry, epoch seconds)
_METRIC_BOUNDS: dict[str, str | None] = {
    "mark": "btc_usd",
    "index": "btc_usd",
    "expiry": None,
    "funding_rate": "funding_rate",
    "funding_interval_h": "funding_interval_h",
    "oi_usd": "oi_usd",
    "oi_btc": "oi_btc",
}
_METRICS = tuple(_METRIC_BOUNDS)
# How finely the store keeps history (store/sqlite.py RETENTION buckets are ISO-timestamp prefixes).
_BUCKET_S = {13: 3600.0, 10: 86400.0}


def stale_limit_s(venue_limit_s: float, as_of: dt.datetime, newest: dt.datetime) -> float:
    """How old an instrument's newest quote may be at `as_of` and still be current: THE freshness rule.

    The store thins history with age (RETENTION, counted back from the newest stored data, which is
    the real now while flowtape runs): full resolution for 48 h, then one observation an hour to 30
    days, then one a day. Looking back (time travel) the newest quote before `as_of` can be a whole
    bucket old although the venue never stopped, so the limit is the venue's own plus the resolution
    kept at that age: the venue's limit at the newest data, +1 h from 48 h back, +1 day from 30 days.
    """
    tier = retention_tier(as_of, newest)
    return venue_limit_s + (_BUCKET_S[RETENTION[tier - 1][1]] if tier else 0.0)


def retention_tier(as_of: dt.datetime, newest: dt.datetime) -> int:
    """How many RETENTION steps the store has thinned `as_of` by (0: full resolution): with the rows up to
    `as_of`, all a past day's figures depend on (analytics/cache.py keeps a day's labels per tier)."""
    age = newest - as_of
    return sum(1 for keep, _ in RETENTION if age > keep)


def wide_quotes(long: pl.DataFrame) -> pl.DataFrame:
    """Checked observations (rows.observation_frame) -> one row per (venue, instrument, ts), a column per metric."""
    if not long.height:
        return pl.DataFrame(
            schema={"venue": pl.Utf8, "instrument": pl.Utf8, "ts": pl.Datetime("us", "UTC"), **{m: pl.Float64 for m in _METRICS}}
        )
    wide = long.pivot(on="metric", index=["venue", "instrument", "ts"], values="value", aggregate_function="last")
    for m in _METRICS:
        if m not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(m))
    return wide.with_columns(pl.col("ts").str.to_datetime(time_zone="UTC")).sort("ts")


def _live(q: pl.DataFrame) -> pl.DataFrame:
    """Every quote carries its contract's expiry (one quote of it says so); quotes at or after the
    expiry go: a contract leaves every figure, history included, when it expires."""
    q = q.with_columns(pl.col("expiry").max().over(["venue", "instrument"]))
    return q.filter(pl.col("expiry").is_null() | (pl.col("expiry") > pl.col("ts").dt.epoch("s")))


def _current(frame: pl.DataFrame) -> pl.DataFrame:
    """Per venue, its fresh instruments; a venue with none keeps them all, `stale` (shown, never summed)."""
    return (
        frame.with_columns(stale=~pl.col("fresh").any().over("venue"))
        .filter(pl.col("fresh") | pl.col("stale"))
        .sort(["venue", "instrument"])
    )


def compute(
    rows: list[tuple],
    as_of: dt.datetime,
    *,
    band_edges=(0.0, 3.5, 7.0, 11.0),
    trend_pct: float = 5.0,
    newest: dt.datetime | None = None,
) -> Derivatives:
    """Figures as of `as_of` from stored observation rows; `newest` is the newest stored data (the real
    now while running; default `as_of`), which sets how finely the store still holds `as_of`."""
    as_of = as_of.astimezone(dt.UTC)
    newest = max(newest.astimezone(dt.UTC), as_of) if newest else as_of
    long, notices = observation_frame(rows, _METRIC_BOUNDS, now=newest)
    q = _live(wide_quotes(long).filter(pl.col("ts") <= as_of))
    venue_s = {v: registry.stale_after_s(v) if v in registry.VENUE_IDS else None for v in q["venue"].unique().to_list()}
    limits = {v: math.inf if s is None else stale_limit_s(s, as_of, newest) for v, s in venue_s.items()}
    # group_by order is arbitrary in polars: sort, so the same rows always give the same figures and row order
    limit = pl.DataFrame({"venue": list(limits), "limit": list(limits.values())}, schema={"venue": pl.Utf8, "limit": pl.Float64})
    latest = (
        q.group_by(["venue", "instrument"])
        .agg(pl.all().sort_by("ts").last())
        .filter(pl.col("expiry").is_null() | (pl.col("expiry") > as_of.timestamp()))  # expired by as_of
        .join(limit, on="venue", how="left")
        .with_columns(fresh=(pl.lit(as_of) - pl.col("ts")).dt.total_seconds() <= pl.col("limit"))
        .drop("limit")
        .sort(["venue", "instrument"])
    )

    basis, terms = _basis(latest)
    fresh_basis = {v: b for v, b in basis.items() if not b.stale}
    fresh_cm = [b.constant_maturity_pct for b in fresh_basis.values() if b.constant_maturity_pct is not None]
    cm = round(statistics.fmean(fresh_cm), 2) if fresh_cm else None
    fresh_3m = [b.annualized_pct for b in fresh_basis.values()]
    headline = cm if cm is not None else (round(statistics.fmean(fresh_3m), 2) if fresh_3m else None)

    funding = _funding(latest)
    weights = {v: o.usd for v, o in _oi_by_venue(latest, None).items() if o.usd and not o.stale}
    weighted = {v: (f.annualized_pct, weights[v]) for v, f in funding.items() if not f.stale and v in weights}
    oi_weighted = round(sum(p * w for p, w in weighted.values()) / sum(w for _, w in weighted.values()), 2) if weighted else None

    indexes = [i for i in latest.filter((pl.col("venue") != CME) & pl.col("fresh"))["index"].to_list() if i]
    ref_index = statistics.median(indexes) if indexes else None
    oi = _oi_by_venue(latest, ref_index)
    offshore = {v: o.usd for v, o in oi.items() if v != CME and not o.stale and o.usd is not None}
    cme = oi.get(CME)
    history = q.filter(pl.col("ts") >= as_of - dt.timedelta(days=HISTORY_DAYS))
    oi_hist = _oi_history(history, sorted(offshore))
    change_24h = _change(oi_hist, as_of, 24)
    change_7d = _change(oi_hist, as_of, 24 * 7)
    basis_hist = _basis_history(history, sorted(fresh_basis))
    funding_hist = _funding_history(history, sorted(v for v, f in funding.items() if not f.stale))
    trend = (
        "unknown"
        if change_7d is None
        else "rebuilding"
        if change_7d >= trend_pct
        else "bleeding"
        if change_7d <= -trend_pct
        else "flat"
    )

    def missing(metric: pl.Expr, counted) -> tuple[str, ...]:
        """Venues with this figure's data in the rows read (the last 22 days) that an aggregate leaves out."""
        seen = q.filter(metric & (pl.col("venue") != CME))["venue"].unique().to_list()
        return tuple(sorted(set(seen) - set(counted)))

    future = pl.col("expiry").is_not_null() & pl.col("mark").is_not_null()
    return Derivatives(
        as_of=as_of,
        basis=basis,
        constant_maturity_pct=cm,
        headline_basis_pct=headline,
        band=band_of(headline, band_edges),
        term_structure=terms,
        funding=funding,
        oi_weighted_funding_pct=oi_weighted,
        open_interest=oi,
        offshore_usd=round(sum(offshore.values()), 0) if offshore else None,
        cme_usd=cme.usd if cme and not cme.stale else None,
        cme_btc=cme.btc if cme and not cme.stale else None,
        change_24h_pct=change_24h,
        change_7d_pct=change_7d,
        trend=trend,
        basis_history=tuple(v for _, v in basis_hist),
        funding_history=tuple(round(v, 2) for _, v in funding_hist),
        oi_history=tuple(v for _, v in oi_hist),
        basis_times=tuple(t for t, _ in basis_hist),
        oi_times=tuple(t for t, _ in oi_hist),
        basis_change_24h_pt=_points_change(basis_hist, 24),
        funding_change_24h_pt=_points_change(funding_hist, 24),
        basis_missing=missing(future, fresh_basis),
        funding_missing=missing(pl.col("funding_rate").is_not_null(), weighted),
        offshore_missing=missing(pl.col("oi_usd").is_not_null() | pl.col("oi_btc").is_not_null(), offshore),
        notices=notices,
    )


def _futures(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.filter(pl.col("expiry").is_not_null() & pl.col("mark").is_not_null() & pl.col("index").is_not_null())
        .with_columns(days=(pl.col("expiry") - pl.col("ts").dt.epoch("s")) / 86400.0)
        .with_columns(pct=(pl.col("mark") / pl.col("index") - 1.0) * 365.0 / pl.col("days") * 100.0)
    )


def _basis(latest: pl.DataFrame) -> tuple[dict[str, BasisVenue], tuple[TermPoint, ...]]:
    futures = _current(_futures(latest)).sort("days", maintain_order=True)
    perps = _current(latest.filter(pl.col("expiry").is_null() & pl.col("mark").is_not_null() & pl.col("index").is_not_null()))
    terms = [
        TermPoint(v, i, None, round((m / x - 1.0) * 100.0, 4), s)
        for v, i, m, x, s in perps.select("venue", "instrument", "mark", "index", "stale").iter_rows()
    ]
    out: dict[str, BasisVenue] = {}
    for venue in sorted(set(futures["venue"].to_list())):
        f = futures.filter(pl.col("venue") == venue)
        terms.extend(
            TermPoint(venue, i, round(d, 1), round(p, 2), s)
            for i, d, p, s in f.select("instrument", "days", "pct", "stale").iter_rows()
        )
        usable = f.filter(pl.col("days") >= MIN_DAYS)
        if not usable.height:
            continue
        best = usable.with_columns(gap=(pl.col("days") - TARGET_DAYS).abs()).sort("gap").row(0, named=True)
        cm = None
        below = usable.filter(pl.col("days") < TARGET_DAYS).tail(1)
        above = usable.filter(pl.col("days") >= TARGET_DAYS).head(1)
        if below.height and above.height:
            d1, p1 = below["days"][0], below["pct"][0]
            d2, p2 = above["days"][0], above["pct"][0]
            cm = round(p1 + (p2 - p1) * (TARGET_DAYS - d1) / (d2 - d1), 2)
        out[venue] = BasisVenue(
            venue, round(best["pct"], 2), best["instrument"], round(best["days"], 1), best["ts"], best["stale"], cm
        )
    return out, tuple(terms)


def _funding(latest: pl.DataFrame) -> dict[str, FundingVenue]:
    perps = _current(latest.filter(pl.col("funding_rate").is_not_null() & pl.col("funding_interval_h").is_not_null()))
    out = {}
    for venue, rate, hours, ts, stale in perps.select("venue", "funding_rate", "funding_interval_h", "ts", "stale").iter_rows():
        out[venue] = FundingVenue(venue, rate, hours, round(funding_annualized_pct(rate, hours), 2), ts, stale)
    return out


def _oi_by_venue(latest: pl.DataFrame, ref_index: float | None) -> dict[str, OIVenue]:
    current = _current(latest.filter(pl.col("oi_usd").is_not_null() | pl.col("oi_btc").is_not_null()))
    out = {}
    for venue in sorted(set(current["venue"].to_list())):
        rows = current.filter(pl.col("venue") == venue)
        if venue == CME:
            rows = rows.sort("ts").tail(1)  # settlements (daily) or CFTC (weekly): the newest
        usd = rows["oi_usd"].drop_nulls()
        btc = rows["oi_btc"].drop_nulls()
        if not usd.len() and not btc.len():
            continue
        usd_total = float(usd.sum()) if usd.len() else (float(btc.sum()) * ref_index if ref_index else None)
        out[venue] = OIVenue(
            venue,
            round(usd_total, 0) if usd_total is not None else None,
            round(float(btc.sum()), 2) if btc.len() else None,
            cast(dt.datetime, rows["ts"].max()),
            rows["stale"][0],
        )
    return out


def _hourly_last(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.with_columns(hour=pl.col("ts").dt.truncate("1h"))
        .group_by(["venue", "instrument", "hour"])
        .agg(pl.all().sort_by("ts").last())
        .sort(["hour", "venue", "instrument"])  # sums and means below then add in one fixed order
    )


def _oi_history(history: pl.DataFrame, venues: list[str]) -> list[tuple[dt.datetime, float]]:
    h = _hourly_last(history.filter(pl.col("venue").is_in(venues) & pl.col("oi_usd").is_not_null()))
    if not h.height:
        return []
    per_venue = (
        h.group_by(["hour", "venue"])
        .agg(pl.col("oi_usd").sum())
        .sort(["hour", "venue"])
        .pivot(on="venue", index="hour", values="oi_usd")
        .sort("hour")
    )
    cols = [c for c in per_venue.columns if c != "hour"]
    filled = per_venue.with_columns([pl.col(c).forward_fill(limit=6) for c in cols])
    complete = filled.drop_nulls()  # an hour missing a venue would show a false drop
    return [(h, round(float(sum(vals)), 0)) for h, *vals in complete.iter_rows()]


def _change(series: list[tuple[dt.datetime, float]], as_of: dt.datetime, hours: int) -> float | None:
    if len(series) < 2:
        return None
    last_hour, last = series[-1]
    target = last_hour - dt.timedelta(hours=hours)
    earlier = [v for h, v in series if h <= target]
    if not earlier or not earlier[-1]:
        return None
    return round((last / earlier[-1] - 1.0) * 100.0, 2)


def _points_change(series: list[tuple[dt.datetime, float]], hours: int) -> float | None:
    if len(series) < 2:
        return None
    last_hour, last = series[-1]
    earlier = [v for h, v in series if h <= last_hour - dt.timedelta(hours=hours)]
    return round(last - earlier[-1], 2) if earlier else None


def _basis_history(history: pl.DataFrame, venues: list[str]) -> list[tuple[dt.datetime, float]]:
    f = _futures(_hourly_last(history.filter(pl.col("venue").is_in(venues)))).filter(pl.col("days") >= MIN_DAYS)
    if not f.height:
        return []
    best = (
        f.with_columns(gap=(pl.col("days") - TARGET_DAYS).abs())
        .group_by(["hour", "venue"])
        .agg(pl.col("pct").sort_by("gap").first())
        .sort(["hour", "venue"])
        .group_by("hour", maintain_order=True)
        .agg(pl.col("pct").mean())
    )
    return [(h, round(v, 2)) for h, v in best.iter_rows()]


def _funding_history(history: pl.DataFrame, venues: list[str]) -> list[tuple[dt.datetime, float]]:
    h = _hourly_last(
        history.filter(
            pl.col("venue").is_in(venues) & pl.col("funding_rate").is_not_null() & pl.col("funding_interval_h").is_not_null()
        )
    )
    if not h.height:
        return []
    h = h.with_columns(
        ann=pl.col("funding_rate") * 24.0 / pl.col("funding_interval_h") * 365.0 * 100.0, w=pl.col("oi_usd").fill_null(1.0)
    )
    out = h.group_by("hour", maintain_order=True).agg(((pl.col("ann") * pl.col("w")).sum() / pl.col("w").sum()).alias("v"))
    return list(out.iter_rows())


_READ_NEWEST = object()


def load_derivatives(
    store: Store, as_of: dt.datetime, *, band_edges, trend_pct: float, newest: dt.datetime | None | object = _READ_NEWEST
) -> Derivatives:
    """`newest`: the newest stored instant when the caller has read it already (a replay of many days)."""
    since = (as_of - dt.timedelta(days=HISTORY_DAYS + 14)).astimezone(dt.UTC).isoformat(timespec="seconds")
    until = as_of.astimezone(dt.UTC).isoformat(timespec="seconds")
    # Hourly: every figure here is the latest quote or an hourly series, and polling faster must not cost more.
    # Rows the store set aside for their type go through the same check, which names them in the notice.
    rows = store.observations(since, until, venues=registry.VENUE_IDS, hourly=True) + store.set_aside_rows("observations")
    if newest is _READ_NEWEST:
        newest = newest_stored(store)
    return compute(rows, as_of, band_edges=band_edges, trend_pct=trend_pct, newest=cast(dt.datetime | None, newest))


def newest_stored(store: Store) -> dt.datetime | None:
    """The newest stored instant (history is thinned back from it); the real now if it is unreadable."""
    newest = store.newest_observation(venues=registry.VENUE_IDS)
    now = dt.datetime.now(dt.UTC)
    try:
        return instant(newest, "newest observation", now=now) if newest else None
    except DataError:
        return now
