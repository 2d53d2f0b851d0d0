"""OKX order endpoints: place (single and batch), cancel, details, pending and history lists.

Placement and cancellation answer per order (``sCode``/``sMsg``; top-level ``code`` "1" when all failed, "2" when a
batch partly failed). Swap ``sz`` is in contracts and converted to coins for the engine (``sz * ctVal``); its
multiple of ``lotSz`` and ``minSz`` are checked first, as OKX does (51121, 51020).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.okx.errors import batch_reply, okx_error, order_result
from arbx_pipelines.venues.sim.okx.formats import (
    Params,
    base_amount,
    body_json,
    body_object,
    bool_value,
    decimal_param,
    envelope,
    inst_type,
    limit_param,
    optional,
    query_params,
    required,
)
from arbx_pipelines.venues.sim.okx.leverage import MARGIN_MODES, LeverageBook
from arbx_pipelines.venues.sim.okx.market_data import OkxMarketData
from arbx_pipelines.venues.sim.okx.order_format import order_payload
from arbx_pipelines.venues.sim.okx.reference import lot_contracts, min_size
from arbx_pipelines.venues.sim.orders import Order, OrderRequest, OrderStatus, OrderType, TimeInForce
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import Reply, SimRequest

CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
#: order features the simulator does not offer: refused by name rather than silently ignored
UNSUPPORTED = ("attachAlgoOrds", "ccy", "pxUsd", "pxVol", "quickMgnType", "tpTriggerPx", "slTriggerPx")
MAX_BATCH = 20
HISTORY_DAYS_MS = 7 * 86_400_000
ARCHIVE_DAYS_MS = 92 * 86_400_000
#: ordType -> (engine type, time in force)
ORDER_TYPES = {
    "market": (OrderType.MARKET, TimeInForce.IOC),
    "optimal_limit_ioc": (OrderType.MARKET, TimeInForce.IOC),
    "limit": (OrderType.LIMIT, TimeInForce.GTC),
    "post_only": (OrderType.LIMIT, TimeInForce.POST_ONLY),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC),
    "fok": (OrderType.LIMIT, TimeInForce.FOK),
}


def _bad(name: str) -> SimError:
    return SimError(ErrorKind.BAD_PARAMETER, f"Parameter {name} error", parameter=name)


class OkxOrders:
    def __init__(self, venue: SimVenue, market_data: OkxMarketData, leverage: LeverageBook) -> None:
        self.venue = venue
        self.market_data = market_data
        self.leverage = leverage

    def payload(self, order: Order) -> dict[str, Any]:
        lever = self.venue.account.leverage_of(order.symbol) if order.instrument.is_swap else None
        return order_payload(order, lever)

    # ---- placing ---------------------------------------------------------------------------------------------

    def _request(self, item: Params) -> OrderRequest:
        """Validate one order's parameters as OKX does and convert its size to coins."""
        instrument = self.market_data.instrument(required(item, "instId"))
        for name in UNSUPPORTED:
            if item.get(name) not in (None, "", []):
                raise _bad(name)
        side = required(item, "side")
        if side not in ("buy", "sell"):
            raise _bad("side")
        kind = required(item, "ordType")
        if kind not in ORDER_TYPES:
            raise _bad("ordType")
        order_type, time_in_force = ORDER_TYPES[kind]
        td_mode = required(item, "tdMode")
        if td_mode not in (MARGIN_MODES if instrument.is_swap else ("cash",)):
            raise _bad("tdMode")
        if optional(item, "posSide") not in (None, "net"):
            raise _bad("posSide")
        client_id = optional(item, "clOrdId")
        if client_id is not None and not CLIENT_ID.match(client_id):
            raise _bad("clOrdId")
        size = decimal_param(item, "sz")
        if size <= 0:
            raise _bad("sz")
        price = decimal_param(item, "px") if order_type is OrderType.LIMIT else None
        if price is not None and price <= 0:
            raise _bad("px")
        target = optional(item, "tgtCcy") or "base_ccy"
        quote_sized = not instrument.is_swap and order_type is OrderType.MARKET and target == "quote_ccy"
        if target not in ("base_ccy", "quote_ccy") or (target == "quote_ccy" and not (quote_sized and side == "buy")):
            raise _bad("tgtCcy")
        if not quote_sized:
            self._check_size(instrument, size)
        extra = {"tdMode": td_mode, "ordType": kind, "tag": optional(item, "tag") or ""}
        if not instrument.is_swap:
            extra["tgtCcy"] = target
        return OrderRequest(
            symbol=instrument.symbol, side=side, type=order_type, time_in_force=time_in_force,
            amount=None if quote_sized else base_amount(instrument, size), price=price,
            reduce_only=bool_value(item.get("reduceOnly", False)), client_order_id=client_id,
            quote_amount=size if quote_sized else None, extra=extra,
        )  # fmt: skip

    @staticmethod
    def _check_size(instrument: Instrument, size: Decimal) -> None:
        lot = lot_contracts(instrument)
        if size < min_size(instrument):
            raise SimError(ErrorKind.LOT_SIZE, "below minSz", below_min=True)
        if (size / lot) != (size / lot).to_integral_value():
            raise SimError(ErrorKind.LOT_SIZE, "not a multiple of lotSz")

    def _spot_funds(self, request: OrderRequest) -> None:
        """Unified account: a spot buy may only spend USDT not already backing positions and orders."""
        instrument = self.venue.instrument(request.symbol)
        if instrument.is_swap or request.side != "buy":
            return
        book = self.venue.book(instrument.symbol, 5)
        if request.quote_amount is not None:
            cost = request.quote_amount
        else:
            assert request.amount is not None
            cost = request.amount * (request.price or book.best_ask)
        available = self.venue.account.available_margin(self.venue.mark_price)
        if cost > available:
            raise SimError(ErrorKind.INSUFFICIENT_BALANCE, "insufficient balance", asset=instrument.quote)

    def _place_one(self, item: Any, fill_ratio: Decimal | None, rest_unfilled: bool = False) -> dict[str, Any]:
        params: Params = item if isinstance(item, dict) else {}
        client_id, tag = str(params.get("clOrdId", "")), str(params.get("tag", ""))
        try:
            if not isinstance(item, dict):
                raise SimError(ErrorKind.BAD_PARAMETER, "Json data format error", code="50002")
            request = self._request(params)
            if self.venue.instrument(request.symbol).is_swap:
                self.leverage.use(request.symbol, str(request.extra["tdMode"]))
            self._spot_funds(request)
            order = self.venue.trading.create(request, fill_ratio, rest_unfilled)
        except SimError as error:
            failure = okx_error(error)
            return order_result(client_id, tag, failure.code, failure.msg)
        return order_result(order.client_order_id, tag, "0", "Order placed", str(order.order_id))

    def place_order(self, request: SimRequest) -> Reply:
        return batch_reply([self._place_one(body_object(request), request.fill_ratio, request.rest_unfilled)])

    def place_batch(self, request: SimRequest) -> Reply:
        items = body_json(request)
        if not isinstance(items, list) or not items:
            raise SimError(ErrorKind.BAD_PARAMETER, "Json data format error", code="50002")
        if len(items) > MAX_BATCH:
            raise SimError(ErrorKind.BAD_PARAMETER, f"Maximum {MAX_BATCH} orders can be placed in bulk",
                           code="51111")  # fmt: skip
        return batch_reply([self._place_one(item, request.fill_ratio, request.rest_unfilled) for item in items])

    # ---- lookups and cancels ---------------------------------------------------------------------------------

    def _find(self, params: Params) -> Order:
        instrument = self.market_data.instrument(required(params, "instId"))
        order_id, client_id = optional(params, "ordId"), optional(params, "clOrdId")
        if order_id is None and client_id is None:
            raise SimError(ErrorKind.MISSING_PARAMETER, "Either parameter ordId or clOrdId is required",
                           code="50015")  # fmt: skip
        if order_id is not None:
            if not order_id.isdigit():
                raise SimError(ErrorKind.UNKNOWN_ORDER, "order does not exist")
            return self.venue.trading.order(instrument.symbol, order_id=int(order_id))
        return self.venue.trading.order(instrument.symbol, client_order_id=client_id)

    def get_order(self, request: SimRequest) -> Any:
        return envelope([self.payload(self._find(query_params(request)))])

    def cancel_order(self, request: SimRequest) -> Reply:
        params = body_object(request)
        client_id = str(params.get("clOrdId", ""))
        try:
            order = self._find(params)
            if not order.status.is_open:
                code, msg = {
                    OrderStatus.FILLED: ("51402", "Order cancellation failed as the order has been completed."),
                }.get(order.status, ("51401", "Order cancellation failed as the order has been canceled."))
                return batch_reply([order_result(order.client_order_id, "", code, msg, str(order.order_id))])
            self.venue.trading.cancel(order.symbol, order_id=order.order_id)
        except SimError as error:
            if error.kind is ErrorKind.UNKNOWN_ORDER:
                error = SimError(ErrorKind.CANCEL_UNKNOWN_ORDER, "order does not exist")
            if error.kind is not ErrorKind.CANCEL_UNKNOWN_ORDER:
                raise
            failure = okx_error(error)
            return batch_reply([order_result(client_id, "", failure.code, failure.msg, str(params.get("ordId", "")))])
        return batch_reply([order_result(order.client_order_id, "", "0", "", str(order.order_id))])

    # ---- lists -------------------------------------------------------------------------------------------------

    def _listed(self, params: Params, orders: list[Order]) -> list[dict[str, Any]]:
        """Filters (instType, instId, ordType, state), ``after``/``before`` ordId cursors, newest first."""
        kind, wanted = optional(params, "instType"), optional(params, "instId")
        types = set((optional(params, "ordType") or "").split(",")) - {""}
        state = optional(params, "state")
        after, before = optional(params, "after"), optional(params, "before")
        limit = limit_param(params)
        rows = []
        for order in sorted(orders, key=lambda o: o.order_id, reverse=True):
            if kind and inst_type(order.instrument) != kind.upper():
                continue
            if after and after.isdigit() and order.order_id >= int(after):
                continue
            if before and before.isdigit() and order.order_id <= int(before):
                continue
            row = self.payload(order)
            if (wanted and row["instId"] != wanted) or (types and row["ordType"] not in types):
                continue
            if state and row["state"] != state:
                continue
            rows.append(row)
        return rows[-limit:] if before and not after else rows[:limit]

    def pending(self, request: SimRequest) -> Any:
        return envelope(self._listed(query_params(request), self.venue.trading.open_orders()))

    def history(self, request: SimRequest) -> Any:
        """``trade/orders-history``: closed orders of the last 7 days."""
        return self._history(request, HISTORY_DAYS_MS)

    def history_archive(self, request: SimRequest) -> Any:
        """``trade/orders-history-archive``: closed orders of the last 3 months."""
        return self._history(request, ARCHIVE_DAYS_MS)

    def _history(self, request: SimRequest, window_ms: int) -> Any:
        params = query_params(request)
        required(params, "instType")
        since = self.venue.now_ms() - window_ms
        closed = [o for o in self.venue.account.orders.values() if not o.status.is_open and o.updated_ms >= since]
        return envelope(self._listed(params, closed))

    def algo_pending(self, request: SimRequest) -> Any:
        required(query_params(request), "ordType")
        return envelope([])
