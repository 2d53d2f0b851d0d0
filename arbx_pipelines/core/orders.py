"""Order commands for the execution layer: deterministic client order ids, the two-leg hedge plan, and the
correction order after partial fills or a one-leg failure.

Client order ids are ``"arbx"`` + 28 hex chars of SHA-256(execution id, leg, attempt): 32 characters, letters and
digits only. That is the strictest common format: OKX ``clOrdId`` takes 1-32 alphanumerics, Binance
``newClientOrderId`` up to 36 of ``[.A-Za-z0-9:/_-]``, Bitget ``clientOid`` up to 50. The same inputs always give
the same id, so a retry after a timeout is recognised by the venue (and looked up first) instead of doubling.

Public API::

    client_order_id(execution_id, leg, attempt=0) -> str
    OrderIntent(execution_id, leg, client_order_id, venue, symbol, market_type, side, amount, base_amount,
                limit_price, time_in_force="IOC", reduce_only=False)
    HedgePlan(spot: OrderIntent, perp: OrderIntent)
    limit_price(reference, side, max_slippage, rules) -> Decimal        # worst acceptable IOC price
    plan_hedge_orders(execution_id, venue, perp_symbol, direction, size, spot_rules, perp_rules, *,
                      max_slippage, closing=False, attempt=0) -> HedgePlan
    class CorrectionPolicy(StrEnum): HEDGE (complete the lagging leg), UNWIND (take back the leading leg's excess)
    LegCorrection(leg, side, amount, base_amount, reduce_only, policy, imbalance_base, residual_base,
                  placeable, detail)
    correct_leg_imbalance(direction, spot_filled_base, perp_filled_base, spot_price, perp_price, spot_rules,
                          perp_rules, policy, *, closing=False) -> LegCorrection | None
    plan_leg_correction(..., preferred=CorrectionPolicy.HEDGE, closing=False) -> LegCorrection | None
        tries the preferred policy, falls back to the other when the venue minimums block it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from arbx_pipelines.core.hedge import FundingDirection, Leg
from arbx_pipelines.core.models import MarketType, Side, Venue, spot_symbol_of
from arbx_pipelines.core.sizing import (
    HedgeSize,
    MarketRules,
    check_leg,
    contracts_to_base,
    round_price,
    to_market_amount,
)

CLIENT_ID_PREFIX = "arbx"
CLIENT_ID_LENGTH = 32
ONE = Decimal(1)


def client_order_id(execution_id: str, leg: str, attempt: int = 0) -> str:
    """Deterministic id of one order of one execution. ``leg`` names the order within the execution ("spot",
    "perp", "perp-hedge-1", ...); ``attempt`` changes only when a new order replaces a definitely failed one."""
    if not execution_id or not leg:
        raise ValueError("client_order_id needs a non-empty execution_id and leg")
    if attempt < 0:
        raise ValueError(f"attempt must not be negative, got {attempt}")
    # length-prefixed so ("ab", "c") and ("a", "bc") cannot collide
    material = f"{len(execution_id)}:{execution_id}|{len(leg)}:{leg}|{attempt}".encode()
    digest = hashlib.sha256(material).hexdigest()
    return CLIENT_ID_PREFIX + digest[: CLIENT_ID_LENGTH - len(CLIENT_ID_PREFIX)]


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """A command to place one order. ``amount`` is in the market's unit (contracts for OKX swaps)."""

    execution_id: str
    leg: str
    client_order_id: str
    venue: Venue
    symbol: str
    market_type: MarketType
    side: Side
    amount: Decimal
    base_amount: Decimal
    limit_price: Decimal | None
    time_in_force: Literal["IOC", "GTC"] = "IOC"
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class HedgePlan:
    spot: OrderIntent
    perp: OrderIntent


def limit_price(reference: Decimal, side: Side, max_slippage: Decimal, rules: MarketRules) -> Decimal:
    """Worst price an IOC order may fill at: reference x (1 +/- slippage), rounded to the tick inward."""
    if not 0 <= max_slippage < 1:
        raise ValueError(f"max_slippage must be in [0, 1), got {max_slippage}")
    raw = reference * (ONE + max_slippage) if side is Side.BUY else reference * (ONE - max_slippage)
    return round_price(raw, rules, side)


