"""Order sizing for a small account (DESIGN, "Sizing"): round with the market's precision and check min amount
and min notional of BOTH legs before the first one is sent. If either leg cannot be placed, neither is.

Amounts of a market are in that market's unit: base coin for spot and most perps, contracts for OKX swaps
(``contract_size`` base per contract). Hedge legs share one base amount, a multiple of both legs' base steps, so
the hedge is exactly 1:1 after rounding.

Public API::

    @dataclass(frozen=True) MarketRules(amount_step=None, price_step=None, min_amount=None, max_amount=None,
                                        min_notional=None, contract_size=1)
        .base_step -> Decimal | None    # amount_step x contract_size
    base_to_contracts(base_amount, contract_size) -> Decimal          # exact, not rounded
    contracts_to_base(contracts, contract_size) -> Decimal
    NO_RULES = MarketRules()                                          # a market with no published limits
    at_least_one_lot(difference, rules) -> bool                       # reconcile's reporting boundary
    round_amount(amount, rules) -> Decimal                            # down to amount_step (market unit)
    round_price(price, rules, side) -> Decimal                        # buy: down, sell: up (never worse)
    common_step(a, b) -> Decimal                                      # least common multiple of two steps
    to_market_amount(base_amount, rules) -> Decimal                   # base -> market unit, rounded down
    check_leg(leg, market_amount, price, rules) -> SizingRejection | None
    size_hedge(target_base, spot_price, perp_price, spot_rules, perp_rules) -> HedgeSize | SizingRejection
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.core.models import Side
from arbx_pipelines.core.money import ZERO, quantize_down

ONE = Decimal(1)

SizingReason = Literal["min_amount", "min_notional"]


@dataclass(frozen=True, slots=True)
class MarketRules:
    """Precision and limits of one market as ccxt reports them (``market['precision']``, ``market['limits']``).

    ``None`` means the venue publishes no such rule. ``contract_size`` is the base amount of one unit of
    ``amount`` (1 for spot and base-denominated perps; OKX ``ctVal`` for OKX swaps).
    """

    amount_step: Decimal | None = None
    price_step: Decimal | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    min_notional: Decimal | None = None
    contract_size: Decimal = ONE

    def __post_init__(self) -> None:
        for name in ("amount_step", "price_step", "contract_size"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"MarketRules.{name} must be positive, got {value}")
        for name in ("min_amount", "max_amount", "min_notional"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"MarketRules.{name} must not be negative, got {value}")

    @property
    def base_step(self) -> Decimal | None:
        return None if self.amount_step is None else self.amount_step * self.contract_size


NO_RULES = MarketRules()
SMALLEST_DIFFERENCE = Decimal("1e-12")  #: below this two amounts are the same, whatever the market's step


def at_least_one_lot(difference: Decimal, rules: MarketRules) -> bool:
    """Whether a difference between the venue and the records is one lot (the base step) or more: anything smaller
    could not be traded away, so reconcile reports nothing below it."""
    return difference >= max(rules.base_step or ZERO, SMALLEST_DIFFERENCE)


@dataclass(frozen=True, slots=True)
class LegSize:
    """One leg after rounding: ``amount`` in the market's unit, ``base_amount`` in coins."""

    leg: Leg
    amount: Decimal
    base_amount: Decimal
    price: Decimal

    @property
    def notional(self) -> Decimal:
        return self.base_amount * self.price


@dataclass(frozen=True, slots=True)
class HedgeSize:
    base_amount: Decimal
    spot: LegSize
    perp: LegSize

    @property
    def notional(self) -> Decimal:
        """Notional of the spot leg: the capital the hedge commits in spot."""
        return self.spot.notional


@dataclass(frozen=True, slots=True)
class SizingRejection:
    leg: Leg
    reason: SizingReason
    detail: str


def base_to_contracts(base_amount: Decimal, contract_size: Decimal) -> Decimal:
    """Base coins -> contracts (OKX swaps: ``sz`` = base / ``ctVal``). Not rounded; see :func:`to_market_amount`."""
    if contract_size <= 0:
        raise ValueError(f"contract_size must be positive, got {contract_size}")
    return base_amount / contract_size


def contracts_to_base(contracts: Decimal, contract_size: Decimal) -> Decimal:
    if contract_size <= 0:
        raise ValueError(f"contract_size must be positive, got {contract_size}")
    return contracts * contract_size


def round_amount(amount: Decimal, rules: MarketRules) -> Decimal:
    """Round an amount (market unit) down to the step: lot sizes never round up past what we can afford."""
    return amount if rules.amount_step is None else quantize_down(amount, rules.amount_step)


