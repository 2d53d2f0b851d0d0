"""Simulated Binance: spot (``/api/v3``), USD-M futures (``/fapi``), wallet endpoints (``/sapi``).

Served under ``/binance``: a stock ``ccxt.binance`` whose ``urls['api']`` entries are rewritten to
``http://HOST:PORT/binance/<original path>`` (``ccxt_wiring.wire``) reaches every route below with its default
options. COIN-M (``/dapi``) answers an empty market list, so ``load_markets()`` works but lists no inverse contracts.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.binance.auth import verify
from arbx_pipelines.venues.sim.binance.errors import render
from arbx_pipelines.venues.sim.binance.market_data import BinanceMarketData
from arbx_pipelines.venues.sim.binance.reference import BinanceReference
from arbx_pipelines.venues.sim.binance.trading import BinanceTrading
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.settings import SimSettings
from arbx_pipelines.venues.sim.venue_api import Reply, Route, SimRequest, VenueModule


class BinanceModule(VenueModule):
    name = "binance"

    def __init__(self, venue: SimVenue, settings: SimSettings) -> None:
        super().__init__(venue, settings)
        self.reference = BinanceReference(list(venue.instruments.values()))
        self.market_data = BinanceMarketData(venue, self.reference)
        self.trading = BinanceTrading(venue, self.market_data)

    @classmethod
    def initial_wallets(cls, start_usdt: Decimal) -> dict[str, dict[str, Decimal]]:
        """Binance keeps spot, USD-M futures and funding wallets apart; half of the start each in spot and futures."""
        half = start_usdt / 2
        return {"spot": {"USDT": half}, "futures": {"USDT": start_usdt - half}, "funding": {}}

    def save_state(self) -> dict[str, Any]:
        return {"transfers": self.trading.account.transfers}

    def load_state(self, state: dict[str, Any]) -> None:
        self.trading.account.transfers = list(state.get("transfers", []))

    def routes(self) -> list[Route]:
        data = self.market_data
        public = [
            Route("GET", "/api/v3/ping", data.ping, 1, limit_group="api"),
            Route("GET", "/api/v3/time", data.server_time, 1, limit_group="api"),
            Route("GET", "/api/v3/exchangeInfo", data.spot_exchange_info, 20, limit_group="api"),
            Route("GET", "/api/v3/ticker/24hr", data.spot_ticker_24h, 2, limit_group="api"),
            Route("GET", "/api/v3/ticker/bookTicker", data.spot_book_ticker, 2, limit_group="api"),
            Route("GET", "/api/v3/ticker/price", data.spot_last_price, 2, limit_group="api"),
            Route("GET", "/api/v3/depth", data.spot_depth, 5, limit_group="api"),
            Route("GET", "/fapi/v1/ping", data.ping, 1, limit_group="fapi"),
            Route("GET", "/fapi/v1/time", data.server_time, 1, limit_group="fapi"),
            Route("GET", "/fapi/v1/exchangeInfo", data.futures_exchange_info, 1, limit_group="fapi"),
            Route("GET", "/fapi/v1/ticker/24hr", data.futures_ticker_24h, 1, limit_group="fapi"),
            Route("GET", "/fapi/v1/ticker/bookTicker", data.futures_book_ticker, 2, limit_group="fapi"),
            Route("GET", "/fapi/v1/ticker/price", data.futures_last_price, 1, limit_group="fapi"),
            Route("GET", "/fapi/v2/ticker/price", data.futures_last_price, 1, limit_group="fapi"),
            Route("GET", "/fapi/v1/depth", data.futures_depth, 5, limit_group="fapi"),
            Route("GET", "/fapi/v1/premiumIndex", data.premium_index, 1, limit_group="fapi"),
            Route("GET", "/fapi/v1/fundingInfo", data.funding_intervals, 1, limit_group="fapi"),
            Route("GET", "/fapi/v1/fundingRate", data.funding_rate_history, 1, limit_group="fapi"),
            Route("GET", "/dapi/v1/exchangeInfo", data.coin_futures_exchange_info, 1, limit_group="dapi"),
            Route("GET", "/sapi/v1/system/status", data.system_status, 1, limit_group="sapi"),
        ]
        wallet = [
            Route("GET", "/sapi/v1/capital/config/getall", data.capital_config, 10, True, "sapi"),
            Route("GET", "/sapi/v1/margin/allPairs", data.cross_margin_pairs, 1, True, "sapi"),
            Route("GET", "/sapi/v1/margin/isolated/allPairs", data.isolated_margin_pairs, 10, True, "sapi"),
        ]
        return public + wallet + self.trading.routes()

    def authenticate(self, request: SimRequest) -> None:
        verify(request, self.settings.api_key, self.settings.secret)

    def render_error(self, error: SimError, request: SimRequest) -> Reply:
        return render(error, request)

    def not_found(self, request: SimRequest) -> Reply:
        return render(SimError(ErrorKind.NOT_FOUND), request)

    def weight_headers(self, used: Mapping[str, int]) -> dict[str, str]:
        headers = {}
        for group, weight in used.items():
            name = "X-SAPI-USED-IP-WEIGHT-1M" if group == "sapi" else "X-MBX-USED-WEIGHT-1M"
            headers[name] = str(weight)
        return headers


MODULE = BinanceModule