def plan_hedge_orders(
    execution_id: str,
    venue: Venue,
    perp_symbol: str,
    direction: FundingDirection,
    size: HedgeSize,
    spot_rules: MarketRules,
    perp_rules: MarketRules,
    *,
    max_slippage: Decimal,
    closing: bool = False,
    attempt: int = 0,
) -> HedgePlan:
    """Both legs of an open (or, with ``closing``, a close) as IOC limit orders, sent concurrently by the caller.
    ``size`` comes from :func:`arbx_pipelines.core.sizing.size_hedge`, so both legs already passed the minimums."""

    def intent(leg: Leg, symbol: str, market_type: MarketType, rules: MarketRules) -> OrderIntent:
        leg_size = size.spot if leg is Leg.SPOT else size.perp
        side = direction.closing_side(leg) if closing else direction.opening_side(leg)
        return OrderIntent(
            execution_id=execution_id,
            leg=str(leg),
            client_order_id=client_order_id(execution_id, str(leg), attempt),
            venue=venue,
            symbol=symbol,
            market_type=market_type,
            side=side,
            amount=leg_size.amount,
            base_amount=leg_size.base_amount,
            limit_price=limit_price(leg_size.price, side, max_slippage, rules),
            reduce_only=closing and leg is Leg.PERP,
        )

    return HedgePlan(
        spot=intent(Leg.SPOT, spot_symbol_of(perp_symbol), MarketType.SPOT, spot_rules),
        perp=intent(Leg.PERP, perp_symbol, MarketType.SWAP, perp_rules),
    )


class CorrectionPolicy(StrEnum):
    HEDGE = "hedge"
    UNWIND = "unwind"


@dataclass(frozen=True, slots=True)
class LegCorrection:
    """The order that removes a hedge imbalance up to less than one lot of ``leg``.

    ``imbalance_base`` = spot filled - perp filled before it; ``residual_base`` what stays after it (< one lot).
    ``placeable`` is False when the venue minimums reject it: record the imbalance and alert instead.
    """

    leg: Leg
    side: Side
    amount: Decimal
    base_amount: Decimal
    reduce_only: bool
    policy: CorrectionPolicy
    imbalance_base: Decimal
    residual_base: Decimal
    placeable: bool
    detail: str = ""


def correct_leg_imbalance(
    direction: FundingDirection,
    spot_filled_base: Decimal,
    perp_filled_base: Decimal,
    spot_price: Decimal,
    perp_price: Decimal,
    spot_rules: MarketRules,
    perp_rules: MarketRules,
    policy: CorrectionPolicy,
    *,
    closing: bool = False,
) -> LegCorrection | None:
    """What to send after the two legs filled different base amounts; None when they match within one lot.

    HEDGE trades the lagging leg the way the execution went (opening or closing side); UNWIND trades the
    leading leg back. Amounts round down to the traded leg's step, so the result never overshoots.
    """
    if spot_filled_base < 0 or perp_filled_base < 0:
        raise ValueError("filled amounts are absolute sizes and must not be negative")
    imbalance = spot_filled_base - perp_filled_base
    if imbalance == 0:
        return None
    leading = Leg.SPOT if imbalance > 0 else Leg.PERP
    lagging = Leg.PERP if leading is Leg.SPOT else Leg.SPOT
    leg = lagging if policy is CorrectionPolicy.HEDGE else leading
    # HEDGE continues the execution's direction on the lagging leg; UNWIND reverses it on the leading leg
    goes_forward = policy is CorrectionPolicy.HEDGE
    opening = goes_forward != closing
    side = direction.opening_side(leg) if opening else direction.closing_side(leg)
    rules, price = (spot_rules, spot_price) if leg is Leg.SPOT else (perp_rules, perp_price)
    amount = to_market_amount(abs(imbalance), rules)
    if amount == 0:
        return None
    base_amount = contracts_to_base(amount, rules.contract_size)
    rejection = check_leg(leg, amount, price, rules)
    return LegCorrection(
        leg=leg,
        side=side,
        amount=amount,
        base_amount=base_amount,
        reduce_only=leg is Leg.PERP and not opening,
        policy=policy,
        imbalance_base=imbalance,
        residual_base=abs(imbalance) - base_amount,
        placeable=rejection is None,
        detail="" if rejection is None else rejection.detail,
    )


def plan_leg_correction(
    direction: FundingDirection,
    spot_filled_base: Decimal,
    perp_filled_base: Decimal,
    spot_price: Decimal,
    perp_price: Decimal,
    spot_rules: MarketRules,
    perp_rules: MarketRules,
    *,
    preferred: CorrectionPolicy = CorrectionPolicy.HEDGE,
    closing: bool = False,
) -> LegCorrection | None:
    """The preferred correction, or the other policy's when only that one passes the venue minimums."""
    args = (direction, spot_filled_base, perp_filled_base, spot_price, perp_price, spot_rules, perp_rules)
    first = correct_leg_imbalance(*args, preferred, closing=closing)
    if first is None or first.placeable:
        return first
    other = CorrectionPolicy.UNWIND if preferred is CorrectionPolicy.HEDGE else CorrectionPolicy.HEDGE
    second = correct_leg_imbalance(*args, other, closing=closing)
    return second if second is not None and second.placeable else first
