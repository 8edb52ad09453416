"""Derivatives venues: each is a list of requests and a pure parser, polled by `poll_venue`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import registry
from . import binance, bybit, cme, deribit, okx
from .common import Quote


@dataclass(frozen=True)
class Venue:
    name: str
    requests: Callable[[dt.datetime], list[tuple[str, str]]]
    check: Callable[[str, Any, dt.datetime], None]
    parse: Callable[[dict[str, Any], dt.datetime], list[Quote]]
    limits_path: str | None = None  # where the venue publishes its request-weight limit (Binance)

    @property
    def source_id(self) -> str:
        return self.name

    @property
    def stale_after_s(self) -> float:
        """Venue time older than this is suspect: declared with the source in the registry."""
        return registry.BY_ID[self.name].stale_after_s or 0.0


# Base URLs, intervals and staleness limits are the registry's (sources/registry.py); here: how to ask and read.
VENUES: dict[str, Venue] = {
    v.name: v
    for v in (
        Venue(deribit.NAME, deribit.requests, deribit.check, deribit.parse),
        Venue(binance.USDM, binance.usdm_requests, binance.check, binance.parse_usdm, binance.USDM_LIMITS_PATH),
        Venue(binance.COINM, binance.coinm_requests, binance.check, binance.parse_coinm, binance.COINM_LIMITS_PATH),
        Venue(bybit.NAME, bybit.requests, bybit.check, bybit.parse),
        Venue(okx.NAME, okx.requests, okx.check, okx.parse),
        Venue(cme.CME, cme.cme_requests, cme.check_envelope, cme.parse_cme),
        Venue(cme.CFTC, cme.cftc_requests, cme.check_envelope, cme.parse_cftc),
    )
}
