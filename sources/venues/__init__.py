"""Derivatives venues: each is a list of requests and a pure parser, polled by `poll_venue`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from . import binance, bybit, cme, deribit, okx
from .common import Quote


@dataclass(frozen=True)
class Venue:
    name: str
    default_base_url: str
    default_interval: float
    requests: Callable[[dt.datetime], list[tuple[str, str]]]
    check: Callable[[str, Any, dt.datetime], None]
    parse: Callable[[dict[str, Any], dt.datetime], list[Quote]]
    stale_after_s: float  # venue time older than this is suspect
    limits_path: str | None = None  # where the venue publishes its request-weight limit (Binance)

    @property
    def source_id(self) -> str:
        return self.name


VENUES: dict[str, Venue] = {
    v.name: v
    for v in (
        Venue(deribit.NAME, deribit.DEFAULT_BASE_URL, 60.0, deribit.requests, deribit.check, deribit.parse, 900),
        Venue(binance.USDM, binance.USDM_BASE_URL, 60.0, binance.usdm_requests, binance.check, binance.parse_usdm, 7200,
              binance.USDM_LIMITS_PATH),
        Venue(binance.COINM, binance.COINM_BASE_URL, 60.0, binance.coinm_requests, binance.check, binance.parse_coinm, 900,
              binance.COINM_LIMITS_PATH),
        Venue(bybit.NAME, bybit.DEFAULT_BASE_URL, 60.0, bybit.requests, bybit.check, bybit.parse, 900),
        Venue(okx.NAME, okx.DEFAULT_BASE_URL, 60.0, okx.requests, okx.check, okx.parse, 900),
        # CME's JSON is bot-protected: polled hourly, best effort. CFTC publishes weekly (Tuesday's
        # positions on Friday) under the same venue name, so CME data is stale only after 12 days.
        Venue(cme.CME, cme.CME_BASE_URL, 3600.0, cme.cme_requests, cme.check_envelope, cme.parse_cme, 12 * 86400),
        Venue(cme.CFTC, cme.CFTC_BASE_URL, 6 * 3600.0, cme.cftc_requests, cme.check_envelope, cme.parse_cftc, 12 * 86400),
    )
}
