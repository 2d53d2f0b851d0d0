"""Bitget quirks: spot and USDT-futures are separate wallets; the demo environment is the real URL with the
``PAPTRADING: 1`` header; futures calls carry the product type."""

from __future__ import annotations

from typing import ClassVar

from arbx_pipelines.core.models import Venue
from arbx_pipelines.venues.client import VenueClient


class BitgetClient(VenueClient):
    venue: ClassVar[Venue] = Venue.BITGET
    ccxt_id: ClassVar[str] = "bitget"
    separate_wallets: ClassVar[bool] = True

    def enable_demo(self) -> None:
        self.exchange.set_sandbox_mode(True)  # sends PAPTRADING: 1

    def history_page_size(self) -> int:
        return 100