def round_price(price: Decimal, rules: MarketRules, side: Side) -> Decimal:
    """Round a limit price to the tick so it is never worse than the validated price: buys down, sells up."""
    if rules.price_step is None:
        return price
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    return (price / rules.price_step).to_integral_value(rounding=rounding) * rules.price_step


def common_step(a: Decimal, b: Decimal) -> Decimal:
    """Least common multiple of two positive decimal steps (0.003 and 0.002 -> 0.006), computed exactly."""
    if a <= 0 or b <= 0:
        raise ValueError(f"steps must be positive, got {a} and {b}")
    a_num, a_den = a.as_integer_ratio()
    b_num, b_den = b.as_integer_ratio()
    return Decimal(math.lcm(a_num, b_num)) / Decimal(math.gcd(a_den, b_den))


def to_market_amount(base_amount: Decimal, rules: MarketRules) -> Decimal:
    """Base coins -> the market's amount unit, rounded down to its step."""
    return round_amount(base_to_contracts(base_amount, rules.contract_size), rules)


def gross_of_coin_fee(base_amount: Decimal, fee_rate: Decimal, rules: MarketRules) -> Decimal:
    """The market amount to buy so that ``base_amount`` coins arrive when the venue takes its fee out of the bought
    coin: ``base_amount / (1 - fee_rate)``, rounded up to the step (a buy-back short of what was sold would leave the
    declared inventory short; a surplus below one step stays as coin)."""
    if not 0 <= fee_rate < 1:
        raise ValueError(f"fee rate must be in [0, 1), got {fee_rate}")
    amount = base_to_contracts(base_amount / (1 - fee_rate), rules.contract_size)
    if rules.amount_step is None:
        return amount
    return (amount / rules.amount_step).to_integral_value(rounding=ROUND_CEILING) * rules.amount_step


def check_leg(leg: Leg, amount: Decimal, price: Decimal, rules: MarketRules) -> SizingRejection | None:
    """Whether the venue would accept an order of ``amount`` (market unit) at ``price``."""
    if amount <= 0:
        return SizingRejection(leg, "min_amount", f"{leg} amount {amount} is not a placeable size")
    if rules.min_amount is not None and amount < rules.min_amount:
        return SizingRejection(leg, "min_amount", f"{leg} amount {amount} is below the minimum {rules.min_amount}")
    notional = contracts_to_base(amount, rules.contract_size) * price
    if rules.min_notional is not None and notional < rules.min_notional:
        return SizingRejection(
            leg, "min_notional", f"{leg} notional {notional} is below the minimum {rules.min_notional}"
        )
    return None


def _hedge_base_step(spot_rules: MarketRules, perp_rules: MarketRules) -> Decimal | None:
    steps = [step for step in (spot_rules.base_step, perp_rules.base_step) if step is not None]
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else common_step(steps[0], steps[1])


def _base_cap(rules: MarketRules) -> Decimal | None:
    return None if rules.max_amount is None else contracts_to_base(rules.max_amount, rules.contract_size)


def size_hedge(
    target_base: Decimal,
    spot_price: Decimal,
    perp_price: Decimal,
    spot_rules: MarketRules,
    perp_rules: MarketRules,
) -> HedgeSize | SizingRejection:
    """The largest 1:1 hedge not above ``target_base`` that both venues accept, or why there is none.

    The base amount is capped by both legs' max amounts, then rounded down to a multiple of both legs' base
    steps; then min amount and min notional are checked on BOTH legs before anything is sent.
    """
    if spot_price <= 0 or perp_price <= 0:
        raise ValueError(f"prices must be positive, got spot {spot_price} and perp {perp_price}")
    base = max(target_base, ZERO)
    for cap in (_base_cap(spot_rules), _base_cap(perp_rules)):
        if cap is not None:
            base = min(base, cap)
    step = _hedge_base_step(spot_rules, perp_rules)
    if step is not None:
        base = quantize_down(base, step)
    if base == 0:
        coarser = Leg.PERP if (perp_rules.base_step or ZERO) >= (spot_rules.base_step or ZERO) else Leg.SPOT
        return SizingRejection(coarser, "min_amount", f"{target_base} base rounds to 0 at the hedge step {step}")
    spot = LegSize(Leg.SPOT, base / spot_rules.contract_size, base, spot_price)
    perp = LegSize(Leg.PERP, base / perp_rules.contract_size, base, perp_price)
    for leg_size, rules in ((spot, spot_rules), (perp, perp_rules)):
        rejection = check_leg(leg_size.leg, leg_size.amount, leg_size.price, rules)
        if rejection is not None:
            return rejection
    return HedgeSize(base, spot, perp)
