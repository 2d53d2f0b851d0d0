"""Bitget quirks: spot and USDT-futures are separate wallets; the demo environment is the real URL with the
``PAPTRADING: 1`` header; funding rates come from current-fund-rate (ccxt's default, the tickers, carries no
interval or next settlement); funding-rate history has no time filter, only pages (newest first)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from arbx_pipelines.core.models import FundingRate, Venue
from arbx_pipelines.core.money import to_decimal
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.parsing import interval_hours

HISTORY_PAGE = 100
MAX_HISTORY_PAGES = 200


class BitgetClient(VenueClient):
    venue: ClassVar[Venue] = Venue.BITGET
    ccxt_id: ClassVar[str] = "bitget"
    separate_wallets: ClassVar[bool] = True

    def enable_demo(self) -> None:
        self.exchange.set_sandbox_mode(True)  # sends PAPTRADING: 1

    def history_page_size(self) -> int:
        return HISTORY_PAGE

    def funding_rates_params(self) -> dict[str, Any]:
        """current-fund-rate names each symbol's interval and next settlement; the default tickers do not."""
        return {"method": "publicMixGetV2MixMarketCurrentFundRate"}

    async def _fetch_funding_intervals(self, symbols: list[str]) -> dict[str, int]:
        rates = await self._call(
            "fetch_funding_rates", lambda: self.exchange.fetch_funding_rates(symbols, self.funding_rates_params())
        )
        return {symbol: hours for symbol, item in rates.items() if (hours := interval_hours(item.get("interval")))}

    async def funding_history(self, symbol: str, since: datetime, until: datetime) -> list[FundingRate]:
        """Walk pages newest-first until a page reaches back before ``since``."""
        start, end = int(since.timestamp() * 1000), int(until.timestamp() * 1000)
        found: dict[int, tuple[Decimal, int | None]] = {}
        for page_no in range(1, MAX_HISTORY_PAGES + 1):
            page = await self._call(
                "fetch_funding_rate_history",
                lambda n=page_no: self.exchange.fetch_funding_rate_history(  # type: ignore[misc]
                    symbol, None, HISTORY_PAGE, {"pageNo": n}
                ),
            )
            stamps = [int(p["timestamp"]) for p in page if p.get("timestamp") is not None]
            for p in page:
                ts = p.get("timestamp")
                if ts is not None and start <= int(ts) < end:
                    found[int(ts)] = (to_decimal(p["fundingRate"]), interval_hours(p.get("interval")))
            if len(page) < HISTORY_PAGE or not stamps or min(stamps) < start:
                break
        return await self._settlements(symbol, found)
