"""Simulated OKX: the v5 REST API (``/api/v5/...``) with one unified trading account, served under ``/okx``.

A stock ``ccxt.okx`` whose ``urls['api']['rest']`` is rewritten to ``http://HOST:PORT/okx`` (``ccxt_wiring.wire``)
works with default options: ``load_markets()`` reads ``asset/currencies`` (signed) and ``public/instruments`` for
SPOT, FUTURES, SWAP and OPTION (BTC-USD and ETH-USD underlyings); futures and options answer an empty list.

Answers use OKX's envelope ``{"code": "0", "msg": "", "data": [...]}`` with numbers as strings. Swaps
(``BTC-USDT-SWAP``) trade in contracts of ``ctVal`` coins; the engine works in coins. Spot and swaps share one USDT
balance: the module makes the engine's ``spot`` and ``futures`` wallets one wallet (``funding`` stays apart).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.accounts import FUTURES, SPOT
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.history import History
from arbx_pipelines.venues.sim.okx.account import OkxAccount
from arbx_pipelines.venues.sim.okx.auth import verify
from arbx_pipelines.venues.sim.okx.balances import OkxBalances
from arbx_pipelines.venues.sim.okx.bills import OkxBills
from arbx_pipelines.venues.sim.okx.errors import render
from arbx_pipelines.venues.sim.okx.fills import OkxFills
from arbx_pipelines.venues.sim.okx.leverage import LeverageBook
from arbx_pipelines.venues.sim.okx.market_data import OkxMarketData
from arbx_pipelines.venues.sim.okx.orders import OkxOrders
from arbx_pipelines.venues.sim.okx.reference import OkxReference, okx_instruments
from arbx_pipelines.venues.sim.settings import SimSettings
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import Handler, Reply, Route, SimRequest, VenueModule

API = "/api/v5"


class OkxModule(VenueModule):
    name = "okx"

    def __init__(self, venue: SimVenue, settings: SimSettings) -> None:
        super().__init__(venue, settings)
        wallets = venue.account.wallets
        wallets[SPOT] = wallets[FUTURES]  # the unified trading account: one balance per coin for spot and swaps
        self.reference = OkxReference(list(venue.instruments.values()))
        self.market_data = OkxMarketData(venue, self.reference)
        self.leverage = LeverageBook(venue)
        self.orders = OkxOrders(venue, self.market_data, self.leverage)
        self.account = OkxAccount(venue, self.market_data, self.reference, self.leverage)
        self.balances = OkxBalances(venue)
        self.bills = OkxBills(venue)
        self.fills = OkxFills(venue)

    @classmethod
    def instruments(cls, seed: int, history: History) -> dict[str, Instrument]:
        return okx_instruments(cls.name, seed, history)

    def save_state(self) -> dict[str, Any]:
        return {"leverage": self.leverage.saved()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.leverage.load(state.get("leverage", []))

    @classmethod
    def initial_wallets(cls, start_usdt: Decimal) -> dict[str, dict[str, Decimal]]:
        """Everything in the trading account (``spot`` becomes the same wallet as ``futures``)."""
        return {FUTURES: {"USDT": start_usdt}, SPOT: {}, "funding": {}}

    def routes(self) -> list[Route]:
        data, orders, account = self.market_data, self.orders, self.account

        def public(path: str, handler: Handler) -> Route:
            return Route("GET", API + path, handler, 1, limit_group=path)

        def private(method: str, path: str, handler: Handler) -> Route:
            return Route(method, API + path, handler, 1, signed=True, limit_group=path)

        return [
            public("/public/time", data.server_time),
            public("/system/status", data.system_status),
            public("/public/instruments", data.instruments),
            public("/market/ticker", data.ticker),
            public("/market/tickers", data.tickers),
            public("/market/books", data.books),
            public("/market/books-full", data.books_full),
            public("/public/mark-price", data.mark_price),
            public("/public/funding-rate", data.funding_rate),
            public("/public/funding-rate-history", data.funding_rate_history),
            private("GET", "/asset/currencies", account.currencies),
            private("GET", "/asset/balances", self.balances.funding),
            private("POST", "/asset/transfer", account.transfer),
            private("GET", "/asset/bills", self.bills.funding_account),
            private("GET", "/account/balance", self.balances.trading),
            private("GET", "/account/positions", account.positions),
            private("GET", "/account/config", account.config),
            private("POST", "/account/set-leverage", account.set_leverage),
            private("GET", "/account/leverage-info", account.leverage_info),
            private("GET", "/account/trade-fee", account.trade_fee),
            private("GET", "/account/bills", self.bills.recent),
            private("GET", "/account/bills-archive", self.bills.archive),
            private("POST", "/trade/order", orders.place_order),
            private("POST", "/trade/batch-orders", orders.place_batch),
            private("POST", "/trade/cancel-order", orders.cancel_order),
            private("GET", "/trade/order", orders.get_order),
            private("GET", "/trade/orders-pending", orders.pending),
            private("GET", "/trade/orders-history", orders.history),
            private("GET", "/trade/orders-history-archive", orders.history_archive),
            private("GET", "/trade/fills", self.fills.recent),
            private("GET", "/trade/fills-history", self.fills.history),
            private("GET", "/trade/orders-algo-pending", orders.algo_pending),
        ]

    def authenticate(self, request: SimRequest) -> None:
        verify(request, self.settings.api_key, self.settings.secret, self.settings.passphrase)

    def render_error(self, error: SimError, request: SimRequest) -> Reply:
        return render(error, request)

    def not_found(self, request: SimRequest) -> Reply:
        return render(SimError(ErrorKind.NOT_FOUND), request)


MODULE = OkxModule
