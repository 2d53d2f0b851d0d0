"""Simulated Bitget (classic account, v2 API): spot (``/api/v2/spot``), USDT-M futures (``/api/v2/mix``), margin
reference (``/api/v2/margin``) and the v3 unified-account probe.

Served under ``/bitget``: a stock ``ccxt.bitget`` whose ``urls['api']`` entries are rewritten to
``http://HOST:PORT/bitget`` (``ccxt_wiring.wire``) reaches every route below with its default options. With
credentials, ccxt first asks ``GET /api/v3/account/settings`` whether the account is unified (UTA); the simulator
answers 40084 (classic account), so ccxt uses the v2 endpoints for everything: separate spot and USDT-M futures
wallets, ``spot/wallet/transfer`` between them, one-way futures positions.

Files: ``auth.py`` signatures, ``errors.py`` error codes, ``formats.py`` envelope and parameters,
``reference.py`` the ``load_markets`` payloads, ``market_data.py`` tickers / books / funding, ``orders.py`` and
``order_format.py`` orders, ``order_history.py`` finished orders and fills, ``account.py`` balances / transfer /
leverage / margin mode, ``positions.py``, ``bills.py`` the futures ledger (funding history), ``spot_records.py`` the
spot ledger and transfer records.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from arbx_pipelines.venues.sim.bitget.account import BitgetAccount
from arbx_pipelines.venues.sim.bitget.auth import verify
from arbx_pipelines.venues.sim.bitget.bills import BitgetBills
from arbx_pipelines.venues.sim.bitget.errors import render
from arbx_pipelines.venues.sim.bitget.market_data import BitgetMarketData
from arbx_pipelines.venues.sim.bitget.order_history import BitgetOrderHistory
from arbx_pipelines.venues.sim.bitget.orders import BitgetOrders
from arbx_pipelines.venues.sim.bitget.positions import BitgetPositions
from arbx_pipelines.venues.sim.bitget.reference import BitgetReference
from arbx_pipelines.venues.sim.bitget.spot_records import BitgetSpotRecords
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.history import History
from arbx_pipelines.venues.sim.settings import SimSettings
from arbx_pipelines.venues.sim.universe import Instrument, build_instruments, venue_coins
from arbx_pipelines.venues.sim.venue_api import Reply, Route, SimRequest, VenueModule

#: Bitget's minimum order value: 1 USDT on spot, 5 USDT on USDT-M futures (``minTradeUSDT``)
SPOT_MIN_USDT = Decimal(1)
FUTURES_MIN_USDT = Decimal(5)
#: Bitget's request-rate budgets are per endpoint and per second; the sim counts weight per minute and group
PUBLIC, PRIVATE, TRADE = "public", "private", "trade"


def bitget_instrument(instrument: Instrument) -> Instrument:
    """The engine instrument with Bitget's minimum order values."""
    minimum = FUTURES_MIN_USDT if instrument.is_swap else SPOT_MIN_USDT
    return Instrument(
        symbol=instrument.symbol, base=instrument.base, quote=instrument.quote, kind=instrument.kind,
        tick_size=instrument.tick_size, lot_size=instrument.lot_size, min_qty=instrument.min_qty,
        min_notional=minimum, depth_usd=instrument.depth_usd, contract_size=instrument.contract_size,
        funding_interval_hours=instrument.funding_interval_hours, max_leverage=instrument.max_leverage,
        maint_margin_rate=instrument.maint_margin_rate,
    )  # fmt: skip


