"""Store rows -> polars frames. The only place analytics touches the store."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from sources.records import TOTAL
from sources.store import Store


@dataclass(frozen=True)
class AssetFrames:
    asset: str
    funds: tuple[str, ...]  # page order, as Farside shows them
    sessions: pl.DataFrame  # date, total, provisional
    flows: pl.DataFrame  # date, fund, usd_m (null = `-`)


_SESSION_SCHEMA = {"asset": pl.Utf8, "date": pl.Utf8, "total": pl.Float64, "provisional": pl.Boolean}
_FLOW_SCHEMA = {"asset": pl.Utf8, "date": pl.Utf8, "fund": pl.Utf8, "usd_m": pl.Float64}


def frames_from_rows(asset: str, funds: list[str], sessions: list[tuple], flows: list[tuple]) -> AssetFrames:
    s = pl.DataFrame(sessions, schema=_SESSION_SCHEMA, orient="row").with_columns(pl.col("date").str.to_date())
    f = pl.DataFrame(flows, schema=_FLOW_SCHEMA, orient="row").with_columns(pl.col("date").str.to_date())
    f = f.filter(pl.col("fund") != TOTAL)
    known = set(funds)
    extra = sorted(set(f["fund"].unique().to_list()) - known)  # funds no longer on the page keep their history
    return AssetFrames(asset, tuple(funds) + tuple(extra), s.drop("asset").sort("date"), f.drop("asset").sort("date", "fund"))


def load_asset(store: Store, asset: str) -> AssetFrames:
    return frames_from_rows(asset, store.funds(asset), store.sessions(asset), store.flows(asset))
