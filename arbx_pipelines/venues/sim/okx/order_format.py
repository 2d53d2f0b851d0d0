"""An engine order as OKX's order details (``trade/order``, ``trade/orders-pending``, ``trade/orders-history``).

Sizes are contracts for swaps and coins for spot (quote currency for a spot market buy placed with
``tgtCcy=quote_ccy``); ``fee`` is negative when charged, in ``feeCcy`` (the received coin for spot buys).
"""

from __future__ import annotations

from typing import Any

from arbx_pipelines.venues.sim.okx.formats import contracts, flag, inst_id, inst_type, ms, num
from arbx_pipelines.venues.sim.orders import ZERO, Order, OrderStatus, OrderType, TimeInForce

STATES = {
    OrderStatus.NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",  # OKX has no "expired": IOC/market remainders end canceled
}


def ord_type(order: Order) -> str:
    """The ``ordType`` the order was placed with (kept in ``extra``), else derived from type and time in force."""
    placed = order.extra.get("ordType")
    if placed:
        return str(placed)
    if order.type is OrderType.MARKET:
        return "market"
    return {TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok", TimeInForce.POST_ONLY: "post_only"}.get(
        order.time_in_force, "limit"
    )


def fee_currency(order: Order) -> str:
    instrument = order.instrument
    if order.fills:
        return order.fills[0].fee_asset
    if instrument.is_swap:
        return instrument.quote
    return instrument.base if order.is_buy else instrument.quote


def order_payload(order: Order, leverage: int | None) -> dict[str, Any]:
    instrument = order.instrument
    swap = instrument.is_swap
    last = order.fills[-1] if order.fills else None
    quote_sized = order.extra.get("tgtCcy") == "quote_ccy" and order.quote_amount is not None
    size = order.quote_amount if quote_sized else contracts(instrument, order.amount)
    fee = order.fee_total
    pnl = sum((fill.realized_pnl for fill in order.fills), ZERO)
    return {
        "accFillSz": num(contracts(instrument, order.filled)), "algoClOrdId": "", "algoId": "",
        "attachAlgoClOrdId": "", "attachAlgoOrds": [], "avgPx": num(order.average),
        "cTime": ms(order.created_ms), "cancelSource": "", "cancelSourceReason": "", "category": "normal",
        "ccy": "", "clOrdId": order.client_order_id, "fee": num(-fee) if fee else "0", "feeCcy": fee_currency(order),
        "fillPx": num(last.price) if last else "", "fillSz": num(contracts(instrument, last.qty)) if last else "0",
        "fillTime": ms(last.time_ms) if last else "", "instId": inst_id(instrument), "instType": inst_type(instrument),
        "isTpLimit": "false", "lever": str(leverage) if swap and leverage else "", "linkedAlgoOrd": {"algoId": ""},
        "ordId": str(order.order_id), "ordType": ord_type(order), "pnl": num(pnl), "posSide": "net",
        "px": num(order.price), "pxType": "", "pxUsd": "", "pxVol": "", "quickMgnType": "", "rebate": "0",
        "rebateCcy": instrument.quote, "reduceOnly": flag(order.reduce_only), "side": order.side, "slOrdPx": "",
        "slTriggerPx": "", "slTriggerPxType": "", "source": "", "state": STATES[order.status], "stpId": "",
        "stpMode": "cancel_maker", "sz": num(size), "tag": str(order.extra.get("tag", "")),
        "tdMode": str(order.extra.get("tdMode", "cross" if swap else "cash")),
        "tgtCcy": "" if swap else str(order.extra.get("tgtCcy", "base_ccy")), "tpOrdPx": "", "tpTriggerPx": "",
        "tpTriggerPxType": "", "tradeId": str(last.trade_id) if last else "", "uTime": ms(order.updated_ms),
    }  # fmt: skip
