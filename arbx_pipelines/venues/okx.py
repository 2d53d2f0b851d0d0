"""OKX quirks: one unified trading account holds spot and swaps (no transfers); swap amounts are contracts of
``ctVal`` coins; the demo environment is the real URL with the ``x-simulated-trading: 1`` header; leverage
is set per margin mode."""

from __future__ import annotations

from typing import Any, ClassVar

from arbx_pipelines.core.models import MarketType, Venue
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.venues.client import VenueClient


class OkxClient(VenueClient):
    venue: ClassVar[Venue] = Venue.OKX
    ccxt_id: ClassVar[str] = "okx"
    separate_wallets: ClassVar[bool] = False

    def enable_demo(self) -> None:
        self.exchange.set_sandbox_mode(True)  # adds x-simulated-trading: 1

    def order_params(self, intent: OrderIntent) -> dict[str, Any]:
        params = super().order_params(intent)
        params["tdMode"] = "cash" if intent.market_type is MarketType.SPOT else "cross"
        return params

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        await self._call(
            "set_leverage", lambda: self.exchange.set_leverage(leverage, symbol, {"mgnMode": "cross"}), write=True
        )

    def order_trades_params(self, order_id: str) -> dict[str, Any]:
        return {"ordId": order_id}

    async def set_margin_mode(self, symbol: str, margin_mode: str = "cross") -> None:
        """Nothing to do: OKX takes the margin mode per order (``tdMode``), and arbx always trades cross."""
        if margin_mode != "cross":
            raise ValueError("arbx trades OKX swaps in cross margin only")

    def balance_params(self, account: MarketType) -> dict[str, Any]:
        return {}  # the unified trading account

    def history_page_size(self) -> int:
        return 100
