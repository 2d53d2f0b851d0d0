"""Liquidation-distance tiers at their boundaries, and hedge-deviation rebalancing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from arbx_pipelines.core.hedge import FundingDirection, Leg
from arbx_pipelines.core.models import Side
from arbx_pipelines.core.position_risk import (
    LiquidationTier,
    PositionRiskParams,
    assess_liquidation,
    check_interval_seconds,
    hedge_deviation,
    liquidation_distance,
    plan_rebalance,
)
from arbx_pipelines.core.sizing import MarketRules

T = LiquidationTier


@pytest.mark.parametrize(
    ("liquidation_price", "tier"),
    [
        # price 100; a short's liquidation price sits above it: distance = (liq - 100) / 100
        (D("140"), T.NONE),  # exactly 40 %
        (D("139.99"), T.MEDIUM),  # 39.99 %
        (D("130"), T.MEDIUM),  # exactly 30 %
        (D("129.99"), T.WARN),
        (D("125"), T.WARN),  # exactly 25 %
        (D("124.99"), T.HIGH),
        (D("120"), T.HIGH),  # exactly 20 %
        (D("119.99"), T.REDUCE_LEVERAGE),
        (D("110"), T.REDUCE_LEVERAGE),  # exactly 10 %
        (D("109.99"), T.EMERGENCY_CLOSE),
        (D("100"), T.EMERGENCY_CLOSE),
        # a long's liquidation price sits below: 100 - 60 = 40 %
        (D("60"), T.NONE),
        (D("60.01"), T.MEDIUM),
        (D("90.01"), T.EMERGENCY_CLOSE),
    ],
)
def test_liquidation_tiers_at_boundaries(liquidation_price: D, tier: LiquidationTier) -> None:
    assert assess_liquidation(D("100"), liquidation_price) is tier


def test_tier_properties_and_check_interval() -> None:
    assert liquidation_distance(D("200"), D("150")) == D("0.25")
    assert assess_liquidation(D("100"), None) is T.NONE
    assert [t.alerts for t in T] == [False, False, True, True, True, True]
    assert check_interval_seconds(T.HIGH) == 60 and check_interval_seconds(T.REDUCE_LEVERAGE) == 60
    assert check_interval_seconds(T.WARN) == 300
    with pytest.raises(ValueError, match="fall strictly"):
        PositionRiskParams(warn=D("0.5"))


SPOT = MarketRules(amount_step=D("0.001"), min_notional=D("1"))
PERP = MarketRules(amount_step=D("0.01"), min_notional=D("1"))
P = D("100")


def test_hedge_deviation_threshold_is_strict() -> None:
    # perp 1 @ 100 vs spot 0.97 @ 100: exactly 3 % -> keep
    assert hedge_deviation(D("100"), D("97")) == D("0.03")
    assert plan_rebalance(FundingDirection.POSITIVE, D("0.97"), D("1"), P, P, SPOT, PERP) is None


def test_rebalance_reduces_the_larger_perp_leg_within_one_lot() -> None:
    # spot 0.969 vs perp 1: 3.1 %; short perp too big -> buy back 0.031, rounded to the 0.01 step -> 0.03
    order = plan_rebalance(FundingDirection.POSITIVE, D("0.969"), D("1"), P, P, SPOT, PERP)
    assert order is not None and order.placeable
    assert (order.leg, order.side, order.reduce_only) == (Leg.PERP, Side.BUY, True)
    assert (order.amount, order.residual_base) == (D("0.03"), D("0.001"))
    assert order.deviation == D("0.031")


def test_rebalance_in_okx_contracts() -> None:
    okx_perp = MarketRules(amount_step=D("1"), contract_size=D("0.01"))
    order = plan_rebalance(FundingDirection.POSITIVE, D("0.969"), D("1"), P, P, SPOT, okx_perp)
    # 0.031 BTC = 3.1 contracts of 0.01 -> 3 contracts = 0.03 BTC
    assert order is not None and (order.amount, order.base_amount) == (D("3"), D("0.03"))


def test_rebalance_reduces_the_larger_spot_leg() -> None:
    order = plan_rebalance(FundingDirection.POSITIVE, D("1.05"), D("1"), P, P, SPOT, PERP)
    assert order is not None
    assert (order.leg, order.side, order.amount, order.reduce_only) == (Leg.SPOT, Side.SELL, D("0.05"), False)
    # negative funding: long perp is too big -> sell perp, reduce-only
    long_perp = plan_rebalance(FundingDirection.NEGATIVE, D("1"), D("1.05"), P, P, SPOT, PERP)
    assert long_perp is not None
    assert (long_perp.leg, long_perp.side, long_perp.reduce_only) == (Leg.PERP, Side.SELL, True)


def test_basis_alone_trades_nothing_and_minimums_are_flagged() -> None:
    # equal base, perp 4 % dearer: the notional gap is basis, not a hedge error
    assert plan_rebalance(FundingDirection.POSITIVE, D("1"), D("1"), P, D("104"), SPOT, PERP) is None
    strict = MarketRules(amount_step=D("0.01"), min_notional=D("10"))
    order = plan_rebalance(FundingDirection.POSITIVE, D("0.95"), D("1"), P, P, SPOT, strict)
    # 0.05 x 100 = 5 < 10: the order is reported but must not be sent
    assert order is not None and not order.placeable and "min" in order.detail
