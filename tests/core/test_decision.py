"""Entry and exit decisions shared by the live sensors and the backtester."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D

import pytest

from arbx_pipelines.core.decision import (
    CloseDecision,
    EntrySignal,
    PositionState,
    Rejection,
    StrategyParams,
    decide_entry,
    decide_exit,
)
from arbx_pipelines.core.decision_inputs import VenueFees, snapshot_at_price
from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Side, Venue
from arbx_pipelines.core.sizing import MarketRules
from tests.core.builders import T0, snapshot

PARAMS = StrategyParams()


def test_positive_funding_opens_short_perp_long_spot() -> None:
    # annualized 0.001 x 3 x 365 = 1.095; cost = 2 x (0.001 + 0.0005) fees + 0.001 + 0.001 spreads = 0.005
    # break-even: 0.005 / 0.001 = 5 -> strictly in profit after 6; 72h from 00:00 with next at 08:00 -> 9
    signal = decide_entry(snapshot(), PARAMS, D("100"))
    assert isinstance(signal, EntrySignal), signal
    assert signal.direction is FundingDirection.POSITIVE
    assert (signal.spot_side, signal.perp_side) == (Side.BUY, Side.SELL)
    assert signal.annualized == D("1.095")
    assert signal.cost_rate == D("0.005")
    assert (signal.break_even_settlements, signal.planned_settlements) == (6, 9)
    assert signal.expected_net_rate == D("0.004")  # 9 x 0.001 - 0.005
    # 100 / 100.05 = 0.9995 coins, rounded to the common step of 0.001 and 0.01 -> 0.99 on both legs
    assert signal.size.base_amount == D("0.99")
    assert signal.size.spot.price == D("100.05") and signal.size.perp.price == D("99.95")
    assert signal.notional == D("99.0495")


def test_below_threshold_is_rejected() -> None:
    # 0.0004 x 1095 = 0.438 < 0.5
    result = decide_entry(snapshot("0.0004"), PARAMS, D("100"))
    assert isinstance(result, Rejection) and result.reason == "below_threshold"
    # same rate on a 1h symbol annualizes to 3.504: the interval matters
    assert isinstance(decide_entry(snapshot("0.0004", interval_hours=1), PARAMS, D("100")), EntrySignal)


def test_break_even_must_fit_the_planned_holding_time() -> None:
    # 0.0005 (0.5475 a year): cost 0.005 / 0.0005 = 10 -> 11 settlements, only 9 fit in 72h
    result = decide_entry(snapshot("0.0005"), PARAMS, D("100"))
    assert isinstance(result, Rejection) and result.reason == "break_even_too_long"
    # 120h holds 1 + floor(112 / 8) = 15 settlements: now it fits
    longer = replace(PARAMS, planned_holding_hours=120)
    assert isinstance(decide_entry(snapshot("0.0005"), longer, D("100")), EntrySignal)
    # cheaper venue fees make it fit in 72h: 2 x (0.0002 + 0.0001) + 0.002 = 0.0026 -> 6 settlements
    cheap = replace(PARAMS, fees={Venue.BINANCE: VenueFees(spot_taker=D("0.0002"), perp_taker=D("0.0001"))})
    assert isinstance(decide_entry(snapshot("0.0005"), cheap, D("100")), EntrySignal)


def test_negative_funding_needs_inventory_or_borrowing() -> None:
    result = decide_entry(snapshot("-0.001"), PARAMS, D("100"))
    assert isinstance(result, Rejection) and result.reason == "no_inventory_for_negative_funding"
    # with 0.5 coins in inventory the size is capped to it and the spot leg sells at the bid
    signal = decide_entry(snapshot("-0.001"), PARAMS, D("100"), spot_inventory_base=D("0.5"))
    assert isinstance(signal, EntrySignal)
    assert (signal.spot_side, signal.perp_side) == (Side.SELL, Side.BUY)
    assert signal.size.base_amount == D("0.5") and signal.size.spot.price == D("99.95")
    assert not signal.uses_margin_borrow


def test_margin_borrow_interest_enters_break_even() -> None:
    # daily 0.0012 -> 0.0004 per 8h; net 0.0006; 0.005 / 0.0006 = 8.33 -> 9 settlements: fits exactly
    params = replace(PARAMS, allow_margin_borrow=True, margin_borrow_daily_rate=D("0.0012"))
    signal = decide_entry(snapshot("-0.001"), params, D("100"))
    assert isinstance(signal, EntrySignal) and signal.uses_margin_borrow
    assert signal.break_even_settlements == 9
    # daily 0.0015 -> 0.0005 per 8h; 0.005 / 0.0005 = 10 -> 11 settlements: too long
    dearer = replace(params, margin_borrow_daily_rate=D("0.0015"))
    result = decide_entry(snapshot("-0.001"), dearer, D("100"))
    assert isinstance(result, Rejection) and result.reason == "break_even_too_long"


def test_liquidity_caps_the_size() -> None:
    # we may take half the visible depth: 150 x 0.5 = 75 < 100
    thin = snapshot(spot_ask_depth=D("150"), perp_bid_depth=D("1000"))
    result = decide_entry(thin, PARAMS, D("100"))
    assert isinstance(result, Rejection) and result.reason == "insufficient_liquidity"
    deep = snapshot(spot_ask_depth=D("200"), perp_bid_depth=D("200"))
    assert isinstance(decide_entry(deep, PARAMS, D("100")), EntrySignal)
    # the depth of the other sides does not matter for a positive-funding entry
    other_sides_thin = snapshot(spot_bid_depth=D("1"), perp_ask_depth=D("1"))
    assert isinstance(decide_entry(other_sides_thin, PARAMS, D("100")), EntrySignal)


def test_min_notional_and_min_amount_of_both_legs() -> None:
    # 4 USDT: 0.0399 coins -> 0.03 (common step 0.01) -> spot notional 3.0015 < 5
    result = decide_entry(snapshot(), PARAMS, D("4"))
    assert isinstance(result, Rejection) and result.reason == "min_notional"
    # perp min amount 0.1 coins: 6 USDT -> 0.05 coins -> perp leg rejected although spot would pass
    strict_perp = snapshot(perp_rules=MarketRules(amount_step=D("0.01"), min_amount=D("0.1")))
    result = decide_entry(strict_perp, PARAMS, D("6"))
    assert isinstance(result, Rejection) and result.reason == "min_amount"
    assert "perp" in result.detail


POSITION = PositionState(
    venue=Venue.BINANCE,
    symbol="BTC/USDT:USDT",
    direction=FundingDirection.POSITIVE,
    opened_at=T0,
    base_amount=D("1"),
    entry_notional=D("100"),
    liquidation_price=D("150"),
)
NOW = T0 + timedelta(days=2)


def test_exit_keeps_a_healthy_position() -> None:
    assert decide_exit(POSITION, snapshot("0.0005"), PARAMS, NOW) is None


def test_exit_when_rate_falls_below_exit_threshold() -> None:
    # 0.00009 x 1095 = 0.09855 < 0.1
    decision = decide_exit(POSITION, snapshot("0.00009"), PARAMS, NOW)
    assert isinstance(decision, CloseDecision) and decision.reason == "rate_below_exit"
    # 0.0001 x 1095 = 0.1095 >= 0.1: keep
    assert decide_exit(POSITION, snapshot("0.0001"), PARAMS, NOW) is None


def test_exit_when_sign_flips_against_us() -> None:
    decision = decide_exit(POSITION, snapshot("-0.0005"), PARAMS, NOW)
    assert decision is not None and decision.reason == "sign_flipped"
    long_perp = replace(POSITION, direction=FundingDirection.NEGATIVE)
    assert decide_exit(long_perp, snapshot("-0.0005"), PARAMS, NOW) is None
    flipped = decide_exit(long_perp, snapshot("0.0005"), PARAMS, NOW)
    assert flipped is not None and flipped.reason == "sign_flipped"


def test_exit_at_max_holding_time() -> None:
    assert decide_exit(POSITION, snapshot("0.0005"), PARAMS, T0 + timedelta(days=14, seconds=-1)) is None
    decision = decide_exit(POSITION, snapshot("0.0005"), PARAMS, T0 + timedelta(days=14))
    assert decision is not None and decision.reason == "max_holding"


def test_exit_at_profit_target() -> None:
    params = replace(PARAMS, profit_target_usdt=D("5"))
    # 6 funding - 0.5 fees - 0.5 price = 5 -> hit
    hit = replace(POSITION, funding_received=D("6"), fees_paid=D("0.5"), unrealized_pnl=D("-0.5"))
    decision = decide_exit(hit, snapshot("0.0005"), params, NOW)
    assert decision is not None and decision.reason == "profit_target"
    not_yet = replace(hit, unrealized_pnl=D("-0.51"))
    assert decide_exit(not_yet, snapshot("0.0005"), params, NOW) is None


def test_exit_on_risk() -> None:
    forced = decide_exit(POSITION, snapshot("0.0005"), PARAMS, NOW, risk_reason="kill_switch")
    assert forced is not None and forced.reason == "risk" and forced.detail == "kill_switch"
    # mark 100, liquidation 109.99: distance 0.0999 < 10 % -> emergency close
    near = replace(POSITION, liquidation_price=D("109.99"))
    decision = decide_exit(near, snapshot("0.0005"), PARAMS, NOW)
    assert decision is not None and decision.reason == "risk"
    # exactly 10 % away is "reduce leverage", not a close
    assert decide_exit(replace(POSITION, liquidation_price=D("110")), snapshot("0.0005"), PARAMS, NOW) is None


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="bid <= ask"):
        snapshot(spot_bid=D("101"))
    with pytest.raises(ValueError, match="exit_annualized"):
        StrategyParams(entry_annualized=D("0.1"), exit_annualized=D("0.2"))
    with pytest.raises(ValueError, match="does not match"):
        decide_exit(replace(POSITION, symbol="ETH/USDT:USDT"), snapshot(), PARAMS, NOW)


def test_snapshot_from_one_price_for_backtests() -> None:
    snap = snapshot_at_price(Venue.OKX, "ETH/USDT:USDT", T0, D("0.001"), 4, D("2000"), half_spread_rate=D("0.0005"))
    assert (snap.spot_bid, snap.spot_ask, snap.perp_bid, snap.perp_ask) == (D("1999"), D("2001"), D("1999"), D("2001"))
    # relative spread 2 / 2000 = 0.001 per leg, both legs
    assert snap.spread_cost_rate == D("0.002")
    signal = decide_entry(snap, PARAMS, D("100"))
    # 72h at 4h without a next time: floor(72 / 4) = 18 settlements; cost 0.003 + 0.002 -> 5 / 1 + 1 = 6
    assert isinstance(signal, EntrySignal) and (signal.planned_settlements, signal.break_even_settlements) == (18, 6)
