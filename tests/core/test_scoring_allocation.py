"""Scoring weights, ranking, and capital allocation caps."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from arbx_pipelines.core.allocation import (
    AllocationParams,
    AllocationRequest,
    allocate,
    capital_for,
    notional_for,
)
from arbx_pipelines.core.decision import EntrySignal, StrategyParams, decide_entry
from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.scoring import ScoringParams, persistence, score
from tests.core.builders import snapshot

PARAMS = ScoringParams()


def test_score_weights_by_hand() -> None:
    # yield 1.0 / cap 2 = 0.5; liquidity 1 - 0.001 / 0.005 = 0.8; persistence 0.5; factor 0.8
    # (0.6 x 0.5 + 0.2 x 0.5 + 0.2 x 0.8) x 0.8 = 0.56 x 0.8 = 0.448
    factor = replace(PARAMS, venue_risk_factor={Venue.OKX: D("0.8")})
    breakdown = score(D("1.0"), D("0.5"), D("0.001"), Venue.OKX, factor)
    assert (breakdown.yield_score, breakdown.liquidity_score) == (D("0.5"), D("0.8"))
    assert breakdown.score == D("0.448")
    # each component alone carries exactly its weight
    assert score(D("2"), D("0"), D("0.005"), Venue.BINANCE, PARAMS).score == D("0.6")
    assert score(D("0"), D("1"), D("0.005"), Venue.BINANCE, PARAMS).score == D("0.2")
    assert score(D("0"), D("0"), D("0"), Venue.BINANCE, PARAMS).score == D("0.2")
    # yield is capped and slippage beyond the max scores zero liquidity
    assert score(D("-5"), D("1"), D("0.01"), Venue.BINANCE, PARAMS).score == D("0.8")


def test_weights_must_sum_to_one() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        ScoringParams(yield_weight=D("0.7"))


def test_persistence_counts_settlements_paying_our_side() -> None:
    rates = [D("0.001"), D("0.0005"), D("-0.0001"), D("0.0002")]
    assert persistence(rates, FundingDirection.POSITIVE) == D("0.75")
    assert persistence(rates, FundingDirection.NEGATIVE) == D("0.25")
    assert persistence([], FundingDirection.POSITIVE) == D("0")


def _signal(rate: str, venue: Venue, symbol: str) -> EntrySignal:
    result = decide_entry(snapshot(rate, venue=venue, symbol=symbol), StrategyParams(), D("100"))
    assert isinstance(result, EntrySignal), result
    return result


def test_score_orders_by_yield_persistence_and_venue_risk_factor() -> None:
    btc = _signal("0.001", Venue.BINANCE, "BTC/USDT:USDT")  # annualized 1.095
    eth = _signal("0.002", Venue.BITGET, "ETH/USDT:USDT")  # annualized 2.19 -> capped yield 1

    def of(signal: EntrySignal, share: str, params: ScoringParams = PARAMS) -> D:
        return score(signal.annualized, D(share), signal.expected_slippage_rate, signal.venue, params).score

    # BTC: 0.6 x 0.5475 + 0.2 x 1 + 0.2 x 1 = 0.7285; ETH: 0.6 + 0 + 0.2 = 0.8
    assert (of(eth, "0"), of(btc, "1")) == (D("0.8"), D("0.7285"))
    # Bitget at risk factor 0.5: ETH 0.4 drops below BTC
    risky = replace(PARAMS, venue_risk_factor={Venue.BITGET: D("0.5")})
    assert of(eth, "0", risky) == D("0.4") < of(btc, "1", risky)


ALLOC = AllocationParams(max_trade_usdt=D("1000"))


def test_capital_of_a_hedge() -> None:
    # spot in full + 1/5 margin
    assert capital_for(D("250"), 5) == D("300")
    assert notional_for(D("300"), 5) == D("250")
    assert notional_for(D("100"), 2) == D("66.66")  # 100 x 2/3 rounded down to the cent


def test_allocation_caps_per_coin_and_account() -> None:
    requests = [
        AllocationRequest(Venue.BINANCE, "BTC/USDT:USDT", D("400")),
        AllocationRequest(Venue.OKX, "BTC/USDT:USDT", D("400")),
        AllocationRequest(Venue.BINANCE, "ETH/USDT:USDT", D("400")),
        AllocationRequest(Venue.BITGET, "SOL/USDT:USDT", D("100")),
    ]
    plan = allocate(requests, D("500"), ALLOC, leverage=5)
    # BTC wants 400 x 1.2 = 480 capital; the coin cap is 0.6 x 500 = 300 -> 250 notional
    # second BTC: coin room 0; ETH: account room 0.75 x 500 - 300 = 75 -> 62.50 notional; SOL: nothing left
    assert [(a.symbol, a.notional, a.capital) for a in plan.allocations] == [
        ("BTC/USDT:USDT", D("250"), D("300")),
        ("ETH/USDT:USDT", D("62.50"), D("75")),
    ]
    assert [(s.venue, s.reason) for s in plan.skipped] == [(Venue.OKX, "coin_cap"), (Venue.BITGET, "account_cap")]
    assert plan.capital_used == D("375")


def test_leverage_is_capped_at_five() -> None:
    plan = allocate([AllocationRequest(Venue.BINANCE, "BTC/USDT:USDT", D("100"))], D("500"), ALLOC, leverage=10)
    assert plan.leverage == 5 and plan.allocations[0].leverage == 5
    assert plan.allocations[0].capital == D("120")
    # with leverage 1 the hedge commits twice its notional: coin cap 300 -> 150 notional
    plan = allocate([AllocationRequest(Venue.BINANCE, "BTC/USDT:USDT", D("400"))], D("500"), ALLOC, leverage=1)
    assert (plan.allocations[0].notional, plan.allocations[0].capital) == (D("150"), D("300"))
    with pytest.raises(ValueError, match="between 1 and 5"):
        AllocationParams(max_leverage=6)


def test_existing_positions_count_against_caps() -> None:
    request = [AllocationRequest(Venue.BINANCE, "BTC/USDT:USDT", D("400"))]
    # 240 of BTC's 300 already used -> 60 capital -> 50 notional
    plan = allocate(request, D("500"), ALLOC, leverage=5, used_by_coin={"BTC": D("240")}, used_total=D("240"))
    assert plan.allocations[0].notional == D("50")
    # account already at 370 of 375: 5 capital -> 4.16 notional < min trade 10
    plan = allocate(request, D("500"), ALLOC, leverage=5, used_total=D("370"))
    assert not plan.allocations and plan.skipped[0].reason == "account_cap"


def test_per_trade_bounds_apply() -> None:
    params = AllocationParams()  # max trade 150
    plan = allocate([AllocationRequest(Venue.BINANCE, "BTC/USDT:USDT", D("400"))], D("500"), params, leverage=5)
    assert plan.allocations[0].notional == D("150")
    tiny = allocate([AllocationRequest(Venue.BINANCE, "BTC/USDT:USDT", D("5"))], D("500"), params, leverage=5)
    assert tiny.skipped[0].reason == "below_min_trade"
