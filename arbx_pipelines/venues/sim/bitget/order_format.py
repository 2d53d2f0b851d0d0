"""How Bitget renders orders: spot (``/api/v2/spot/trade``) and USDT-M futures (``/api/v2/mix/order``) records.

Spot records quote a market buy's ``size`` in quote currency (what was spent), carry the fee as a JSON *string*
``feeDetail`` and, in the open-orders list, put the limit price in ``priceAvg`` and the average fill in ``basePrice``.
Futures records carry ``fee`` as a negative number string, ``state``/``status``, ``posSide`` (``net`` in one-way
mode) and ``tradeSide`` (``buy_single`` / ``sell_single``, ``reduce_*`` when reduce-only).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.bitget.formats import ORDER_ID_BASE, native_id, text
from arbx_pipelines.venues.sim.orders import ZERO, Order, OrderStatus, OrderType, TimeInForce

#: the simulated account's user id (Bitget shows it on spot orders)
USER_ID = "7393346635"
SPOT_STATUS = {
    OrderStatus.NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "cancelled",
    OrderStatus.EXPIRED: "cancelled",
}
MIX_STATUS = SPOT_STATUS | {OrderStatus.CANCELED: "canceled", OrderStatus.EXPIRED: "canceled"}
FORCE = {TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok", TimeInForce.POST_ONLY: "post_only"}
FORCE_OF = {name: tif for tif, name in FORCE.items()}


def order_id(order: Order) -> str:
    return str(ORDER_ID_BASE + order.order_id)


def engine_order_id(value: str) -> int | None:
    """The engine id of a Bitget ``orderId``; None when it cannot be one of ours."""
    return int(value) - ORDER_ID_BASE if value.isdigit() and int(value) > ORDER_ID_BASE else None


def ids(order: Order) -> dict[str, str]:
    return {"orderId": order_id(order), "clientOid": order.client_order_id}


def _average(order: Order) -> Decimal | None:
    average = order.average
    return None if average is None else average.quantize(order.instrument.tick_size / 1000).normalize()


def _cancel_reason(order: Order) -> str:
    if order.status is OrderStatus.CANCELED:
        return "normal_cancel"
    return "" if order.status is not OrderStatus.EXPIRED else "ioc_cancel"


def fee_detail(order: Order) -> str:
    """Spot ``feeDetail``: a JSON document inside a string, fees negative, keyed by the fee coin. Written by hand so
    the numbers keep plain decimal notation (``-0.0000915``, never ``-9.15e-05``)."""
    if not order.fills:
        return "{}"
    coin = order.fills[0].fee_asset
    fee = text(-order.fee_total)
    return (
        f'{{"newFees":{{"c":0,"d":0,"deduction":false,"r":{fee},"t":{fee},"totalDeductionFee":0}},'
        f'"{coin}":{{"deduction":false,"feeCoinCode":"{coin}","totalDeductionFee":0,"totalFee":{fee}}}}}'
    )


def _spot_size(order: Order) -> Decimal:
    if order.type is OrderType.MARKET and order.is_buy and order.quote_amount is not None:
        return order.quote_amount
    return order.amount


def spot_record(order: Order) -> dict[str, Any]:
    """One spot order as ``orderInfo`` and the order history show it."""
    return {
        "userId": USER_ID, "symbol": native_id(order.instrument), **ids(order),
        "price": text(order.price) if order.price is not None else "0", "size": text(_spot_size(order)),
        "orderType": order.type.value, "side": order.side, "status": SPOT_STATUS[order.status],
        "priceAvg": text(_average(order) or ZERO), "baseVolume": text(order.filled), "quoteVolume": text(order.cost),
        "enterPointSource": "API", "feeDetail": fee_detail(order),
        "orderSource": "market" if order.type is OrderType.MARKET else "normal",
        "cancelReason": _cancel_reason(order), "triggerPrice": None, "tpslType": "normal",
        "quoteCoin": order.instrument.quote, "baseCoin": order.instrument.base,
        "cTime": str(order.created_ms), "uTime": str(order.updated_ms),
    }  # fmt: skip


def spot_open_record(order: Order) -> dict[str, Any]:
    """One spot order as ``unfilled-orders`` shows it: limit price in ``priceAvg``, average fill in ``basePrice``."""
    return {
        "userId": USER_ID, "symbol": native_id(order.instrument), **ids(order),
        "priceAvg": text(order.price or ZERO), "size": text(_spot_size(order)), "orderType": order.type.value,
        "side": order.side, "status": SPOT_STATUS[order.status], "basePrice": text(_average(order) or ZERO),
        "baseVolume": text(order.filled), "quoteVolume": text(order.cost), "enterPointSource": "API",
        "orderSource": "normal", "cTime": str(order.created_ms), "uTime": str(order.updated_ms),
    }  # fmt: skip


def trade_side(order: Order) -> str:
    prefix = "reduce_" if order.reduce_only else ""
    return f"{prefix}{order.side}_single"


def mix_record(order: Order, leverage: int, margin_mode: str, status_key: str = "state") -> dict[str, Any]:
    """One USDT-M order (``detail`` uses ``state``, the lists ``status``); one-way position mode."""
    realized = sum((fill.realized_pnl for fill in order.fills), ZERO)
    average = _average(order)
    return {
        "symbol": native_id(order.instrument), "size": text(order.amount), **ids(order),
        "baseVolume": text(order.filled), "fee": text(-order.fee_total) if order.fills else "0",
        "price": text(order.price) if order.price is not None else "",
        "priceAvg": text(average) if average is not None else "", status_key: MIX_STATUS[order.status],
        "side": order.side, "force": FORCE[order.time_in_force], "totalProfits": text(realized), "posSide": "net",
        "marginCoin": "USDT", "presetStopSurplusPrice": "", "presetStopLossPrice": "",
        "quoteVolume": text(order.cost), "orderType": order.type.value, "leverage": str(leverage),
        "marginMode": "crossed" if margin_mode == "cross" else "isolated",
        "reduceOnly": "YES" if order.reduce_only else "NO", "enterPointSource": "API",
        "tradeSide": trade_side(order), "posMode": "one_way_mode",
        "orderSource": "market" if order.type is OrderType.MARKET else "normal", "cancelReason": _cancel_reason(order),
        "cTime": str(order.created_ms), "uTime": str(order.updated_ms),
    }  # fmt: skip
