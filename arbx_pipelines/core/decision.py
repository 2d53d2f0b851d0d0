"""Funding-arbitrage entry and exit decisions: ONE set of functions called by the live sensors and the backtester.

Drivers build a :class:`MarketSnapshot` per (venue, perp symbol) from whatever they have (live tickers and order
books, or recorded history), a :class:`StrategyParams` from config (``arbx_pipelines.config.adapters``), and call:

    decide_entry(snapshot, params, notional, *, spot_inventory_base=0) -> EntrySignal | Rejection
        Opens when |annualized| >= params.entry_annualized, the break-even number of settlements (fees of both
        legs in and out + spread crossing + slippage, plus borrow interest when the spot leg is borrowed) fits the
        planned holding time, visible depth allows ``notional`` (quote), and the rounded 1:1 hedge passes both
        legs' min amount / min notional. Positive funding: short perp + buy spot. Negative funding: long perp +
        sell spot from ``spot_inventory_base`` (or borrowed when ``params.allow_margin_borrow``).
        Rejection.reason is a RejectReason (a str): "below_threshold", "no_inventory_for_negative_funding",
        "break_even_too_long", "insufficient_liquidity", "min_amount", "min_notional".

    decide_exit(position, snapshot, params, now, *, risk_reason=None, forecast_annualized=None) -> CloseDecision | None
        CloseDecision.reason is a CloseReason (a str), checked in this order: "risk" (``risk_reason`` given, e.g.
        kill switch, or the liquidation tier is emergency_close), "sign_flipped", "rate_below_exit",
        "max_holding", "profit_target".

Data types (frozen dataclasses, Decimal money, timezone-aware datetimes):

    VenueFees(spot_taker=0.001, perp_taker=0.0005)
    StrategyParams(entry_annualized=0.5, exit_annualized=0.1, max_holding_days=14, planned_holding_hours=72,
                   profit_target_usdt=None, allow_margin_borrow=False, margin_borrow_daily_rate=0,
                   fees={}, default_fees=VenueFees(), max_book_share=0.5, position_risk=PositionRiskParams(),
                   spot_inventory={})
        .fees_for(venue) -> VenueFees
        .declared_coins(venue) -> {coin: Decimal}; .declared_inventory(venue, coin) -> Decimal
                                        # coins the user lets negative-funding hedges sell there
    MarketSnapshot(venue, symbol, time, rate, interval_hours, next_funding_time, mark_price,
                   spot_bid, spot_ask, perp_bid, perp_ask, expected_slippage_rate=0,
                   spot_bid_depth=None, spot_ask_depth=None, perp_bid_depth=None, perp_ask_depth=None,
                   spot_rules=MarketRules(), perp_rules=MarketRules())
        .annualized, .spot_mid, .perp_mid, .spread_cost_rate
        Depths are quote notionals available on that side within the tolerated slippage; None = unknown, not
        checked (recorded history has no books).
    snapshot_at_price(venue, symbol, time, rate, interval_hours, price, *, next_funding_time=None,
                      half_spread_rate=0, expected_slippage_rate=0) -> MarketSnapshot      # for the backtester
    EntrySignal(venue, symbol, time, direction, rate, interval_hours, annualized, cost_rate,
                carry_cost_per_settlement, break_even_settlements, planned_settlements, expected_net_rate,
                size: HedgeSize, uses_margin_borrow, expected_slippage_rate)
        .notional, .spot_side, .perp_side
    Rejection(venue, symbol, time, reason: RejectReason, detail)
    PositionState(venue, symbol, direction, opened_at, base_amount, entry_notional, funding_received=0,
                  fees_paid=0, unrealized_pnl=0, liquidation_price=None)
        .net_pnl
    CloseDecision(venue, symbol, time, reason: CloseReason, detail)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from arbx_pipelines.core.decision_inputs import MarketSnapshot, StrategyParams
from arbx_pipelines.core.funding import (
    HOURS_PER_DAY,
    break_even_settlements,
    round_trip_cost_rate,
    settlements_within,
)
from arbx_pipelines.core.hedge import FundingDirection, Leg
from arbx_pipelines.core.models import Side, Venue
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.position_risk import (
    LiquidationTier,
    assess_liquidation,
)
from arbx_pipelines.core.sizing import HedgeSize, SizingRejection, size_hedge


class RejectReason(StrEnum):
    BELOW_THRESHOLD = "below_threshold"
    NO_INVENTORY = "no_inventory_for_negative_funding"
    BREAK_EVEN_TOO_LONG = "break_even_too_long"
    INSUFFICIENT_LIQUIDITY = "insufficient_liquidity"
    MIN_AMOUNT = "min_amount"
    MIN_NOTIONAL = "min_notional"


class CloseReason(StrEnum):
    RISK = "risk"
    SIGN_FLIPPED = "sign_flipped"
    RATE_BELOW_EXIT = "rate_below_exit"
    MAX_HOLDING = "max_holding"
    PROFIT_TARGET = "profit_target"


@dataclass(frozen=True, slots=True)
class EntrySignal:
    venue: Venue
    symbol: str
    time: datetime
    direction: FundingDirection
    rate: Decimal
    interval_hours: int
    annualized: Decimal
    cost_rate: Decimal
    carry_cost_per_settlement: Decimal
    break_even_settlements: int
    planned_settlements: int
    expected_net_rate: Decimal
    size: HedgeSize
    uses_margin_borrow: bool
    expected_slippage_rate: Decimal

    @property
    def notional(self) -> Decimal:
        return self.size.notional

    @property
    def spot_side(self) -> Side:
        return self.direction.opening_side(Leg.SPOT)

    @property
    def perp_side(self) -> Side:
        return self.direction.opening_side(Leg.PERP)


@dataclass(frozen=True, slots=True)
class Rejection:
    venue: Venue
    symbol: str
    time: datetime
    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class PositionState:
    venue: Venue
    symbol: str
    direction: FundingDirection
    opened_at: datetime
    base_amount: Decimal
    entry_notional: Decimal
    funding_received: Decimal = ZERO
    fees_paid: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    liquidation_price: Decimal | None = None

    @property
    def net_pnl(self) -> Decimal:
        """Funding received plus price P&L of both legs, minus fees paid so far."""
        return self.funding_received + self.unrealized_pnl - self.fees_paid


@dataclass(frozen=True, slots=True)
class CloseDecision:
    venue: Venue
    symbol: str
    time: datetime
    reason: CloseReason
    detail: str


def _taken_depths(snapshot: MarketSnapshot, direction: FundingDirection) -> tuple[Decimal | None, Decimal | None]:
    """Depth (quote) on the book sides the entry takes: spot asks + perp bids, or spot bids + perp asks."""
    if direction.short_perp:
        return snapshot.spot_ask_depth, snapshot.perp_bid_depth
    return snapshot.spot_bid_depth, snapshot.perp_ask_depth


def decide_entry(
    snapshot: MarketSnapshot,
    params: StrategyParams,
    notional: Decimal,
    *,
    spot_inventory_base: Decimal = ZERO,
) -> EntrySignal | Rejection:
    """Whether to open a funding hedge of about ``notional`` (quote) now, and at which rounded size."""

    def reject(reason: RejectReason, detail: str) -> Rejection:
        return Rejection(snapshot.venue, snapshot.symbol, snapshot.time, reason, detail)

    if notional <= 0:
        raise ValueError(f"notional must be positive, got {notional}")
    annualized = snapshot.annualized
    if abs(annualized) < params.entry_annualized or snapshot.rate == 0:
        return reject(RejectReason.BELOW_THRESHOLD, f"|annualized| {abs(annualized)} < {params.entry_annualized}")
    direction = FundingDirection.of_rate(snapshot.rate)
    spot_price = snapshot.spot_ask if direction.short_perp else snapshot.spot_bid
    perp_price = snapshot.perp_bid if direction.short_perp else snapshot.perp_ask
    target_base = notional / spot_price
    wanted = notional

    uses_borrow = False
    if not direction.short_perp:
        if spot_inventory_base >= target_base:
            pass
        elif params.allow_margin_borrow:
            uses_borrow = True
        elif spot_inventory_base > 0:
            target_base = spot_inventory_base
            wanted = target_base * spot_price
        else:
            return reject(RejectReason.NO_INVENTORY, "negative funding needs spot inventory or margin borrowing")

    fees = params.fees_for(snapshot.venue)
    cost_rate = round_trip_cost_rate(fees.spot_taker, fees.perp_taker, snapshot.spread_cost_rate)
    carry = params.margin_borrow_daily_rate * Decimal(snapshot.interval_hours) / HOURS_PER_DAY if uses_borrow else ZERO
    break_even = break_even_settlements(snapshot.rate, cost_rate, carry_cost_per_settlement=carry)
    planned = settlements_within(
        params.planned_holding_hours,
        snapshot.interval_hours,
        now=snapshot.time,
        next_funding_time=snapshot.next_funding_time,
    )
    if break_even is None or break_even > planned:
        return reject(
            RejectReason.BREAK_EVEN_TOO_LONG,
            f"break-even after {break_even} settlements, {planned} fit in {params.planned_holding_hours}h",
        )

    for leg, depth in zip((Leg.SPOT, Leg.PERP), _taken_depths(snapshot, direction), strict=True):
        if depth is not None and wanted > depth * params.max_book_share:
            return reject(
                RejectReason.INSUFFICIENT_LIQUIDITY,
                f"{leg} depth {depth} x share {params.max_book_share} < notional {wanted}",
            )

    sized = size_hedge(target_base, spot_price, perp_price, snapshot.spot_rules, snapshot.perp_rules)
    if isinstance(sized, SizingRejection):
        return reject(RejectReason(sized.reason), sized.detail)

    return EntrySignal(
        venue=snapshot.venue,
        symbol=snapshot.symbol,
        time=snapshot.time,
        direction=direction,
        rate=snapshot.rate,
        interval_hours=snapshot.interval_hours,
        annualized=annualized,
        cost_rate=cost_rate,
        carry_cost_per_settlement=carry,
        break_even_settlements=break_even,
        planned_settlements=planned,
        expected_net_rate=(abs(snapshot.rate) - carry) * planned - cost_rate,
        size=sized,
        uses_margin_borrow=uses_borrow,
        expected_slippage_rate=snapshot.expected_slippage_rate,
    )


def decide_exit(
    position: PositionState,
    snapshot: MarketSnapshot,
    params: StrategyParams,
    now: datetime,
    *,
    risk_reason: str | None = None,
    forecast_annualized: Decimal | None = None,
) -> CloseDecision | None:
    """Whether to close an open hedge now, and why. ``risk_reason`` lets the risk layer (kill switch, anomaly,
    daily loss) force a close through the same path; ``forecast_annualized`` (the mean rate forecast over the
    planned holding time, ``core.funding_rules``) replaces the last rate in the exit-threshold test."""
    if (position.venue, position.symbol) != (snapshot.venue, snapshot.symbol):
        raise ValueError(
            f"snapshot {snapshot.venue} {snapshot.symbol} does not match position {position.venue} {position.symbol}"
        )

    def close(reason: CloseReason, detail: str) -> CloseDecision:
        return CloseDecision(position.venue, position.symbol, now, reason, detail)

    if risk_reason:
        return close(CloseReason.RISK, risk_reason)
    tier = assess_liquidation(snapshot.mark_price, position.liquidation_price, params.position_risk)
    if tier is LiquidationTier.EMERGENCY_CLOSE:
        return close(CloseReason.RISK, f"liquidation distance tier {tier}")

    in_our_favour = snapshot.annualized * position.direction.sign
    if in_our_favour < 0:
        return close(CloseReason.SIGN_FLIPPED, f"annualized {snapshot.annualized} now against a {position.direction}")
    expected = in_our_favour if forecast_annualized is None else forecast_annualized * position.direction.sign
    if expected < params.exit_annualized:
        what = "annualized" if forecast_annualized is None else "forecast annualized"
        return close(CloseReason.RATE_BELOW_EXIT, f"{what} {expected} < exit {params.exit_annualized}")
    held = now - position.opened_at
    if held >= timedelta(days=params.max_holding_days):
        return close(CloseReason.MAX_HOLDING, f"held {held} >= {params.max_holding_days} days")
    if params.profit_target_usdt is not None and position.net_pnl >= params.profit_target_usdt:
        return close(CloseReason.PROFIT_TARGET, f"net P&L {position.net_pnl} >= {params.profit_target_usdt}")
    return None
