"""Bitget order history and fills (v2): what reconciliation reads back after the fact.

``/api/v2/spot/trade/history-orders`` and ``/api/v2/mix/order/orders-history`` list finished orders (filled,
cancelled), ``/api/v2/spot/trade/fills`` and ``/api/v2/mix/order/fills`` the executions, newest first, filtered by
``symbol``, ``orderId``, ``startTime`` / ``endTime`` and paged with ``limit`` (max 100) and ``idLessThan``. Futures
lists are wrapped (``entrustedList`` / ``fillList`` with ``endId``), spot lists are bare.
"""

from __future__ import annotations

from typing import Any

from arbx_pipelines.venues.sim.bitget.formats import (
    Params,
    bounded_limit,
    int_param,
    native_id,
    params_of,
    required,
    string_param,
    text,
)
from arbx_pipelines.venues.sim.bitget.market_data import BitgetMarketData
from arbx_pipelines.venues.sim.bitget.order_format import (
    USER_ID,
    engine_order_id,
    mix_record,
    order_id,
    spot_record,
    trade_side,
)
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.orders import Fill, Order
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

TRADE_ID_BASE = 1_150_000_000_000_000_000
PAGE_DEFAULT, PAGE_MAX = 100, 100


def _in_window(time_ms: int, params: Params) -> bool:
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    return (start is None or time_ms >= start) and (end is None or time_ms <= end)


class BitgetOrderHistory:
    def __init__(self, venue: SimVenue, market_data: BitgetMarketData) -> None:
        self.venue = venue
        self.data = market_data
        self.account = venue.account

    def _orders(self, params: Params, instrument: Instrument | None, swap: bool) -> list[Order]:
        before = engine_order_id(string_param(params, "idLessThan") or "")
        wanted = engine_order_id(string_param(params, "orderId") or "")
        client_oid = string_param(params, "clientOid")
        orders = [
            o for o in self.account.orders.values()
            if not o.status.is_open and o.instrument.is_swap == swap
            and (instrument is None or o.instrument is instrument)
            and _in_window(o.created_ms, params) and (before is None or o.order_id < before)
            and (wanted is None or o.order_id == wanted) and (client_oid is None or o.client_order_id == client_oid)
        ]  # fmt: skip
        limit = bounded_limit(params, "limit", PAGE_DEFAULT, PAGE_MAX)
        return sorted(orders, key=lambda o: o.order_id, reverse=True)[:limit]

    def _fills(self, params: Params, instrument: Instrument) -> list[Fill]:
        before = int_param(params, "idLessThan")
        wanted = engine_order_id(string_param(params, "orderId") or "")
        fills = [
            f for f in self.venue.trading.trades
            if f.symbol == instrument.symbol and _in_window(f.time_ms, params)
            and (before is None or TRADE_ID_BASE + f.trade_id < before) and (wanted is None or f.order_id == wanted)
        ]  # fmt: skip
        limit = bounded_limit(params, "limit", PAGE_DEFAULT, PAGE_MAX)
        return sorted(fills, key=lambda f: f.trade_id, reverse=True)[:limit]

    # ---- spot --------------------------------------------------------------------------------------------------

    def spot_history(self, request: SimRequest) -> Any:
        params = params_of(request)
        symbol = string_param(params, "symbol")
        instrument = self.data.spot(symbol) if symbol is not None else None
        return self.data.ok([spot_record(o) for o in self._orders(params, instrument, swap=False)])

    def spot_fills(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.data.spot(required(params, "symbol"))
        rows = []
        for fill in self._fills(params, instrument):
            order = self.account.orders[fill.order_id]
            rows.append({
                "userId": USER_ID, "symbol": native_id(instrument), "orderId": order_id(order),
                "tradeId": str(TRADE_ID_BASE + fill.trade_id), "orderType": order.type.value, "side": fill.side,
                "priceAvg": text(fill.price), "size": text(fill.qty), "amount": text(fill.quote_qty),
                "feeDetail": {"deduction": "no", "feeCoin": fill.fee_asset, "totalDeductionFee": "",
                              "totalFee": text(-fill.fee)},
                "tradeScope": "maker" if fill.is_maker else "taker", "cTime": str(fill.time_ms),
                "uTime": str(fill.time_ms),
            })  # fmt: skip
        return self.data.ok(rows)

    # ---- futures -----------------------------------------------------------------------------------------------

    def mix_history(self, request: SimRequest) -> Any:
        params = params_of(request)
        swaps = self.data.swaps_of(params)
        instrument = swaps[0] if string_param(params, "symbol") is not None else None
        orders = self._orders(params, instrument, swap=True) if swaps else []
        rows = [mix_record(o, self.account.leverage_of(o.symbol), self.account.margin_mode_of(o.symbol), "status")
                for o in orders]  # fmt: skip
        return self.data.ok({"entrustedList": rows or None, "endId": rows[-1]["orderId"] if rows else None})

    def mix_fills(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.data.swap(required(params, "symbol"))
        self.data.product_type(params)
        rows = []
        for fill in self._fills(params, instrument):
            order = self.account.orders[fill.order_id]
            rows.append({
                "tradeId": str(TRADE_ID_BASE + fill.trade_id), "symbol": native_id(instrument),
                "orderId": order_id(order), "price": text(fill.price), "baseVolume": text(fill.qty),
                "feeDetail": [{"deduction": "no", "feeCoin": fill.fee_asset, "totalDeductionFee": None,
                               "totalFee": text(-fill.fee)}],
                "side": fill.side, "quoteVolume": text(fill.quote_qty), "profit": text(fill.realized_pnl),
                "enterPointSource": "api", "tradeSide": trade_side(order), "posMode": "one_way_mode",
                "tradeScope": "maker" if fill.is_maker else "taker", "cTime": str(fill.time_ms),
            })  # fmt: skip
        return self.data.ok({"fillList": rows or None, "endId": rows[-1]["tradeId"] if rows else None})
