"""Every pre-trade risk limit blocks a trade that breaks it and allows one that does not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from arbx_pipelines.core.decision import EntrySignal, StrategyParams, decide_entry
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.risk import (
    AccountView,
    RiskLimitName,
    RiskLimits,
    RiskState,
    TradeRequest,
    check_trade,
    record_failure,
    record_pnl,
    record_success,
    record_trade,
    reset_circuit_breaker,
    roll_day,
    set_kill_switch,
    trade_request_for_entry,
    trade_request_for_spread,
)
from arbx_pipelines.core.spread import evaluate_spread
from tests.core.builders import snapshot

DAY = date(2024, 1, 1)
LIMITS = RiskLimits()  # seeds: 10..150 per trade, 1000 / 20 a day, losses 10 / 25, min rate 0.001, breaker 3
STATE = RiskState(day=DAY)
# 500 USDT account; Binance may hold 0.34 x 500 = 170 committed and must keep 10 free
ACCOUNT = AccountView(total_capital=D("500"), venue_free_usdt={Venue.BINANCE: D("200")})
REQUEST = TradeRequest(
    notional=D("100"),
    capital_by_venue={Venue.BINANCE: D("120")},
    expected_profit_rate=D("0.004"),
    max_loss_usdt=D("2"),
)

# (limit, changes that sit exactly on the limit -> allowed, changes just past it -> blocked)
Changes = dict[str, dict[str, Any]]
CASES: list[tuple[RiskLimitName, Changes, Changes]] = [
    (RiskLimitName.MIN_TRADE, {"request": {"notional": D("10")}}, {"request": {"notional": D("9.99")}}),
    (RiskLimitName.MAX_TRADE, {"request": {"notional": D("150")}}, {"request": {"notional": D("150.01")}}),
    (RiskLimitName.DAILY_AMOUNT, {"state": {"traded_usdt": D("900")}}, {"state": {"traded_usdt": D("900.01")}}),
    (RiskLimitName.DAILY_COUNT, {"state": {"trade_count": 19}}, {"state": {"trade_count": 20}}),
    (
        RiskLimitName.MAX_SINGLE_LOSS,
        {"request": {"max_loss_usdt": D("10")}},
        {"request": {"max_loss_usdt": D("10.01")}},
    ),
    # lost 15 today + worst case 10 = 25: on the limit; 15.01 + 10 is past it
    (
        RiskLimitName.MAX_DAILY_LOSS,
        {"state": {"realized_pnl_usdt": D("-15")}, "request": {"max_loss_usdt": D("10")}},
        {"state": {"realized_pnl_usdt": D("-15.01")}, "request": {"max_loss_usdt": D("10")}},
    ),
    (
        RiskLimitName.MIN_PROFIT_RATE,
        {"request": {"expected_profit_rate": D("0.001")}},
        {"request": {"expected_profit_rate": D("0.00099")}},
    ),
    # 50 already committed + 120 = 170 = 0.34 x 500
    (
        RiskLimitName.VENUE_CAPITAL_SHARE,
        {"account": {"venue_capital_used": {Venue.BINANCE: D("50")}}},
        {"account": {"venue_capital_used": {Venue.BINANCE: D("50.01")}}},
    ),
    # 130 free - 120 = 10 = reserve
    (
        RiskLimitName.VENUE_RESERVE,
        {"account": {"venue_free_usdt": {Venue.BINANCE: D("130")}}},
        {"account": {"venue_free_usdt": {Venue.BINANCE: D("129.99")}}},
    ),
    (RiskLimitName.KILL_SWITCH, {"state": {"kill_switch": False}}, {"state": {"kill_switch": True}}),
    (RiskLimitName.CIRCUIT_BREAKER, {"state": {"breaker_open": False}}, {"state": {"breaker_open": True}}),
]


def _verdict(changes: Changes) -> set[RiskLimitName]:
    request = replace(REQUEST, **changes.get("request", {}))
    state = replace(STATE, **changes.get("state", {}))
    account = replace(ACCOUNT, **changes.get("account", {}))
    return check_trade(request, LIMITS, state, account).names()


@pytest.mark.parametrize(("limit", "allowed", "blocked"), CASES, ids=[case[0].value for case in CASES])
def test_each_limit_blocks_only_past_its_value(limit: RiskLimitName, allowed: Changes, blocked: Changes) -> None:
    assert _verdict(allowed) == set()
    assert _verdict(blocked) == {limit}


def test_all_violations_are_reported_together() -> None:
    request = replace(REQUEST, notional=D("200"), expected_profit_rate=D("0"))
    verdict = check_trade(request, LIMITS, set_kill_switch(STATE, True), ACCOUNT)
    assert not verdict.allowed
    assert verdict.names() == {RiskLimitName.KILL_SWITCH, RiskLimitName.MAX_TRADE, RiskLimitName.MIN_PROFIT_RATE}


def test_venue_limits_use_per_venue_config() -> None:
    limits = replace(LIMITS, venue_capital_share={Venue.OKX: D("0.5")}, venue_reserve_usdt={Venue.OKX: D("0")})
    okx = replace(REQUEST, capital_by_venue={Venue.OKX: D("250")})
    # 250 = 0.5 x 500 and 250 free - 250 = 0 = reserve: both on the limit
    account = replace(ACCOUNT, venue_free_usdt={Venue.OKX: D("250")})
    assert check_trade(okx, limits, STATE, account).allowed
    assert check_trade(okx, replace(limits, venue_capital_share={}), STATE, account).names() == {
        RiskLimitName.VENUE_CAPITAL_SHARE
    }


def test_circuit_breaker_opens_after_n_consecutive_failures() -> None:
    state = record_failure(record_failure(STATE, LIMITS), LIMITS)
    assert check_trade(REQUEST, LIMITS, state, ACCOUNT).allowed  # 2 < 3
    state = record_failure(state, LIMITS)
    assert check_trade(REQUEST, LIMITS, state, ACCOUNT).names() == {RiskLimitName.CIRCUIT_BREAKER}
    # a later success resets the count but the breaker waits for a human
    state = record_success(state)
    assert state.consecutive_failures == 0 and state.breaker_open
    assert check_trade(REQUEST, LIMITS, reset_circuit_breaker(state), ACCOUNT).allowed
    # failures interrupted by a success do not add up
    interrupted = record_failure(record_success(record_failure(record_failure(STATE, LIMITS), LIMITS)), LIMITS)
    assert not interrupted.breaker_open and interrupted.consecutive_failures == 1


def test_daily_counters_roll_over_but_switches_stay() -> None:
    state = record_pnl(record_trade(STATE, D("100")), D("-30"))
    state = set_kill_switch(state, True)
    assert (state.traded_usdt, state.trade_count, state.daily_loss_usdt) == (D("100"), 1, D("30"))
    next_day = roll_day(state, date(2024, 1, 2))
    assert (next_day.traded_usdt, next_day.trade_count, next_day.daily_loss_usdt) == (D("0"), 0, D("0"))
    assert next_day.kill_switch
    assert roll_day(state, DAY) is state
    with pytest.raises(ValueError, match="roll back"):
        roll_day(next_day, DAY)


def test_a_profit_offsets_todays_losses() -> None:
    state = record_pnl(record_pnl(STATE, D("-20")), D("8"))
    assert state.daily_loss_usdt == D("12")
    assert record_pnl(state, D("50")).daily_loss_usdt == D("0")


def test_trade_request_for_an_entry_signal() -> None:
    signal = decide_entry(snapshot(), StrategyParams(), D("100"))
    assert isinstance(signal, EntrySignal)
    request = trade_request_for_entry(signal, 5)
    # notional 0.99 x 100.05 = 99.0495; capital x 1.2 = 118.8594; worst case x (0.005 cost + 0.01 leg risk)
    assert request.notional == D("99.0495")
    assert request.capital_by_venue == {Venue.BINANCE: D("118.8594")}
    assert request.max_loss_usdt == D("1.4857425")
    assert request.expected_profit_rate == D("0.004")
    assert check_trade(request, LIMITS, STATE, ACCOUNT).allowed


def test_trade_request_for_a_spread() -> None:
    quote = evaluate_spread([(D("100"), D("1"))], [(D("101"), D("1"))], D("1"), D("0"), D("0"))
    request = trade_request_for_spread(quote, Venue.OKX)
    assert request.capital_by_venue == {Venue.OKX: D("100")}
    assert (request.expected_profit_rate, request.max_loss_usdt) == (D("0.01"), D("1.00"))
