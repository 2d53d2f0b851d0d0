"""Binance order endpoints: create, query, cancel, open orders, all orders and own trades, on spot and USD-M.

Spot answers carry eight-decimal strings and ``fills`` (``newOrderRespType=FULL``); USD-M answers carry the
instrument's own precision, ``avgPrice``/``cumQuote`` and ``reduceOnly``. Both key orders by numeric ``orderId``
and by ``clientOrderId`` (``origClientOrderId`` when querying).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.binance.formats import (
    Params,
    bool_param,
    decimal_param,
    decimals,
    fixed8,
    int_param,
    native_id,
    params_of,
    plain,
    required,
)
from arbx_pipelines.venues.sim.binance.market_data import BinanceMarketData
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, TimeInForce
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

CLIENT_ORDER_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
STATUS = {
    OrderStatus.NEW: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
}
SPOT_TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
FUTURES_TIME_IN_FORCE = SPOT_TIME_IN_FORCE | {"GTX": TimeInForce.POST_ONLY}
LIST_DEFAULT, LIST_MAX = 500, 1000


def _tif_name(order: Order, futures: bool) -> str:
    if order.time_in_force is TimeInForce.POST_ONLY:
        return "GTX" if futures else "GTC"
    return order.time_in_force.value


def _type_name(order: Order, futures: bool) -> str:
    if order.type is OrderType.MARKET:
        return "MARKET"
    return "LIMIT_MAKER" if order.time_in_force is TimeInForce.POST_ONLY and not futures else "LIMIT"


class BinanceOrders:
    def __init__(self, venue: SimVenue, market_data: BinanceMarketData) -> None:
        self.venue = venue
        self.market_data = market_data
        self.trading = venue.trading

    # ---- parsing -------------------------------------------------------------------------------------------------

    def _order_request(self, params: Params, instrument: Instrument, futures: bool) -> OrderRequest:
        side = required(params, "side").upper()
        if side not in ("BUY", "SELL"):
            raise SimError(ErrorKind.BAD_PARAMETER, "side", parameter="side")
        kind = required(params, "type").upper()
        time_in_force = TimeInForce.GTC
        if kind == "MARKET":
            order_type = OrderType.MARKET
        elif kind == "LIMIT":
            order_type = OrderType.LIMIT
            names = FUTURES_TIME_IN_FORCE if futures else SPOT_TIME_IN_FORCE
            tif = required(params, "timeInForce").upper()
            if tif not in names:
                raise SimError(ErrorKind.BAD_PARAMETER, "timeInForce", parameter="timeInForce")
            time_in_force = names[tif]
        elif kind == "LIMIT_MAKER" and not futures:
            order_type, time_in_force = OrderType.LIMIT, TimeInForce.POST_ONLY
        else:
            raise SimError(ErrorKind.BAD_PARAMETER, f"order type {kind} is not simulated", parameter="type")
        client_id = params.get("newClientOrderId") or None
        if client_id is not None and not CLIENT_ORDER_ID.match(client_id):
            raise SimError(ErrorKind.BAD_PARAMETER, "newClientOrderId", parameter="newClientOrderId")
        position_side = params.get("positionSide", "BOTH").upper()
        if futures and position_side != "BOTH":
            raise SimError(ErrorKind.BAD_PARAMETER, "hedge mode is off", parameter="positionSide")
        quote_amount = None if futures else decimal_param(params, "quoteOrderQty", optional=True)
        amount = decimal_param(params, "quantity", optional=quote_amount is not None)
        price = decimal_param(params, "price", optional=order_type is OrderType.MARKET)
        return OrderRequest(
            symbol=instrument.symbol, side=side.lower(), type=order_type, amount=amount,
            price=price if order_type is OrderType.LIMIT else None, time_in_force=time_in_force,
            reduce_only=futures and bool_param(params, "reduceOnly"), client_order_id=client_id,
            quote_amount=quote_amount,
        )  # fmt: skip

    def _lookup(self, params: Params, instrument: Instrument) -> Order:
        order_id = int_param(params, "orderId")
        client_id = params.get("origClientOrderId") or None
        if order_id is None and client_id is None:
            raise SimError(ErrorKind.MISSING_PARAMETER, "orderId or origClientOrderId", parameter="orderId")
        return self.trading.order(instrument.symbol, order_id, client_id)

    def _lookup_to_cancel(self, params: Params, instrument: Instrument) -> Order:
        """Like ``_lookup``; Binance answers an unknown order on cancel with -2011 instead of -2013."""
        try:
            return self._lookup(params, instrument)
        except SimError as error:
            if error.kind is ErrorKind.UNKNOWN_ORDER:
                raise SimError(ErrorKind.CANCEL_UNKNOWN_ORDER, "unknown order") from error
            raise

    def _window(self, params: Params) -> tuple[int, int, int]:
        limit = int_param(params, "limit", LIST_DEFAULT) or LIST_DEFAULT
        if not 1 <= limit <= LIST_MAX:
            raise SimError(ErrorKind.BAD_PARAMETER, "limit", parameter="limit")
        start = int_param(params, "startTime", 0) or 0
        end = int_param(params, "endTime", 2**62) or 2**62
        return start, end, limit

    # ---- wire formats ----------------------------------------------------------------------------------------

    def spot_order(self, order: Order) -> dict[str, Any]:
        return {
            "symbol": native_id(order.instrument), "orderId": order.order_id, "orderListId": -1,
            "clientOrderId": order.client_order_id, "price": fixed8(order.price or Decimal(0)),
            "origQty": fixed8(order.amount), "executedQty": fixed8(order.filled),
            "cummulativeQuoteQty": fixed8(order.cost), "status": STATUS[order.status],
            "timeInForce": _tif_name(order, False), "type": _type_name(order, False), "side": order.side.upper(),
            "stopPrice": fixed8(Decimal(0)), "icebergQty": fixed8(Decimal(0)), "time": order.created_ms,
            "updateTime": order.updated_ms, "isWorking": True, "workingTime": order.created_ms,
            "origQuoteOrderQty": fixed8(order.quote_amount or Decimal(0)), "selfTradePreventionMode": "EXPIRE_MAKER",
        }  # fmt: skip

    def spot_fill(self, fill: Fill) -> dict[str, Any]:
        return {"price": fixed8(fill.price), "qty": fixed8(fill.qty), "commission": fixed8(fill.fee),
                "commissionAsset": fill.fee_asset, "tradeId": fill.trade_id}  # fmt: skip

    def futures_order(self, order: Order) -> dict[str, Any]:
        instrument = order.instrument
        price_places, qty_places = decimals(instrument.tick_size), decimals(instrument.lot_size)
        average = order.average
        return {
            "orderId": order.order_id, "symbol": native_id(instrument), "status": STATUS[order.status],
            "clientOrderId": order.client_order_id, "price": plain(order.price or Decimal(0), price_places),
            "avgPrice": plain(average if average is not None else Decimal(0), price_places + 3),
            "origQty": plain(order.amount, qty_places), "executedQty": plain(order.filled, qty_places),
            "cumQty": plain(order.filled, qty_places), "cumQuote": plain(order.cost, price_places + 3),
            "timeInForce": _tif_name(order, True), "type": _type_name(order, True),
            "reduceOnly": order.reduce_only, "closePosition": False, "side": order.side.upper(),
            "positionSide": "BOTH", "stopPrice": plain(Decimal(0), price_places), "workingType": "CONTRACT_PRICE",
            "priceProtect": False, "origType": _type_name(order, True), "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0, "time": order.created_ms,
            "updateTime": order.updated_ms,
        }  # fmt: skip

    # ---- spot ------------------------------------------------------------------------------------------------

    def spot_create(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.spot(required(params, "symbol"))
        wanted = self._order_request(params, instrument, False)
        order = self.trading.create(wanted, request.fill_ratio, request.rest_unfilled)
        answer = params.get("newOrderRespType", "FULL").upper()
        ack = {"symbol": native_id(instrument), "orderId": order.order_id, "orderListId": -1,
               "clientOrderId": order.client_order_id, "transactTime": order.created_ms}  # fmt: skip
        if answer == "ACK":
            return ack
        result = self.spot_order(order)
        for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking"):
            result.pop(key)
        result = ack | result
        if answer == "FULL":
            result["fills"] = [self.spot_fill(fill) for fill in order.fills]
        return result

    def spot_get(self, request: SimRequest) -> Any:
        params = params_of(request)
        return self.spot_order(self._lookup(params, self.market_data.spot(required(params, "symbol"))))

    def spot_cancel(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.spot(required(params, "symbol"))
        order = self._lookup_to_cancel(params, instrument)
        order = self.trading.cancel(instrument.symbol, order.order_id)
        result = self.spot_order(order)
        for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking", "workingTime", "origQuoteOrderQty"):
            result.pop(key)
        cancel_id = params.get("newClientOrderId") or f"sim-cancel-{order.order_id}"
        return {"symbol": result.pop("symbol"), "origClientOrderId": order.client_order_id,
                "orderId": result.pop("orderId"), "orderListId": -1, "clientOrderId": cancel_id,
                "transactTime": order.updated_ms} | result  # fmt: skip

    def spot_open_orders(self, request: SimRequest) -> Any:
        params = params_of(request)
        symbol = self.market_data.spot(params["symbol"]).symbol if params.get("symbol") else None
        return [self.spot_order(order) for order in self.trading.open_orders(symbol, swap=False)]

    def spot_all_orders(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.spot(required(params, "symbol"))
        return [self.spot_order(order) for order in self._orders_of(instrument, params)]

    def spot_my_trades(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.spot(required(params, "symbol"))
        return [
            {"symbol": native_id(instrument), "id": fill.trade_id, "orderId": fill.order_id, "orderListId": -1,
             "price": fixed8(fill.price), "qty": fixed8(fill.qty), "quoteQty": fixed8(fill.quote_qty),
             "commission": fixed8(fill.fee), "commissionAsset": fill.fee_asset, "time": fill.time_ms,
             "isBuyer": fill.side == "buy", "isMaker": fill.is_maker, "isBestMatch": True}
            for fill in self._trades_of(instrument, params)
        ]  # fmt: skip

    # ---- USD-M futures ---------------------------------------------------------------------------------------

    def futures_create(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.swap(required(params, "symbol"))
        wanted = self._order_request(params, instrument, True)
        order = self.trading.create(wanted, request.fill_ratio, request.rest_unfilled)
        result = self.futures_order(order)
        if params.get("newOrderRespType", "ACK").upper() == "ACK":
            result |= {"status": "NEW", "executedQty": plain(Decimal(0)), "cumQty": plain(Decimal(0)),
                       "cumQuote": plain(Decimal(0)), "avgPrice": "0.00"}  # fmt: skip
        result.pop("time")
        return result

    def futures_get(self, request: SimRequest) -> Any:
        params = params_of(request)
        result = self.futures_order(self._lookup(params, self.market_data.swap(required(params, "symbol"))))
        result.pop("cumQty")
        return result

    def futures_get_open(self, request: SimRequest) -> Any:
        """``/fapi/v1/openOrder``: like ``/fapi/v1/order`` but only while the order is open."""
        params = params_of(request)
        order = self._lookup(params, self.market_data.swap(required(params, "symbol")))
        if not order.status.is_open:
            raise SimError(ErrorKind.UNKNOWN_ORDER, "order is not open")
        result = self.futures_order(order)
        result.pop("cumQty")
        return result

    def futures_cancel(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.swap(required(params, "symbol"))
        order = self._lookup_to_cancel(params, instrument)
        result = self.futures_order(self.trading.cancel(instrument.symbol, order.order_id))
        result.pop("time")
        return result

    def futures_open_orders(self, request: SimRequest) -> Any:
        params = params_of(request)
        symbol = self.market_data.swap(params["symbol"]).symbol if params.get("symbol") else None
        return [self.futures_order(order) for order in self.trading.open_orders(symbol, swap=True)]

    def futures_all_orders(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.swap(required(params, "symbol"))
        return [self.futures_order(order) for order in self._orders_of(instrument, params)]

    def futures_user_trades(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.swap(required(params, "symbol"))
        places = decimals(instrument.tick_size)
        return [
            {"buyer": fill.side == "buy", "commission": plain(fill.fee, 8), "commissionAsset": fill.fee_asset,
             "id": fill.trade_id, "maker": fill.is_maker, "orderId": fill.order_id, "price": plain(fill.price, places),
             "qty": plain(fill.qty, decimals(instrument.lot_size)), "quoteQty": plain(fill.quote_qty, places + 3),
             "realizedPnl": plain(fill.realized_pnl, 8), "side": fill.side.upper(), "positionSide": "BOTH",
             "symbol": native_id(instrument), "time": fill.time_ms}
            for fill in self._trades_of(instrument, params)
        ]  # fmt: skip

    # ---- shared ------------------------------------------------------------------------------------------------

    def _orders_of(self, instrument: Instrument, params: Params) -> list[Order]:
        start, end, limit = self._window(params)
        from_id = int_param(params, "orderId")
        orders = [
            order for order in self.venue.account.orders.values()
            if order.symbol == instrument.symbol and start <= order.created_ms <= end
            and (from_id is None or order.order_id >= from_id)
        ]  # fmt: skip
        return orders[:limit] if from_id is not None or params.get("startTime") else orders[-limit:]

    def _trades_of(self, instrument: Instrument, params: Params) -> list[Fill]:
        start, end, limit = self._window(params)
        order_id = int_param(params, "orderId")
        from_id = int_param(params, "fromId")
        fills = [
            fill for fill in self.trading.trades
            if fill.symbol == instrument.symbol and start <= fill.time_ms <= end
            and (order_id is None or fill.order_id == order_id) and (from_id is None or fill.trade_id >= from_id)
        ]  # fmt: skip
        return fills[:limit] if from_id is not None or params.get("startTime") else fills[-limit:]
