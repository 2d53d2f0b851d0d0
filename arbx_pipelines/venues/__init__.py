"""Venue adapters: ccxt clients with one module per venue's quirks, and the simulated venues (``sim/``)."""

from __future__ import annotations

from collections.abc import Mapping

from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.venues.binance import BinanceClient
from arbx_pipelines.venues.bitget import BitgetClient
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.okx import OkxClient

CLIENTS: dict[Venue, type[VenueClient]] = {
    Venue.BINANCE: BinanceClient,
    Venue.OKX: OkxClient,
    Venue.BITGET: BitgetClient,
}


def make_client(
    venue: Venue,
    mode: Mode,
    *,
    credentials: Mapping[str, str] | None = None,
    sim_url: str | None = None,
    rate_limit_ms: int | None = None,
) -> VenueClient:
    """The client of ``venue`` for ``mode`` (paper mode: public data with local fills)."""
    if mode is Mode.PAPER:
        from arbx_pipelines.venues.paper import paper_client

        return paper_client(CLIENTS[venue])
    return CLIENTS[venue](mode, credentials=credentials, sim_url=sim_url, rate_limit_ms=rate_limit_ms)
