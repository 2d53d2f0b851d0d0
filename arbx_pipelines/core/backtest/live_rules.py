"""The one door between the backtester and the live entry/exit decisions (``core/decision.py``).

The backtester must decide exactly as the live sensors do (DESIGN: "one decision function, two drivers"), so every
entry and exit decision of the ``threshold`` strategy is made here by :func:`decide_entry` and :func:`decide_exit`
from a snapshot of what was known right after that settlement. History has no order books, so the snapshot comes
from :func:`snapshot_at_price`: the settlement's price (1 when the backtest has no prices; sizes scale with it),
quoted +/- the backtest's half spread, with its slippage. Only this module converts to the live types (Decimal,
datetimes, venue enums).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol, cast

from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.core.decision import EntrySignal, PositionState, StrategyParams, decide_entry, decide_exit
from arbx_pipelines.core.decision_inputs import VenueFees, snapshot_at_price
from arbx_pipelines.core.funding import annualize as live_annualize
from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import to_decimal

SHORT_PERP = 1  # receives positive funding: short perp + long spot
LONG_PERP = -1  # receives negative funding: long perp + short spot
_VENUES = {v.value: v for v in Venue}


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

    def exit_reason(
        self, view: SettlementView, held: HeldPosition, params: BacktestParams, forecast: float | None = None
    ) -> str | None: ...


def annualize(rate: float, interval_hours: float) -> float:
    """The live annualization (``core.funding.annualize``) on floats."""
    return float(live_annualize(to_decimal(rate), whole_hours(interval_hours)))


def whole_hours(interval_hours: float) -> int:
    """Venues settle on whole-hour intervals; gaps measured from history are rounded to them."""
    return max(1, int(interval_hours + 0.5))


def venue_of(name: str) -> Venue:
    """The venue enum where arbx trades the venue; research-only venues (bybit history) pass as their name."""
    return _VENUES.get(name.lower(), cast(Venue, name))


@lru_cache(maxsize=64)
def strategy_params(params: BacktestParams, venues: tuple[str, ...]) -> StrategyParams:
    """The live StrategyParams for a backtest's parameters, with the backtest's fees on every venue in the data."""
    fees: dict[Venue, VenueFees] = {}
    for name in venues:
        spot, perp = params.fees_for(name)
        fees[venue_of(name)] = VenueFees(spot_taker=to_decimal(spot), perp_taker=to_decimal(perp))
    return StrategyParams(
        entry_annualized=to_decimal(params.entry_annualized),
        exit_annualized=to_decimal(params.exit_annualized),
        max_holding_days=params.max_holding_days,
        planned_holding_hours=params.planned_holding_hours,
        profit_target_usdt=None if params.profit_target is None else to_decimal(params.profit_target),
        allow_margin_borrow=params.allow_negative,
        fees=fees,
    )


@lru_cache(maxsize=64)
def _cost_inputs(spread_bps: float, slippage_bps: float) -> tuple[Decimal, Decimal]:
    """(half spread, slippage) as Decimal fractions, converted once per parameter set."""
    return to_decimal(spread_bps) / 10_000, to_decimal(slippage_bps) / 10_000


@lru_cache(maxsize=256)
def _decimal(value: float) -> Decimal:
    return to_decimal(value)


def _snapshot(view: SettlementView, params: BacktestParams) -> Any:
    return _snapshot_with_costs(view, params.spread_bps, params.slippage_bps)


@lru_cache(maxsize=1 << 15)
def _snapshot_with_costs(view: SettlementView, spread_bps: float, slippage_bps: float) -> Any:
    """The snapshot of one settlement; cached because the points of a parameter grid ask about the same ones."""
    hours = whole_hours(view.interval_hours)
    half_spread, slippage = _cost_inputs(spread_bps, slippage_bps)
    when = datetime.fromtimestamp(view.time, tz=UTC)
    return snapshot_at_price(
        venue_of(view.venue),
        view.symbol,
        when,
        to_decimal(view.rate),
        hours,
        to_decimal(1.0 if view.price is None else view.price),
        next_funding_time=when + timedelta(hours=hours),
        half_spread_rate=half_spread,
        expected_slippage_rate=slippage,
    )


class LiveRules:
    """Entry and exit decisions of the live path, asked at settlements only."""

    def entry_direction(self, view: SettlementView, params: BacktestParams, notional: float) -> int:
        """+1 (short perp), -1 (long perp) or 0 (the live rules reject the entry)."""
        return self.entry_verdict(view, params, notional)[0]

    def entry_verdict(self, view: SettlementView, params: BacktestParams, notional: float) -> tuple[int, str]:
        """(direction, "") for an entry, or (0, the live rejection reason)."""
        decision = decide_entry(_snapshot(view, params), strategy_params(params, (view.venue,)), _decimal(notional))
        if not isinstance(decision, EntrySignal):
            return 0, str(decision.reason)
        return decision.direction.sign, ""

    def exit_reason(
        self, view: SettlementView, held: HeldPosition, params: BacktestParams, forecast: float | None = None
    ) -> str | None:
        """The live close reason at this settlement (``forecast``: the forecast mean annualized rate over the
        planned holding time), or None to keep holding."""
        snapshot = _snapshot(view, params)
        price = Decimal(1) if view.price is None else to_decimal(view.price)
        direction = FundingDirection.POSITIVE if held.direction == SHORT_PERP else FundingDirection.NEGATIVE
        position = PositionState(
            venue=snapshot.venue,
            symbol=view.symbol,
            direction=direction,
            opened_at=datetime.fromtimestamp(held.opened_at, tz=UTC),
            base_amount=_decimal(held.notional) / price,
            entry_notional=_decimal(held.notional),
            funding_received=to_decimal(held.funding_received),
            fees_paid=_decimal(held.costs_paid),
        )
        decision = decide_exit(
            position,
            snapshot,
            strategy_params(params, (view.venue,)),
            snapshot.time,
            forecast_annualized=None if forecast is None else to_decimal(forecast),
        )
        return None if decision is None else str(decision.reason)


LIVE_RULES = LiveRules()
