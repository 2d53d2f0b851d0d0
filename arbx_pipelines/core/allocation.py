"""Capital allocation over ranked opportunities: at most 60 % of capital in one coin, 75 % of the account in use,
perp leverage at most 5.

A funding hedge commits the spot leg in full plus the perp margin: capital = notional x (1 + 1 / leverage).
Requests are served greedily in rank order; each gets the largest notional (whole cents) that fits the per-trade
maximum, its coin's room and the account's room, or is skipped with the reason when that falls below the
per-trade minimum. Existing positions count against the caps.

Public API::

    AllocationParams(max_coin_share=0.6, max_account_share=0.75, max_leverage=5, min_trade_usdt=10,
                     max_trade_usdt=150)
    capital_for(notional, leverage) -> Decimal
    notional_for(capital, leverage) -> Decimal                 # rounded down to the cent
    AllocationRequest(venue, symbol, notional)                 # notional wanted (quote)
    allocate(requests, total_capital, params, *, leverage, used_by_coin={}, used_total=0) -> AllocationPlan
        AllocationPlan(leverage, allocations: tuple[Allocation, ...], skipped: tuple[SkippedRequest, ...])
        Allocation(venue, symbol, coin, notional, capital, leverage)
        SkippedRequest(venue, symbol, reason in {"coin_cap", "account_cap", "below_min_trade"}, detail)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import CENT, ZERO, quantize_down

ONE = Decimal(1)

SkipReason = Literal["coin_cap", "account_cap", "below_min_trade"]


@dataclass(frozen=True, slots=True)
class AllocationParams:
    max_coin_share: Decimal = Decimal("0.6")
    max_account_share: Decimal = Decimal("0.75")
    max_leverage: int = 5
    min_trade_usdt: Decimal = Decimal("10")
    max_trade_usdt: Decimal = Decimal("150")

    def __post_init__(self) -> None:
        if not 0 < self.max_coin_share <= 1 or not 0 < self.max_account_share <= 1:
            raise ValueError("max_coin_share and max_account_share must be in (0, 1]")
        if not 1 <= self.max_leverage <= 5:
            raise ValueError(f"max_leverage must be between 1 and 5, got {self.max_leverage}")
        if self.min_trade_usdt > self.max_trade_usdt:
            raise ValueError("min_trade_usdt must not exceed max_trade_usdt")


@dataclass(frozen=True, slots=True)
class AllocationRequest:
    venue: Venue
    symbol: str
    notional: Decimal


@dataclass(frozen=True, slots=True)
class Allocation:
    venue: Venue
    symbol: str
    coin: str
    notional: Decimal
    capital: Decimal
    leverage: int


@dataclass(frozen=True, slots=True)
class SkippedRequest:
    venue: Venue
    symbol: str
    reason: SkipReason
    detail: str


@dataclass(frozen=True, slots=True)
class AllocationPlan:
    leverage: int
    allocations: tuple[Allocation, ...] = field(default_factory=tuple)
    skipped: tuple[SkippedRequest, ...] = field(default_factory=tuple)

    @property
    def capital_used(self) -> Decimal:
        return sum((a.capital for a in self.allocations), ZERO)


def capital_for(notional: Decimal, leverage: int) -> Decimal:
    """Capital a 1:1 hedge of ``notional`` commits: the spot leg in full plus notional / leverage perp margin."""
    if leverage < 1:
        raise ValueError(f"leverage must be at least 1, got {leverage}")
    return notional * (ONE + ONE / Decimal(leverage))


def notional_for(capital: Decimal, leverage: int) -> Decimal:
    """The largest whole-cent notional whose hedge fits in ``capital``."""
    if leverage < 1:
        raise ValueError(f"leverage must be at least 1, got {leverage}")
    return quantize_down(max(capital, ZERO) * Decimal(leverage) / Decimal(leverage + 1), CENT)


def allocate(
    requests: Sequence[AllocationRequest],
    total_capital: Decimal,
    params: AllocationParams,
    *,
    leverage: int,
    used_by_coin: Mapping[str, Decimal] | None = None,
    used_total: Decimal = ZERO,
) -> AllocationPlan:
    """Allocate capital to ``requests`` (best first). ``leverage`` above ``params.max_leverage`` is capped."""
    if total_capital <= 0:
        raise ValueError(f"total_capital must be positive, got {total_capital}")
    if leverage < 1:
        raise ValueError(f"leverage must be at least 1, got {leverage}")
    lev = min(leverage, params.max_leverage)
    coin_used: dict[str, Decimal] = dict(used_by_coin or {})
    account_room = params.max_account_share * total_capital - used_total
    coin_cap = params.max_coin_share * total_capital
    allocations: list[Allocation] = []
    skipped: list[SkippedRequest] = []
    for request in requests:
        coin = base_of(request.symbol)
        coin_room = coin_cap - coin_used.get(coin, ZERO)
        wanted = capital_for(min(request.notional, params.max_trade_usdt), lev)
        capital_available = min(wanted, coin_room, account_room)
        notional = notional_for(capital_available, lev)
        if notional < params.min_trade_usdt:
            reason: SkipReason = "coin_cap" if coin_room <= account_room else "account_cap"
            if request.notional < params.min_trade_usdt:
                reason = "below_min_trade"
            skipped.append(
                SkippedRequest(
                    request.venue,
                    request.symbol,
                    reason,
                    f"room for {notional} notional (coin {coin_room}, account {account_room}) "
                    f"< min trade {params.min_trade_usdt}",
                )
            )
            continue
        capital = capital_for(notional, lev)
        coin_used[coin] = coin_used.get(coin, ZERO) + capital
        account_room -= capital
        allocations.append(Allocation(request.venue, request.symbol, coin, notional, capital, lev))
    return AllocationPlan(lev, tuple(allocations), tuple(skipped))
