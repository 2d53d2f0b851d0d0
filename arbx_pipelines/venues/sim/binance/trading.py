"""Binance private endpoints (spot ``/api/v3``, USD-M ``/fapi``, wallet ``/sapi``): the route table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbx_pipelines.venues.sim.binance.account import BinanceAccount
from arbx_pipelines.venues.sim.binance.orders import BinanceOrders
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.venue_api import Route

if TYPE_CHECKING:
    from arbx_pipelines.venues.sim.binance.market_data import BinanceMarketData


class BinanceTrading:
    def __init__(self, venue: SimVenue, market_data: BinanceMarketData) -> None:
        self.orders = BinanceOrders(venue, market_data)
        self.account = BinanceAccount(venue, market_data)

    def routes(self) -> list[Route]:
        o, a = self.orders, self.account
        spot = [
            Route("POST", "/api/v3/order", o.spot_create, 1, True, "api"),
            Route("GET", "/api/v3/order", o.spot_get, 4, True, "api"),
            Route("DELETE", "/api/v3/order", o.spot_cancel, 1, True, "api"),
            Route("GET", "/api/v3/openOrders", o.spot_open_orders, 6, True, "api"),
            Route("GET", "/api/v3/allOrders", o.spot_all_orders, 20, True, "api"),
            Route("GET", "/api/v3/myTrades", o.spot_my_trades, 20, True, "api"),
            Route("GET", "/api/v3/account", a.spot_account, 20, True, "api"),
        ]
        futures = [
            Route("POST", "/fapi/v1/order", o.futures_create, 1, True, "fapi"),
            Route("GET", "/fapi/v1/order", o.futures_get, 1, True, "fapi"),
            Route("DELETE", "/fapi/v1/order", o.futures_cancel, 1, True, "fapi"),
            Route("GET", "/fapi/v1/openOrder", o.futures_get_open, 1, True, "fapi"),
            Route("GET", "/fapi/v1/openOrders", o.futures_open_orders, 1, True, "fapi"),
            Route("GET", "/fapi/v1/allOrders", o.futures_all_orders, 5, True, "fapi"),
            Route("GET", "/fapi/v1/userTrades", o.futures_user_trades, 5, True, "fapi"),
            Route("GET", "/fapi/v2/account", a.futures_account, 5, True, "fapi"),
            Route("GET", "/fapi/v3/account", a.futures_account, 5, True, "fapi"),
            Route("GET", "/fapi/v2/balance", a.futures_balance, 5, True, "fapi"),
            Route("GET", "/fapi/v3/balance", a.futures_balance, 5, True, "fapi"),
            Route("GET", "/fapi/v2/positionRisk", a.position_risk_v2, 5, True, "fapi"),
            Route("GET", "/fapi/v3/positionRisk", a.position_risk_v3, 5, True, "fapi"),
            Route("POST", "/fapi/v1/leverage", a.set_leverage, 1, True, "fapi"),
            Route("POST", "/fapi/v1/marginType", a.set_margin_type, 1, True, "fapi"),
            Route("GET", "/fapi/v1/symbolConfig", a.symbol_config, 5, True, "fapi"),
            Route("GET", "/fapi/v1/leverageBracket", a.leverage_brackets, 1, True, "fapi"),
            Route("GET", "/fapi/v1/positionSide/dual", a.position_mode, 30, True, "fapi"),
            Route("GET", "/fapi/v1/multiAssetsMargin", a.multi_assets_mode, 30, True, "fapi"),
            Route("GET", "/fapi/v1/income", a.income, 30, True, "fapi"),
            Route("GET", "/fapi/v1/commissionRate", a.futures_commission_rate, 20, True, "fapi"),
            Route("GET", "/fapi/v1/accountConfig", a.futures_account_config, 5, True, "fapi"),
        ]
        wallet = [
            Route("POST", "/sapi/v1/asset/transfer", a.transfer, 900, True, "sapi"),
            Route("GET", "/sapi/v1/asset/transfer", a.transfer_history, 1, True, "sapi"),
            Route("POST", "/sapi/v1/asset/get-funding-asset", a.funding_wallet, 1, True, "sapi"),
            Route("GET", "/sapi/v1/asset/tradeFee", a.spot_trade_fee, 1, True, "sapi"),
        ]
        return spot + futures + wallet
