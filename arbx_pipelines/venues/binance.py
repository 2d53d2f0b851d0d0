"""Binance quirks: spot and USDT-M futures are separate wallets; funding intervals come from fundingInfo
(a symbol absent there settles every 8 hours); demo trading is a separate URL set."""

from __future__ import annotations

from typing import Any, ClassVar

from arbx_pipelines.core.models import Venue
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.parsing import interval_hours

RECV_WINDOW_MS = 5_000


class BinanceClient(VenueClient):
    venue: ClassVar[Venue] = Venue.BINANCE
    ccxt_id: ClassVar[str] = "binance"
    separate_wallets: ClassVar[bool] = True
    #: 20 ccxt cost units = 100 request weight, under 2% of Binance's 6000 spot (2400 futures) weight a minute
    burst_cost: ClassVar[int] = 20

    def ccxt_options(self) -> dict[str, Any]:
        # requests older than this are refused by Binance, so a lost order request is dead after it
        return {"recvWindow": RECV_WINDOW_MS}

    def enable_demo(self) -> None:
        self.exchange.enable_demo_trading(True)

    async def _fetch_funding_intervals(self, symbols: list[str]) -> dict[str, int]:
        raw = await self._call("fetch_funding_intervals", lambda: self.exchange.fetch_funding_intervals())
        intervals = {symbol: interval_hours(item.get("interval")) for symbol, item in raw.items()}
        return {symbol: intervals.get(symbol) or 8 for symbol in symbols}

    def history_page_size(self) -> int:
        return 1000

    def balance_params(self, account: Any) -> dict[str, Any]:
        return {"type": "spot" if account.value == "spot" else "future"}
