"""Client order ids, the two-leg hedge plan, and leg correction after partial fills."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal as D

import pytest

from arbx_pipelines.core.hedge import FundingDirection, Leg
from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.orders import (
    CorrectionPolicy,
    client_order_id,
    correct_leg_imbalance,
    plan_hedge_orders,
    plan_leg_correction,
)
from arbx_pipelines.core.sizing import HedgeSize, MarketRules, size_hedge

# OKX accepts only 1-32 alphanumerics: the strictest of the three venues
OKX_CLORDID = re.compile(r"^[A-Za-z0-9]{1,32}$")


def test_client_order_id_is_deterministic_and_venue_safe() -> None:
    first = client_order_id("exec-2024-01-01-BTC", "spot")
    assert first == client_order_id("exec-2024-01-01-BTC", "spot")
    # spec: "arbx" + first 28 hex chars of sha256("<len>:<execution>|<len>:<leg>|<attempt>")
    expected = "arbx" + hashlib.sha256(b"19:exec-2024-01-01-BTC|4:spot|0").hexdigest()[:28]
    assert first == expected
    assert len(first) == 32 and OKX_CLORDID.match(first)
    others = {
        client_order_id("exec-2024-01-01-BTC", "perp"),
        client_order_id("exec-2024-01-01-BTC", "spot", attempt=1),
        client_order_id("exec-2024-01-01-ETH", "spot"),
    }
    assert first not in others and len(others) == 3
    # concatenation cannot collide
    assert client_order_id("ab", "c") != client_order_id("a", "bc")
    # any input characters still give a venue-safe id
    assert OKX_CLORDID.match(client_order_id("ünïcode/with spaces:and|pipes", "perp-hedge-1"))
    with pytest.raises(ValueError):
        client_order_id("", "spot")


SPOT = MarketRules(amount_step=D("0.001"), price_step=D("0.01"), min_notional=D("5"))
PERP = MarketRules(amount_step=D("0.01"), price_step=D("0.01"), min_notional=D("5"))


def test_hedge_plan_positive_funding() -> None:
    size = size_hedge(D("0.9995"), D("100.05"), D("99.95"), SPOT, PERP)
    assert isinstance(size, HedgeSize)
    plan = plan_hedge_orders(
        "exec1", Venue.BINANCE, "BTC/USDT:USDT", FundingDirection.POSITIVE, size, SPOT, PERP, max_slippage=D("0.001")
    )
    assert (plan.spot.symbol, plan.spot.market_type, plan.spot.side) == ("BTC/USDT", MarketType.SPOT, Side.BUY)
    assert (plan.perp.symbol, plan.perp.market_type, plan.perp.side) == ("BTC/USDT:USDT", MarketType.SWAP, Side.SELL)
    assert plan.spot.amount == plan.perp.amount == D("0.99")
    # buy limit 100.05 x 1.001 = 100.15005 -> tick down 100.15; sell limit 99.95 x 0.999 = 99.85005 -> tick up 99.86
    assert (plan.spot.limit_price, plan.perp.limit_price) == (D("100.15"), D("99.86"))
    assert plan.spot.time_in_force == "IOC" and not plan.perp.reduce_only
    assert plan.spot.client_order_id == client_order_id("exec1", "spot")
    closing = plan_hedge_orders(
        "exec2", Venue.BINANCE, "BTC/USDT:USDT", FundingDirection.POSITIVE, size, SPOT, PERP,
        max_slippage=D("0"), closing=True,
    )  # fmt: skip
    assert (closing.spot.side, closing.perp.side, closing.perp.reduce_only) == (Side.SELL, Side.BUY, True)


def test_partial_perp_fill_hedged_within_one_lot() -> None:
    # target 1 BTC: spot filled 1.0, the IOC perp sell filled only 0.637
    args = (FundingDirection.POSITIVE, D("1"), D("0.637"), D("100"), D("100"), SPOT, PERP)
    hedge = correct_leg_imbalance(*args, CorrectionPolicy.HEDGE)
    assert hedge is not None and hedge.placeable
    # sell 0.363 more perp, rounded down to the 0.01 lot -> 0.36; 0.003 left (< 0.01)
    assert (hedge.leg, hedge.side, hedge.amount, hedge.reduce_only) == (Leg.PERP, Side.SELL, D("0.36"), False)
    assert (hedge.imbalance_base, hedge.residual_base) == (D("0.363"), D("0.003"))
    unwind = correct_leg_imbalance(*args, CorrectionPolicy.UNWIND)
    # or sell back the 0.363 excess spot (lot 0.001): nothing left
    assert unwind is not None
    assert (unwind.leg, unwind.side, unwind.amount, unwind.residual_base) == (Leg.SPOT, Side.SELL, D("0.363"), D("0"))


def test_one_leg_failure_in_okx_contracts() -> None:
    okx = MarketRules(amount_step=D("1"), contract_size=D("0.01"), min_notional=D("5"))
    # perp leg rejected: spot holds 0.5 BTC unhedged
    hedge = correct_leg_imbalance(
        FundingDirection.POSITIVE, D("0.5"), D("0"), D("100"), D("100"), SPOT, okx, CorrectionPolicy.HEDGE
    )
    assert hedge is not None and (hedge.leg, hedge.side, hedge.amount, hedge.base_amount) == (
        Leg.PERP, Side.SELL, D("50"), D("0.5"),
    )  # fmt: skip


def test_negative_funding_and_closing_sides() -> None:
    # long perp 0.25 vs spot sold 0.2: perp leads
    args = (FundingDirection.NEGATIVE, D("0.2"), D("0.25"), D("100"), D("100"), SPOT, PERP)
    hedge = correct_leg_imbalance(*args, CorrectionPolicy.HEDGE)
    assert hedge is not None and (hedge.leg, hedge.side, hedge.amount) == (Leg.SPOT, Side.SELL, D("0.05"))
    unwind = correct_leg_imbalance(*args, CorrectionPolicy.UNWIND)
    assert unwind is not None and (unwind.leg, unwind.side, unwind.reduce_only) == (Leg.PERP, Side.SELL, True)
    # closing a positive-funding hedge: spot sold 1.0 but only 0.6 perp bought back
    close = (FundingDirection.POSITIVE, D("1"), D("0.6"), D("100"), D("100"), SPOT, PERP)
    finish = correct_leg_imbalance(*close, CorrectionPolicy.HEDGE, closing=True)
    assert finish is not None and (finish.leg, finish.side, finish.amount, finish.reduce_only) == (
        Leg.PERP, Side.BUY, D("0.4"), True,
    )  # fmt: skip
    reopen = correct_leg_imbalance(*close, CorrectionPolicy.UNWIND, closing=True)
    assert reopen is not None and (reopen.leg, reopen.side) == (Leg.SPOT, Side.BUY)


def test_balanced_within_one_lot_needs_nothing() -> None:
    args = (FundingDirection.POSITIVE, D("1"), D("0.996"), D("100"), D("100"), SPOT, PERP)
    assert correct_leg_imbalance(*args, CorrectionPolicy.HEDGE) is None  # 0.004 < perp lot 0.01
    assert correct_leg_imbalance(FundingDirection.POSITIVE, D("1"), D("1"), D("100"), D("100"), SPOT, PERP,
                                 CorrectionPolicy.UNWIND) is None  # fmt: skip


def test_fallback_when_minimums_block_the_preferred_correction() -> None:
    perp_min_10 = MarketRules(amount_step=D("0.01"), min_notional=D("10"))
    spot_min_1 = MarketRules(amount_step=D("0.001"), min_notional=D("1"))
    # 0.05 BTC x 100 = 5: below the perp's 10 -> hedging is impossible, unwinding spot (min 1) works
    correction = plan_leg_correction(
        FundingDirection.POSITIVE, D("1"), D("0.95"), D("100"), D("100"), spot_min_1, perp_min_10
    )
    assert correction is not None and correction.placeable
    assert (correction.policy, correction.leg, correction.amount) == (CorrectionPolicy.UNWIND, Leg.SPOT, D("0.05"))
    # both blocked: the preferred one comes back flagged, for an alert
    spot_min_10 = MarketRules(amount_step=D("0.001"), min_notional=D("10"))
    blocked = plan_leg_correction(
        FundingDirection.POSITIVE, D("1"), D("0.95"), D("100"), D("100"), spot_min_10, perp_min_10
    )
    assert blocked is not None and not blocked.placeable and blocked.policy is CorrectionPolicy.HEDGE