class BitgetModule(VenueModule):
    name: ClassVar[str] = "bitget"

    def __init__(self, venue: SimVenue, settings: SimSettings) -> None:
        super().__init__(venue, settings)
        self.reference = BitgetReference(list(venue.instruments.values()), venue.fees)
        self.market_data = BitgetMarketData(venue, self.reference)
        self.account = BitgetAccount(venue, self.market_data)
        self.orders = BitgetOrders(venue, self.market_data)
        self.positions = BitgetPositions(venue, self.market_data)
        self.bills = BitgetBills(venue, self.market_data)
        self.spot_records = BitgetSpotRecords(venue, self.market_data)
        self.history = BitgetOrderHistory(venue, self.market_data)

    @classmethod
    def instruments(cls, seed: int, history: History) -> dict[str, Instrument]:
        instruments = build_instruments(venue_coins(cls.name, seed, history))
        return {symbol: bitget_instrument(instrument) for symbol, instrument in instruments.items()}

    @classmethod
    def initial_wallets(cls, start_usdt: Decimal) -> dict[str, dict[str, Decimal]]:
        """Classic account: spot and USDT-M futures wallets, half of the start in each."""
        half = start_usdt / 2
        return {"spot": {"USDT": half}, "futures": {"USDT": start_usdt - half}}

    def routes(self) -> list[Route]:
        data, account, orders = self.market_data, self.account, self.orders
        public = [
            Route("GET", "/api/v2/public/time", data.server_time, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/spot/public/coins", data.coins, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/spot/public/symbols", data.spot_symbols, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/margin/currencies", data.margin_currencies, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/mix/market/contracts", data.contracts, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/spot/market/tickers", data.spot_tickers, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/spot/market/orderbook", data.spot_orderbook, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/mix/market/ticker", data.mix_ticker, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/mix/market/tickers", data.mix_tickers, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/mix/market/merge-depth", data.mix_merge_depth, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/mix/market/current-fund-rate", data.current_fund_rate, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/mix/market/funding-time", data.funding_time, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/mix/market/history-fund-rate", data.history_fund_rate, 1, limit_group=PUBLIC),
            Route("GET", "/api/v2/mix/market/symbol-price", data.symbol_price, 1, limit_group=PUBLIC),
        ]
        private = [
            Route("GET", "/api/v3/account/settings", account.uta_settings, 1, True, PRIVATE),
            Route("GET", "/api/v2/common/trade-rate", data.trade_rate, 1, True, PRIVATE),
            Route("GET", "/api/v2/spot/account/assets", account.spot_assets, 1, True, PRIVATE),
            Route("POST", "/api/v2/spot/wallet/transfer", account.transfer, 1, True, PRIVATE),
            Route("GET", "/api/v2/spot/account/bills", self.spot_records.spot_bills, 1, True, PRIVATE),
            Route("GET", "/api/v2/spot/account/transferRecords", self.spot_records.transfer_records, 1, True, PRIVATE),
            Route("GET", "/api/v2/mix/account/accounts", account.mix_accounts, 1, True, PRIVATE),
            Route("GET", "/api/v2/mix/account/account", account.mix_account, 1, True, PRIVATE),
            Route("POST", "/api/v2/mix/account/set-leverage", account.set_leverage, 1, True, PRIVATE),
            Route("POST", "/api/v2/mix/account/set-margin-mode", account.set_margin_mode, 1, True, PRIVATE),
            Route("GET", "/api/v2/mix/account/bill", self.bills.mix_bill, 1, True, PRIVATE),
            Route("GET", "/api/v2/mix/position/all-position", self.positions.all_positions, 1, True, PRIVATE),
            Route("GET", "/api/v2/mix/position/single-position", self.positions.single_position, 1, True, PRIVATE),
        ]
        trade = [
            Route("POST", "/api/v2/spot/trade/place-order", orders.spot_place, 1, True, TRADE),
            Route("GET", "/api/v2/spot/trade/orderInfo", orders.spot_order_info, 1, True, TRADE),
            Route("POST", "/api/v2/spot/trade/cancel-order", orders.spot_cancel, 1, True, TRADE),
            Route("GET", "/api/v2/spot/trade/unfilled-orders", orders.spot_unfilled, 1, True, TRADE),
            Route("POST", "/api/v2/mix/order/place-order", orders.mix_place, 1, True, TRADE),
            Route("GET", "/api/v2/mix/order/detail", orders.mix_detail, 1, True, TRADE),
            Route("POST", "/api/v2/mix/order/cancel-order", orders.mix_cancel, 1, True, TRADE),
            Route("GET", "/api/v2/mix/order/orders-pending", orders.mix_pending, 1, True, TRADE),
            Route("GET", "/api/v2/spot/trade/history-orders", self.history.spot_history, 1, True, TRADE),
            Route("GET", "/api/v2/spot/trade/fills", self.history.spot_fills, 1, True, TRADE),
            Route("GET", "/api/v2/mix/order/orders-history", self.history.mix_history, 1, True, TRADE),
            Route("GET", "/api/v2/mix/order/fills", self.history.mix_fills, 1, True, TRADE),
        ]
        return public + private + trade

    def authenticate(self, request: SimRequest) -> None:
        verify(request, self.settings.api_key, self.settings.secret, self.settings.passphrase)

    def render_error(self, error: SimError, request: SimRequest) -> Reply:
        return render(error, request)

    def not_found(self, request: SimRequest) -> Reply:
        return render(SimError(ErrorKind.NOT_FOUND), request)


MODULE = BitgetModule
