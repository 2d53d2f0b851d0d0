"""One hedge held as the live system holds it: both legs marked to market at every settlement, the perp margined
at the position's leverage, and the live liquidation-distance rules applied at every settlement's check.

A hedge of ``quantity`` coins per leg opens at settlement ``e`` (spot ``S_e``, perp ``P_e``): the spot leg costs
``q S_e`` and the perp wallet holds the margin ``W = q P_e / leverage``. At each held settlement ``k``:

- funding ``d x rate_k x q x P_k`` (d = +1 short perp, -1 long perp) is paid into the perp wallet;
- the marks move by ``d x q x change of (S - P)``: the basis P&L (price moves of the two legs cancel otherwise);
- the perp's distance to liquidation (cross-margin estimate: wallet equity ``W - d q (P - P_e)`` reaching the
  maintenance margin ``mm q P``) is checked with the live tiers (``core.position_risk.liquidation_tier``):
  reduce_leverage moves the sleeve's spare cash into the perp wallet (as ``reduce_leverage`` does) and, when that
  is not enough, cuts both legs in half with their fees (its close of half the hedge; the spot proceeds become
  spare cash); emergency_close closes the hedge; a price already beyond the liquidation price books a
  liquidation: the perp wallet is lost, the spot leg is sold.

Costs: each leg pays its venue fee on its traded value (``fees``); the half spread and slippage (basis points of
each leg's value) are ``other_pnl`` together with what a liquidation forfeits, so
``pnl = funding - fees + basis_pnl + other_pnl`` exactly. Without prices both legs are marked at 1 (a hedge kept at
constant notional, no basis).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from arbx_pipelines.core.backtest.data import FloatArray, IntArray, Series, from_epoch_seconds
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.core.forecast.signals import MAINTENANCE_MARGIN
from arbx_pipelines.core.position_risk import DEFAULT_POSITION_RISK, LiquidationTier, liquidation_tier

REDUCE_LEVEL = float(DEFAULT_POSITION_RISK.reduce_leverage)
TARGET_LEVEL = float(DEFAULT_POSITION_RISK.medium)
HALF = 0.5


@dataclass(frozen=True)
class Adjustment:
    time: int
    quantity_change: float  # coins per leg (negative: both legs cut)
    fees: float
    transferred: float  # USDT moved from spare cash into the perp wallet

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": from_epoch_seconds(self.time).isoformat(),
            "quantity_change": self.quantity_change,
            "fees": self.fees,
            "transferred": self.transferred,
        }


@dataclass
class HeldTrade:
    """A round trip as it was actually held (possibly ended early by the risk rules)."""

    direction: int
    entry_index: int
    first: int
    last: int
    entry_time: int
    exit_time: int
    close_reason: str
    leverage: float
    quantity: float
    spot_entry: float
    perp_entry: float
    spot_exit: float = 0.0
    perp_exit: float = 0.0
    funding: float = 0.0
    fees: float = 0.0
    spread: float = 0.0
    slippage: float = 0.0
    basis_pnl: float = 0.0
    forfeited: float = 0.0  # perp wallet equity lost to a liquidation (negative: a loss beyond it not charged)
    committed: float = 0.0
    margin_events: int = 0
    liquidated: bool = False
    adjustments: list[Adjustment] = field(default_factory=list)

    @property
    def other_pnl(self) -> float:
        return -(self.spread + self.slippage + self.forfeited)

    @property
    def pnl(self) -> float:
        return self.funding - self.fees + self.basis_pnl + self.other_pnl


@dataclass
class Marks:
    """The P&L events of one series: (time, amount) pairs and funding per settlement."""

    funding: FloatArray
    times: list[IntArray] = field(default_factory=list)
    amounts: list[FloatArray] = field(default_factory=list)
    cost_times: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)  # fees + spread + slippage (+ forfeited margin) per trade

    def add(self, times: IntArray, amounts: FloatArray) -> None:
        self.times.append(times)
        self.amounts.append(amounts)

    def add_cost(self, time: int, amount: float) -> None:
        """A cost (positive) booked at ``time``: an entry, exit, cut or liquidation."""
        self.add(np.array([time], dtype=np.int64), np.array([-amount]))
        self.cost_times.append(time)
        self.costs.append(amount)

    def merge(self, other: Marks, lo: int) -> None:
        """Add ``other``'s events after these, and its funding (of settlements ``lo`` on) to theirs."""
        self.funding[lo : lo + other.funding.size] += other.funding
        self.times += other.times
        self.amounts += other.amounts
        self.cost_times += other.cost_times
        self.costs += other.costs

    def event_times(self) -> IntArray:
        return np.concatenate(self.times) if self.times else np.zeros(0, np.int64)

    def event_pnl(self) -> FloatArray:
        return np.concatenate(self.amounts) if self.amounts else np.zeros(0)


class LegCosts:
    """Fee, half-spread and slippage rates of one venue's two legs."""

    def __init__(self, params: BacktestParams, venue: str) -> None:
        self.spot_fee, self.perp_fee = params.fees_for(venue)
        self.spread = params.spread_bps / 1e4
        self.slippage = params.slippage_bps / 1e4

    def charge(self, held: HeldTrade, quantity: float, spot: float, perp: float | None) -> float:
        """Book trading ``quantity`` of both legs (only the spot leg when ``perp`` is None); returns the total."""
        value = quantity * spot + (0.0 if perp is None else quantity * perp)
        fees = quantity * spot * self.spot_fee + (0.0 if perp is None else quantity * perp * self.perp_fee)
        held.fees += fees
        held.spread += value * self.spread
        held.slippage += value * self.slippage
        return fees + value * (self.spread + self.slippage)


