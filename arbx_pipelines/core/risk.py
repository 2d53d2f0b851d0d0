"""Pre-trade risk limits from the seeds (DESIGN, "Risk"), circuit breaker and kill switch, as pure data.

The caller keeps a :class:`RiskState` (in the database or Redis), feeds every outcome through the ``record_*``
functions (each returns a new state) and asks :func:`check_trade` before any order leaves. A trade is allowed
only when no limit is violated; every violated limit is reported, not just the first, so alerts are complete.

Public API::

    class RiskLimitName(StrEnum): KILL_SWITCH, CIRCUIT_BREAKER, MIN_TRADE, MAX_TRADE, DAILY_AMOUNT, DAILY_COUNT,
        MAX_SINGLE_LOSS, MAX_DAILY_LOSS, MIN_PROFIT_RATE, VENUE_CAPITAL_SHARE, VENUE_RESERVE
    RiskLimits(min_trade_usdt=10, max_trade_usdt=150, daily_amount_usdt=1000, daily_trade_count=20,
               max_single_loss_usdt=10, max_daily_loss_usdt=25, min_profit_rate=0.001, circuit_breaker_failures=3,
               venue_capital_share={}, default_venue_capital_share=0.34, venue_reserve_usdt={},
               default_venue_reserve_usdt=10)
        .capital_share(venue) ; .reserve(venue)
    RiskState(day, traded_usdt=0, trade_count=0, realized_pnl_usdt=0, consecutive_failures=0,
              breaker_open=False, kill_switch=False)  .daily_loss_usdt
    AccountView(total_capital, venue_capital_used={}, venue_free_usdt={})
    TradeRequest(notional, capital_by_venue, expected_profit_rate, max_loss_usdt)
    RiskViolation(limit, detail) ; RiskVerdict(violations)  .allowed
    check_trade(request, limits, state, account) -> RiskVerdict
    trade_request_for_entry(signal, leverage, *, leg_risk_rate=0.01) -> TradeRequest
        capital = notional x (1 + 1/leverage) on the signal's venue; profit rate = signal.expected_net_rate;
        worst case = notional x (round-trip cost rate + leg_risk_rate)
    trade_request_for_spread(quote, buy_venue, *, leg_risk_rate=0.01) -> TradeRequest
        capital = buy cost on the buy venue; profit rate = quote.profit_rate; worst case = buy cost x leg_risk_rate
    roll_day(state, today) -> RiskState                      # new day resets daily counters, not breaker/kill
    record_trade(state, notional) -> RiskState               # an execution went out
    record_pnl(state, realized_pnl) -> RiskState             # realized P&L (negative = loss)
    record_failure(state, limits) -> RiskState               # opens the breaker at N consecutive failures
    record_success(state) -> RiskState                       # resets the failure count (breaker stays open)
    reset_circuit_breaker(state) -> RiskState                # a human decision
    set_kill_switch(state, engaged) -> RiskState
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from arbx_pipelines.core.allocation import capital_for
from arbx_pipelines.core.decision import EntrySignal
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.spread import SpreadQuote

# Worst-case adverse move on one unhedged leg while a failed or partial leg is corrected (an estimate, 1 %).
DEFAULT_LEG_RISK_RATE = Decimal("0.01")


class RiskLimitName(StrEnum):
    KILL_SWITCH = "kill_switch"
    CIRCUIT_BREAKER = "circuit_breaker"
    MIN_TRADE = "min_trade"
    MAX_TRADE = "max_trade"
    DAILY_AMOUNT = "daily_amount"
    DAILY_COUNT = "daily_count"
    MAX_SINGLE_LOSS = "max_single_loss"
    MAX_DAILY_LOSS = "max_daily_loss"
    MIN_PROFIT_RATE = "min_profit_rate"
    VENUE_CAPITAL_SHARE = "venue_capital_share"
    VENUE_RESERVE = "venue_reserve"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    min_trade_usdt: Decimal = Decimal("10")
    max_trade_usdt: Decimal = Decimal("150")
    daily_amount_usdt: Decimal = Decimal("1000")
    daily_trade_count: int = 20
    max_single_loss_usdt: Decimal = Decimal("10")
    max_daily_loss_usdt: Decimal = Decimal("25")
    min_profit_rate: Decimal = Decimal("0.001")
    circuit_breaker_failures: int = 3
    venue_capital_share: Mapping[Venue, Decimal] = field(default_factory=dict)
    default_venue_capital_share: Decimal = Decimal("0.34")
    venue_reserve_usdt: Mapping[Venue, Decimal] = field(default_factory=dict)
    default_venue_reserve_usdt: Decimal = Decimal("10")

    def __post_init__(self) -> None:
        if self.min_trade_usdt > self.max_trade_usdt:
            raise ValueError(f"min_trade_usdt {self.min_trade_usdt} exceeds max_trade_usdt {self.max_trade_usdt}")
        if self.circuit_breaker_failures < 1 or self.daily_trade_count < 1:
            raise ValueError("circuit_breaker_failures and daily_trade_count must be at least 1")

    def capital_share(self, venue: Venue) -> Decimal:
        return self.venue_capital_share.get(venue, self.default_venue_capital_share)

    def reserve(self, venue: Venue) -> Decimal:
        return self.venue_reserve_usdt.get(venue, self.default_venue_reserve_usdt)


@dataclass(frozen=True, slots=True)
class RiskState:
    """Today's counters and the switches. ``realized_pnl_usdt`` is signed: negative means a loss today."""

    day: date
    traded_usdt: Decimal = ZERO
    trade_count: int = 0
    realized_pnl_usdt: Decimal = ZERO
    consecutive_failures: int = 0
    breaker_open: bool = False
    kill_switch: bool = False

    @property
    def daily_loss_usdt(self) -> Decimal:
        return max(ZERO, -self.realized_pnl_usdt)


