"""Position risk for the position-risk sensor: for each open hedge on a venue, what (if anything) to run now.

Per position, most urgent first: liquidation tier emergency_close -> close; reduce_leverage -> reduce_leverage;
an exit rule of ``decide_exit`` (sign flipped, rate below exit, max holding, profit target) -> close; hedge
deviation above the threshold -> rebalance; a tier that alerts (warn, high) -> alert only. Legs are measured on the
venue but never above what the database says we own (coins or a perp the database does not know are reconcile's
"unknown exposure", never adopted here). Each action carries a run key that repeats until the job has run once.

The exit takes the inputs the backtester's ``threshold`` gives it (``core.backtest.live_rules``): the forecast mean
annualized rate over ``planned_holding_hours`` (``core.funding_rules.forecast_mean``) of the recent settled funding
(``funding_rates``) with the live rate last, the same window the funding sensor's entry forecast reads; the rate
below exit is judged on that forecast, a sign flip on the live rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from arbx_pipelines.core import funding_rules
from arbx_pipelines.core.decision import PositionState, decide_exit
from arbx_pipelines.core.decision_inputs import snapshot_at_price
from arbx_pipelines.core.money import ZERO, to_decimal
from arbx_pipelines.core.position_risk import LiquidationTier, assess_liquidation, hedge_deviation, liquidation_distance
from arbx_pipelines.execution.close_hedge import CLOSE_KIND, next_key
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.positions import PositionRecord, positions_with_status, set_liquidation_price
from arbx_pipelines.execution.sending import read_with_retry
from arbx_pipelines.execution.signals import HISTORY_SPAN
from arbx_pipelines.execution.venue_view import VenueView, legs_on_venue, venue_view
from arbx_pipelines.storage.market_history import SettledFunding, recent_settlements
from arbx_pipelines.venues.client import VenueClient

REBALANCE_KIND = "rebalance"
REDUCE_LEVERAGE_KIND = "reduce_leverage"
ALERT_REPEAT_S = 3600


@dataclass(frozen=True)
class PositionAction:
    position_id: int
    venue: str
    symbol: str
    action: str  # close | reduce_leverage | rebalance | alert | none
    reason: str
    tier: LiquidationTier
    deviation: Decimal | None
    run_key: str | None


def exit_forecast(settled: Sequence[SettledFunding], rate: Decimal, interval: int, planned_hours: int) -> Decimal:
    """The forecast mean annualized rate the exit rule tests, as the backtester computes it at a settlement."""
    recent = funding_rules.recent_funding([(s.rate, s.interval_hours) for s in settled], rate, interval)
    return to_decimal(funding_rules.forecast_mean(recent.annualized, float(interval), planned_hours))


def _assess(
    deps: ExecutionDeps,
    position: PositionRecord,
    view: VenueView,
    rate: Decimal | None,
    interval: int,
    now: datetime,
    settled: Sequence[SettledFunding] = (),
) -> PositionAction:
    info = view.perps.get(position.symbol)
    mark = info.mark_price if info is not None and info.mark_price else position.perp_entry_price or ZERO
    liquidation = info.liquidation_price if info is not None else None
    set_liquidation_price(deps.engine, position.id, liquidation)
    params = deps.strategy.position_risk
    tier = assess_liquidation(mark, liquidation, params) if mark > 0 else LiquidationTier.NONE
    spot, perp = legs_on_venue(position, view)
    deviation = hedge_deviation(perp * mark, spot * mark) if perp > 0 and mark > 0 else None

    def act(action: str, reason: str, kind: str | None) -> PositionAction:
        key = None if kind is None else next_key(deps, kind, position.id)
        return PositionAction(position.id, str(position.venue), position.symbol, action, reason, tier, deviation, key)

    distance = f"{liquidation_distance(mark, liquidation):.4f}" if liquidation and mark > 0 else "n/a"
    if tier is LiquidationTier.EMERGENCY_CLOSE:
        return act("close", f"risk: liquidation distance {distance} ({tier})", CLOSE_KIND)
    if tier is LiquidationTier.REDUCE_LEVERAGE:
        return act("reduce_leverage", f"liquidation distance {distance} ({tier})", REDUCE_LEVERAGE_KIND)
    if rate is not None and mark > 0:
        state = PositionState(
            position.venue,
            position.symbol,
            position.direction,
            position.opened_at,
            position.spot_amount,
            position.entry_notional,
            position.funding_received,
            position.fees_paid,
            liquidation_price=liquidation,
        )
        snapshot = snapshot_at_price(position.venue, position.symbol, now, rate, interval, mark)
        forecast = exit_forecast(settled, rate, interval, deps.strategy.planned_holding_hours)
        decision = decide_exit(state, snapshot, deps.strategy, now, forecast_annualized=forecast)
        if decision is not None:
            return act("close", f"{decision.reason}: {decision.detail}", CLOSE_KIND)
    if deviation is not None and deviation > params.hedge_rebalance:
        return act("rebalance", f"hedge deviation {deviation:.4f} > {params.hedge_rebalance}", REBALANCE_KIND)
    if tier.alerts:
        return act("alert", f"liquidation distance {distance} ({tier})", None)
    return act("none", "", None)


async def assess_positions(deps: ExecutionDeps, client: VenueClient) -> list[PositionAction]:
    positions = positions_with_status(deps.engine, ("open",), venue=str(client.venue))
    if not positions:
        return []
    symbols = [p.symbol for p in positions]
    view = await venue_view(deps, client, symbols)
    rates = await read_with_retry(deps, "funding_rates", lambda: client.funding_rates(symbols))
    by_symbol = {r.symbol: r for r in rates}
    since = min((r.time for r in rates), default=min(p.opened_at for p in positions)) - HISTORY_SPAN
    history = recent_settlements(deps.engine, [(str(client.venue), s) for s in symbols], since)
    actions = []
    for position in positions:
        funding = by_symbol.get(position.symbol)
        now = funding.time if funding is not None else position.opened_at
        settled = [s for s in history.get((str(client.venue), position.symbol), []) if s.time <= now]
        action = _assess(
            deps,
            position,
            view,
            funding.rate if funding else None,
            funding.interval_hours if funding else 8,
            now,
            settled,
        )
        if action.action == "alert" and deps.state.claim_idempotency_key(
            f"liquidation-alert:{position.id}:{action.tier}", ALERT_REPEAT_S
        ):
            deps.alerts.raise_alert(
                "liquidation_risk",
                f"{position.venue} {position.symbol}: {action.reason}",
                severity="warning",
                venue=str(position.venue),
                symbol=position.symbol,
                details={"position_id": position.id, "tier": str(action.tier)},
            )
        actions.append(action)
    return actions
