"""Bitget order endpoints (v2): place, query, cancel and list open orders on spot and USDT-M futures.

The simulated futures account is in one-way position mode (``posMode: one_way_mode``, ccxt's default): orders carry
``side`` and, to close, ``reduceOnly: YES``; a ``tradeSide`` (hedge-mode only) is refused with 40774 as the venue
does. Spot market buys are sized in quote currency (``size`` = USDT to spend). A ``clientOid`` can be used once.
"""

from __future__ import annotations

from typing import Any

from arbx_pipelines.venues.sim.bitget.formats import (
    Params,
    bounded_limit,
    decimal_param,
    int_param,
    params_of,
    required,
    string_param,
)
from arbx_pipelines.venues.sim.bitget.market_data import BitgetMarketData
from arbx_pipelines.venues.sim.bitget.order_format import (
    FORCE_OF,
    engine_order_id,
    ids,
    mix_record,
    spot_open_record,
    spot_record,
)
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.orders import Order, OrderRequest, OrderType, TimeInForce
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

CLIENT_OID_MAX = 50
LIST_DEFAULT, LIST_MAX = 100, 100


class BitgetOrders:
    def __init__(self, venue: SimVenue, market_data: BitgetMarketData) -> None:
        self.venue = venue
        self.data = market_data
        self.account = venue.account

    # ---- parsing ---------------------------------------------------------------------------------------------

    def _order_request(self, params: Params, instrument: Instrument) -> OrderRequest:
        side = required(params, "side").lower()
        if side not in ("buy", "sell"):
            raise SimError(ErrorKind.BAD_PARAMETER, "side", parameter="side")
        kind = required(params, "orderType").lower()
        if kind not in ("limit", "market"):
            raise SimError(ErrorKind.BAD_PARAMETER, "orderType", parameter="orderType")
        order_type = OrderType(kind)
        force = (string_param(params, "force") or "gtc").lower()
        if force not in FORCE_OF:
            raise SimError(ErrorKind.BAD_PARAMETER, "force", parameter="force")
        time_in_force = FORCE_OF[force] if order_type is OrderType.LIMIT else TimeInForce.GTC
        size = decimal_param(params, "size")
        if size is None:
            raise SimError(ErrorKind.MISSING_PARAMETER, "size", parameter="size")
        price = decimal_param(params, "price") if order_type is OrderType.LIMIT else None
        client_oid = self._new_client_oid(params, instrument)
        quote_buy = not instrument.is_swap and order_type is OrderType.MARKET and side == "buy"
        return OrderRequest(
            symbol=instrument.symbol, side=side, type=order_type, amount=None if quote_buy else size, price=price,
            time_in_force=time_in_force, reduce_only=(string_param(params, "reduceOnly") or "NO").upper() == "YES",
            client_order_id=client_oid, quote_amount=size if quote_buy else None,
        )  # fmt: skip

    def _new_client_oid(self, params: Params, instrument: Instrument) -> str | None:
        client_oid = string_param(params, "clientOid")
        if client_oid is None:
            return None
        if len(client_oid) > CLIENT_OID_MAX:
            raise SimError(ErrorKind.BAD_PARAMETER, "clientOid or clientOrderId length cannot greater than 50",
                           code="40304")  # fmt: skip
        if (instrument.symbol, client_oid) in self.account.client_ids:
            raise SimError(ErrorKind.DUPLICATE_CLIENT_ORDER_ID, "duplicate clientOid")
        return client_oid

    def _find(self, params: Params, instrument: Instrument | None, swap: bool) -> Order:
        """The order named by ``orderId`` or ``clientOid`` (of ``instrument`` when given) on spot or futures."""
        order_id, client_oid = string_param(params, "orderId"), string_param(params, "clientOid")
        if order_id is not None:
            engine_id = engine_order_id(order_id)
            candidates = [self.account.orders[engine_id]] if engine_id in self.account.orders else []
        elif client_oid is not None:
            candidates = [o for o in self.account.orders.values() if o.client_order_id == client_oid]
        else:
            raise SimError(ErrorKind.MISSING_PARAMETER, "orderId or clientOid", parameter="orderId")
        found = [o for o in candidates
                 if o.instrument.is_swap == swap and (instrument is None or o.instrument is instrument)]  # fmt: skip
        if not found:
            raise SimError(ErrorKind.UNKNOWN_ORDER, "order does not exist")
        return found[-1]

    def _mix(self, order: Order, status_key: str = "state") -> dict[str, Any]:
        symbol = order.symbol
        return mix_record(order, self.account.leverage_of(symbol), self.account.margin_mode_of(symbol), status_key)

    # ---- spot --------------------------------------------------------------------------------------------------

    def spot_place(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.data.spot(required(params, "symbol"))
        wanted = self._order_request(params, instrument)
        order = self.venue.trading.create(wanted, request.fill_ratio, request.rest_unfilled)
        return self.data.ok(ids(order))

    def spot_order_info(self, request: SimRequest) -> Any:
        return self.data.ok([spot_record(self._find(params_of(request), None, swap=False))])

    def spot_cancel(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.data.spot(required(params, "symbol"))
        order = self._find(params, instrument, swap=False)
        self._cancel(order)
        return self.data.ok(ids(order))

    def spot_unfilled(self, request: SimRequest) -> Any:
        params = params_of(request)
        symbol = string_param(params, "symbol")
        instrument = self.data.spot(symbol) if symbol is not None else None
        orders = self._open(params, instrument, swap=False)
        return self.data.ok([spot_open_record(o) for o in orders])

    # ---- futures -----------------------------------------------------------------------------------------------

    def mix_place(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.data.swap(required(params, "symbol"))
        self.data.product_type(params)
        required(params, "marginMode")
        if (string_param(params, "marginCoin") or "USDT").upper() != "USDT":
            raise SimError(ErrorKind.BAD_PARAMETER, "marginCoin", parameter="marginCoin")
        if string_param(params, "tradeSide") is not None:
            raise SimError(ErrorKind.BAD_PARAMETER, "The order type for unilateral position must also be the "
                           "unilateral position type.", code="40774")  # fmt: skip
        wanted = self._order_request(params, instrument)
        order = self.venue.trading.create(wanted, request.fill_ratio, request.rest_unfilled)
        return self.data.ok(ids(order))

    def mix_detail(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.data.swap(required(params, "symbol"))
        self.data.product_type(params)
        return self.data.ok(self._mix(self._find(params, instrument, swap=True)))

    def mix_cancel(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.data.swap(required(params, "symbol"))
        self.data.product_type(params)
        try:
            order = self._find(params, instrument, swap=True)
        except SimError as error:
            raise SimError(ErrorKind.CANCEL_UNKNOWN_ORDER, error.message) from error
        self._cancel(order)
        return self.data.ok(ids(order))

    def mix_pending(self, request: SimRequest) -> Any:
        params = params_of(request)
        swaps = self.data.swaps_of(params)
        instrument = swaps[0] if string_param(params, "symbol") is not None else None
        orders = self._open(params, instrument, swap=True) if swaps else []
        entrusted = [self._mix(o, "status") for o in orders]
        return self.data.ok({"entrustedList": entrusted or None,
                             "endId": entrusted[-1]["orderId"] if entrusted else None})  # fmt: skip

    # ---- shared ------------------------------------------------------------------------------------------------

    def _cancel(self, order: Order) -> None:
        if not order.status.is_open:
            raise SimError(ErrorKind.CANCEL_UNKNOWN_ORDER, "order is not open")
        self.venue.trading.cancel(order.symbol, order_id=order.order_id)

    def _open(self, params: Params, instrument: Instrument | None, swap: bool) -> list[Order]:
        """Open orders, newest first, after ``idLessThan`` and within ``startTime``/``endTime``, at most ``limit``."""
        limit = bounded_limit(params, "limit", LIST_DEFAULT, LIST_MAX)
        start = int_param(params, "startTime")
        end = int_param(params, "endTime")
        before = engine_order_id(string_param(params, "idLessThan") or "")
        orders = self.venue.trading.open_orders(instrument.symbol if instrument else None, swap=swap)
        orders = [o for o in orders if (start is None or o.created_ms >= start) and (end is None or o.created_ms <= end)
                  and (before is None or o.order_id < before)]  # fmt: skip
        return sorted(orders, key=lambda o: o.order_id, reverse=True)[:limit]