@dataclass(frozen=True, slots=True)
class AccountView:
    """Capital as the risk check needs it: total equity, capital committed per venue, free USDT per venue."""

    total_capital: Decimal
    venue_capital_used: Mapping[Venue, Decimal] = field(default_factory=dict)
    venue_free_usdt: Mapping[Venue, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TradeRequest:
    """One intended execution. ``capital_by_venue``: USDT it commits on each venue (spot cost + perp margin);
    ``max_loss_usdt``: its worst-case loss estimate (fees, spread, hedge slippage)."""

    notional: Decimal
    capital_by_venue: Mapping[Venue, Decimal]
    expected_profit_rate: Decimal
    max_loss_usdt: Decimal


@dataclass(frozen=True, slots=True)
class RiskViolation:
    limit: RiskLimitName
    detail: str


@dataclass(frozen=True, slots=True)
class RiskVerdict:
    violations: tuple[RiskViolation, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.violations

    def names(self) -> set[RiskLimitName]:
        return {violation.limit for violation in self.violations}


def _switch_violations(state: RiskState) -> list[RiskViolation]:
    found = []
    if state.kill_switch:
        found.append(RiskViolation(RiskLimitName.KILL_SWITCH, "kill switch engaged: no new trades"))
    if state.breaker_open:
        found.append(
            RiskViolation(
                RiskLimitName.CIRCUIT_BREAKER,
                f"circuit breaker open after {state.consecutive_failures} consecutive failures",
            )
        )
    return found


def _amount_violations(request: TradeRequest, limits: RiskLimits, state: RiskState) -> list[RiskViolation]:
    found = []
    if request.notional < limits.min_trade_usdt:
        found.append(RiskViolation(RiskLimitName.MIN_TRADE, f"{request.notional} < min {limits.min_trade_usdt}"))
    if request.notional > limits.max_trade_usdt:
        found.append(RiskViolation(RiskLimitName.MAX_TRADE, f"{request.notional} > max {limits.max_trade_usdt}"))
    if state.traded_usdt + request.notional > limits.daily_amount_usdt:
        found.append(
            RiskViolation(
                RiskLimitName.DAILY_AMOUNT,
                f"{state.traded_usdt} traded today + {request.notional} > {limits.daily_amount_usdt}",
            )
        )
    if state.trade_count + 1 > limits.daily_trade_count:
        found.append(
            RiskViolation(
                RiskLimitName.DAILY_COUNT,
                f"{state.trade_count} trades today, limit {limits.daily_trade_count}",
            )
        )
    return found


def _loss_violations(request: TradeRequest, limits: RiskLimits, state: RiskState) -> list[RiskViolation]:
    found = []
    if request.max_loss_usdt > limits.max_single_loss_usdt:
        found.append(
            RiskViolation(
                RiskLimitName.MAX_SINGLE_LOSS, f"worst case {request.max_loss_usdt} > {limits.max_single_loss_usdt}"
            )
        )
    if state.daily_loss_usdt + request.max_loss_usdt > limits.max_daily_loss_usdt:
        found.append(
            RiskViolation(
                RiskLimitName.MAX_DAILY_LOSS,
                f"lost {state.daily_loss_usdt} today + worst case {request.max_loss_usdt}"
                f" > {limits.max_daily_loss_usdt}",
            )
        )
    if request.expected_profit_rate < limits.min_profit_rate:
        found.append(
            RiskViolation(
                RiskLimitName.MIN_PROFIT_RATE, f"expected {request.expected_profit_rate} < {limits.min_profit_rate}"
            )
        )
    return found


def _venue_violations(request: TradeRequest, limits: RiskLimits, account: AccountView) -> list[RiskViolation]:
    found = []
    for venue, capital in sorted(request.capital_by_venue.items()):
        used = account.venue_capital_used.get(venue, ZERO) + capital
        cap = limits.capital_share(venue) * account.total_capital
        if used > cap:
            found.append(
                RiskViolation(
                    RiskLimitName.VENUE_CAPITAL_SHARE,
                    f"{venue}: {used} committed > {limits.capital_share(venue)} x {account.total_capital}",
                )
            )
        free_after = account.venue_free_usdt.get(venue, ZERO) - capital
        if free_after < limits.reserve(venue):
            found.append(
                RiskViolation(
                    RiskLimitName.VENUE_RESERVE, f"{venue}: {free_after} left < reserve {limits.reserve(venue)}"
                )
            )
    return found


def check_trade(request: TradeRequest, limits: RiskLimits, state: RiskState, account: AccountView) -> RiskVerdict:
    """Every limit this trade would break; allowed when there is none."""
    if request.notional <= 0:
        raise ValueError(f"trade notional must be positive, got {request.notional}")
    if account.total_capital <= 0:
        raise ValueError(f"total_capital must be positive, got {account.total_capital}")
    violations = (
        _switch_violations(state)
        + _amount_violations(request, limits, state)
        + _loss_violations(request, limits, state)
        + _venue_violations(request, limits, account)
    )
    return RiskVerdict(tuple(violations))


def trade_request_for_entry(
    signal: EntrySignal, leverage: int, *, leg_risk_rate: Decimal = DEFAULT_LEG_RISK_RATE
) -> TradeRequest:
    """The risk view of a funding entry, so the live path and the backtester estimate it the same way."""
    notional = signal.notional
    return TradeRequest(
        notional=notional,
        capital_by_venue={signal.venue: capital_for(notional, leverage)},
        expected_profit_rate=signal.expected_net_rate,
        max_loss_usdt=notional * (signal.cost_rate + leg_risk_rate),
    )


def trade_request_for_spread(
    quote: SpreadQuote, buy_venue: Venue, *, leg_risk_rate: Decimal = DEFAULT_LEG_RISK_RATE
) -> TradeRequest:
    """The risk view of a spot arbitrage: quote is spent on the buy venue; the sell venue sells inventory."""
    return TradeRequest(
        notional=quote.buy_cost,
        capital_by_venue={buy_venue: quote.buy_cost},
        expected_profit_rate=quote.profit_rate,
        max_loss_usdt=quote.buy_cost * leg_risk_rate,
    )


def roll_day(state: RiskState, today: date) -> RiskState:
    """Start a new trading day: daily counters reset; the breaker and the kill switch stay as they are."""
    if today == state.day:
        return state
    if today < state.day:
        raise ValueError(f"cannot roll back from {state.day} to {today}")
    return RiskState(
        day=today,
        consecutive_failures=state.consecutive_failures,
        breaker_open=state.breaker_open,
        kill_switch=state.kill_switch,
    )


def record_trade(state: RiskState, notional: Decimal) -> RiskState:
    return replace(state, traded_usdt=state.traded_usdt + notional, trade_count=state.trade_count + 1)


def record_pnl(state: RiskState, realized_pnl: Decimal) -> RiskState:
    return replace(state, realized_pnl_usdt=state.realized_pnl_usdt + realized_pnl)


def record_failure(state: RiskState, limits: RiskLimits) -> RiskState:
    failures = state.consecutive_failures + 1
    return replace(
        state,
        consecutive_failures=failures,
        breaker_open=state.breaker_open or failures >= limits.circuit_breaker_failures,
    )


def record_success(state: RiskState) -> RiskState:
    return replace(state, consecutive_failures=0)


def reset_circuit_breaker(state: RiskState) -> RiskState:
    return replace(state, consecutive_failures=0, breaker_open=False)


def set_kill_switch(state: RiskState, engaged: bool) -> RiskState:
    return replace(state, kill_switch=engaged)
