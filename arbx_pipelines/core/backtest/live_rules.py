"""The one door between the backtester and the live entry/exit rules.

The backtester must decide exactly as the live sensors do (DESIGN: "one decision function, two drivers"), so every
entry and exit decision of the ``threshold`` strategy is made here, by the live decision functions, from a snapshot
of what was known at that settlement. Only this module knows their signatures; the engine passes plain values.

Until ``core/decision.py`` lands, the rules below restate DESIGN's funding rules; switching to the live functions
is a change to this file only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from arbx_pipelines.core.backtest.params import BacktestParams

SHORT_PERP = 1  # receives positive funding: short perp + long spot
LONG_PERP = -1  # receives negative funding: long perp + short spot


@dataclass(frozen=True, slots=True)
class SettlementView:
    """What the live path would see right after a settlement: the settled rate and its interval."""

    venue: str
    symbol: str
    time: int  # epoch seconds, UTC
    rate: float
    interval_hours: float
    price: float | None


@dataclass(frozen=True, slots=True)
class HeldPosition:
    """The state of an open hedge that the exit rules look at."""

    direction: int
    opened_at: int  # epoch seconds, UTC
    notional: float
    funding_received: float
    costs_paid: float  # entry fees + spread + slippage already paid


class Rules(Protocol):
    """What the engine needs from the live rules (tests may pass another implementation)."""

    def entry_direction(self, view: SettlementView, params: BacktestParams, notional: float) -> int: ...

    def exit_reason(self, view: SettlementView, held: HeldPosition, params: BacktestParams) -> str | None: ...


def annualize(rate: float, interval_hours: float) -> float:
    """DESIGN: annualized = rate x (24 / interval_hours) x 365."""
    return rate * (24.0 / interval_hours) * 365.0


class LiveRules:
    """The live entry and exit rules, called at settlements only."""

    def entry_direction(self, view: SettlementView, params: BacktestParams, notional: float) -> int:
        """+1 (short perp), -1 (long perp) or 0 (stay flat), by the live opportunity rule.

        Opportunity: |annualized| >= entry threshold, the side is allowed (negative funding needs margin
        borrowing), and the break-even number of settlements (round-trip costs / |rate|) fits in the planned
        holding time.
        """
        yearly = annualize(view.rate, view.interval_hours)
        if abs(yearly) < params.entry_annualized or view.rate == 0:
            return 0
        direction = SHORT_PERP if yearly > 0 else LONG_PERP
        if direction == LONG_PERP and not params.allow_negative:
            return 0
        planned = math.floor(params.planned_holding_hours / view.interval_hours)
        break_even = math.floor(params.round_trip_cost_rate(view.venue) / abs(view.rate)) + 1
        return direction if break_even <= planned else 0

    def exit_reason(self, view: SettlementView, held: HeldPosition, params: BacktestParams) -> str | None:
        """Why to close now, or None, checked in the live order: sign flip, below exit, max holding, profit."""
        in_favour = held.direction * annualize(view.rate, view.interval_hours)
        if in_favour < 0:
            return "sign_flipped"
        if in_favour < params.exit_annualized:
            return "rate_below_exit"
        if view.time - held.opened_at >= params.max_holding_days * 86_400:
            return "max_holding"
        profit = held.funding_received - held.costs_paid
        if params.profit_target is not None and profit >= params.profit_target:
            return "profit_target"
        return None


LIVE_RULES = LiveRules()
