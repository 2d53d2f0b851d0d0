"""ccxt's unified answers -> arbx's Decimal types (core/venue_data.py), for every venue alike.

Amounts become base coins: swap contracts are multiplied by the market's contract size (OKX), so nothing above the
venue client sees contracts or floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ccxt

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.money import ZERO, optional_decimal, to_decimal
from arbx_pipelines.core.sizing import MarketRules
from arbx_pipelines.core.venue_data import MarketInfo, OrderState, TradeFill

ONE = Decimal(1)


def ms_to_datetime(ms: object) -> datetime | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(int(str(ms)) / 1000, UTC)


def interval_hours(value: object) -> int | None:
    """ccxt's ``interval`` strings ('8h', '4h', '1h') to hours."""
    if not value:
        return None
    text = str(value).strip().lower()
    if text.endswith("h") and text[:-1].isdigit():
        return int(text[:-1])
    return None


def step_of(value: object, precision_mode: int) -> Decimal | None:
    """A market's amount or price step; a missing or non-positive one is unknown (None), never a zero step."""
    if value is None:
        return None
    number = to_decimal(value)
    if precision_mode == ccxt.DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(number))
    return number if number > 0 else None


def is_traded_market(market: Mapping[str, Any]) -> bool:
    """USDT spot markets and USDT-margined linear perpetuals: all arbx trades."""
    if market.get("spot"):
        return market.get("quote") == "USDT"
    return bool(market.get("swap") and market.get("linear") and market.get("settle") == "USDT")


def parse_market(m: Mapping[str, Any], venue: Venue, precision_mode: int) -> MarketInfo:
    limits = m.get("limits") or {}
    market_type = MarketType.SPOT if m.get("spot") else MarketType.SWAP
    rules = MarketRules(
        amount_step=step_of((m.get("precision") or {}).get("amount"), precision_mode),
        price_step=step_of((m.get("precision") or {}).get("price"), precision_mode),
        min_amount=optional_decimal((limits.get("amount") or {}).get("min")),
        max_amount=optional_decimal((limits.get("amount") or {}).get("max")),
        min_notional=optional_decimal((limits.get("cost") or {}).get("min")),
        contract_size=(optional_decimal(m.get("contractSize")) or ONE) if market_type is MarketType.SWAP else ONE,
    )
    return MarketInfo(
        venue=venue, symbol=str(m["symbol"]), venue_symbol=str(m["id"]), market_type=market_type,
        base=str(m["base"]), quote=str(m["quote"]), rules=rules, taker_fee=optional_decimal(m.get("taker")),
        maker_fee=optional_decimal(m.get("maker")), active=m.get("active") is not False,
    )  # fmt: skip


def parse_order(venue: Venue, raw: Mapping[str, Any], info: MarketInfo, client_order_id: str | None) -> OrderState:
    size = info.rules.contract_size
    fee = raw.get("fee") or {}
    fee_cost = optional_decimal(fee.get("cost")) or ZERO
    if not fee and raw.get("fees"):
        fee_cost = sum((optional_decimal(f.get("cost")) or ZERO for f in raw["fees"]), ZERO)
        fee = raw["fees"][0]
    amount = optional_decimal(raw.get("amount")) or ZERO
    filled = optional_decimal(raw.get("filled")) or ZERO
    return OrderState(
        venue=venue, symbol=info.symbol, client_order_id=raw.get("clientOrderId") or client_order_id,
        order_id=None if raw.get("id") is None else str(raw["id"]), side=Side(str(raw.get("side", "buy"))),
        order_type=str(raw.get("type") or "limit"), amount=amount * size, filled=filled * size,
        average_price=optional_decimal(raw.get("average")), status=str(raw.get("status") or "open"),
        fee=fee_cost, fee_currency=fee.get("currency"), time=ms_to_datetime(raw.get("timestamp")),
        raw=dict(raw.get("info") or {}),
    )  # fmt: skip


def parse_trade(venue: Venue, t: Mapping[str, Any], info: MarketInfo, order_id: str) -> TradeFill:
    fee = t.get("fee") or {}
    return TradeFill(
        venue=venue, symbol=info.symbol, trade_id=str(t["id"]), order_id=order_id, side=Side(str(t["side"])),
        amount=to_decimal(t["amount"]) * info.rules.contract_size, price=to_decimal(t["price"]),
        fee=optional_decimal(fee.get("cost")) or ZERO, fee_currency=fee.get("currency"),
        time=ms_to_datetime(t.get("timestamp")) or datetime.now(UTC),
    )  # fmt: skip
