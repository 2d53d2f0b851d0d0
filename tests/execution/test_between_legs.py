"""The price-move rule between an open's legs (pure): hedge within the single-loss limit, else the cheaper way."""

from __future__ import annotations

from decimal import Decimal

from arbx_pipelines.core.hedge import FundingDirection, Leg
from arbx_pipelines.core.orders import CorrectionPolicy
from arbx_pipelines.execution.between_legs import judge_move

LIMIT = Decimal(10)


def test_a_small_move_is_hedged() -> None:
    verdict = judge_move(FundingDirection.POSITIVE, Leg.PERP, Decimal(100), Decimal("1.00"), Decimal("0.99"),
                         Decimal("0.99"), LIMIT)  # fmt: skip
    assert verdict.policy is CorrectionPolicy.HEDGE and not verdict.over_limit
    assert verdict.hedge_loss == Decimal("1.00")  # spot bought at 1.00, perp sold at 0.99


def test_a_large_move_ends_the_cheaper_way() -> None:
    # spot bought at 1.00, price fell 30 %: hedging at 0.70 locks in 30, selling the spot back at 0.71 loses 29
    flat = judge_move(FundingDirection.POSITIVE, Leg.PERP, Decimal(100), Decimal("1.00"), Decimal("0.70"),
                      Decimal("0.71"), LIMIT)  # fmt: skip
    assert flat.over_limit and flat.policy is CorrectionPolicy.UNWIND
    assert (flat.hedge_loss, flat.flat_loss) == (Decimal("30.00"), Decimal("29.00"))
    # the perp was filled short at 1.00 and the price rose: buying spot now at 1.30 locks in 30; buying the perp
    # back at 1.35 loses 35, so it hedges
    hedged = judge_move(FundingDirection.POSITIVE, Leg.SPOT, Decimal(100), Decimal("1.00"), Decimal("1.30"),
                        Decimal("1.35"), LIMIT)  # fmt: skip
    assert hedged.over_limit and hedged.policy is CorrectionPolicy.HEDGE
    assert (hedged.hedge_loss, hedged.flat_loss) == (Decimal("30.00"), Decimal("35.00"))


def test_negative_funding_direction_mirrors_the_rule() -> None:
    # long perp bought at 1.00, spot (to sell) fell to 0.80: selling spot locks in 20; selling the perp at 0.81 loses 19
    verdict = judge_move(FundingDirection.NEGATIVE, Leg.SPOT, Decimal(100), Decimal("1.00"), Decimal("0.80"),
                         Decimal("0.81"), LIMIT)  # fmt: skip
    assert verdict.over_limit and verdict.policy is CorrectionPolicy.UNWIND
    assert (verdict.hedge_loss, verdict.flat_loss) == (Decimal("20.00"), Decimal("19.00"))