def prices_of(item: Series) -> tuple[FloatArray, FloatArray]:
    """(spot, perp) price per settlement; ones without prices."""
    if item.prices is None:
        ones = np.ones(len(item))
        return ones, ones
    perp = item.perp
    assert perp is not None
    return item.prices, perp


def distance_to_liquidation(
    direction: int, quantity: float, wallet: FloatArray, entry: float, price: FloatArray
) -> Any:
    """Signed distance of ``price`` to the liquidation price (negative: beyond it)."""
    if direction > 0:
        liquidation = (wallet + quantity * entry) / (quantity * (1 + MAINTENANCE_MARGIN))
        return (liquidation - price) / price
    liquidation = (quantity * entry - wallet) / (quantity * (1 - MAINTENANCE_MARGIN))
    return (price - liquidation) / price


def hold(
    item: Series,
    direction: int,
    entry_index: int,
    first: int,
    last: int,
    entry_time: int,
    reason: str,
    *,
    notional: float,
    leverage: float,
    spare_cash: float,
    costs: LegCosts,
    marks: Marks,
) -> HeldTrade:
    """Hold the hedge from ``entry_index`` through settlement ``last`` (or until the risk rules end it)."""
    spot, perp = prices_of(item)
    rates, times = item.rates, item.times
    q = notional / float(spot[entry_index])
    s_e, p_e = float(spot[entry_index]), float(perp[entry_index])
    wallet = q * p_e / leverage
    held = HeldTrade(direction, entry_index, first, last, entry_time, entry_time, reason, leverage, q, s_e, p_e)
    held.committed = q * s_e + wallet
    marks.add_cost(entry_time, costs.charge(held, q, s_e, p_e))
    reference = s_e - p_e  # the basis level the marks have reached
    cash = spare_cash
    spare_left = spare_cash  # committed capital grows only by cash that was not in the hedge already
    pos = first
    exit_at = last
    while pos <= last:
        idx = np.arange(pos, last + 1)
        funding = direction * rates[idx] * q * perp[idx]
        running = wallet + np.cumsum(funding)
        distance = distance_to_liquidation(direction, q, running, p_e, perp[idx])
        breached = np.flatnonzero(distance < REDUCE_LEVEL)
        stop = int(breached[0]) if breached.size else idx.size - 1
        liquidated = bool(breached.size) and float(distance[stop]) <= 0
        if liquidated:
            funding[stop] = 0.0  # liquidated before this settlement: its funding never arrived
        segment = idx[: stop + 1]
        level = spot[segment] - perp[segment]
        basis = direction * q * np.diff(np.concatenate([[reference], level]))
        reference = float(level[-1])
        marks.funding[segment] += funding[: stop + 1]
        marks.add(times[segment], funding[: stop + 1] + basis)
        held.funding += float(funding[: stop + 1].sum())
        held.basis_pnl += float(basis.sum())
        wallet = wallet + float(funding[: stop + 1].sum())
        if not breached.size:
            break
        k = int(idx[stop])
        s_k, p_k = float(spot[k]), float(perp[k])
        if liquidated:
            equity = wallet - direction * q * (p_k - p_e)
            held.forfeited += equity
            held.liquidated, held.close_reason = True, "liquidation"
            marks.add_cost(int(times[k]), equity + costs.charge(held, q, s_k, None))
            held.spot_exit, held.perp_exit, held.last, held.exit_time = s_k, p_k, k, int(times[k])
            return held
        tier = liquidation_tier(Decimal(repr(float(distance[stop]))))
        if tier is LiquidationTier.EMERGENCY_CLOSE:
            held.close_reason, exit_at = "risk", k
            break
        held.margin_events += 1
        wallet, cash, moved = _add_margin(direction, q, wallet, cash, p_e, p_k)
        change, fee_total = 0.0, 0.0
        if float(distance_to_liquidation(direction, q, np.array([wallet]), p_e, np.array([p_k]))[0]) < REDUCE_LEVEL:
            cut = q * HALF
            before = held.fees
            marks.add_cost(int(times[k]), costs.charge(held, cut, s_k, p_k))
            fee_total = held.fees - before
            wallet -= direction * cut * (p_k - p_e)  # the closed half's perp P&L is realized in the wallet
            cash += cut * s_k if direction > 0 else 0.0  # the sold spot half becomes spare cash
            q -= cut
            change = -cut
            wallet, cash, more = _add_margin(direction, q, wallet, cash, p_e, p_k)
            moved += more
        from_spare = min(moved, spare_left)
        spare_left -= from_spare
        held.committed += from_spare
        held.adjustments.append(Adjustment(int(times[k]), change, fee_total, moved))
        pos = k + 1
    s_x, p_x = float(spot[exit_at]), float(perp[exit_at])
    marks.add_cost(int(times[exit_at]), costs.charge(held, q, s_x, p_x))
    held.spot_exit, held.perp_exit, held.last, held.exit_time = s_x, p_x, exit_at, int(times[exit_at])
    return held


def _add_margin(
    direction: int, q: float, wallet: float, cash: float, entry: float, price: float
) -> tuple[float, float, float]:
    """Move spare cash into the perp wallet toward the medium tier (the live reduce_leverage transfer)."""
    distance = float(distance_to_liquidation(direction, q, np.array([wallet]), entry, np.array([price]))[0])
    wanted = max(0.0, (TARGET_LEVEL - distance) * price * q)
    moved = min(wanted, max(cash, 0.0))
    return wallet + moved, cash - moved, moved
