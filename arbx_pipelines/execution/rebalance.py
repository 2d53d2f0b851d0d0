"""Rebalance a drifted hedge: when the legs' notionals differ by more than the threshold, reduce the larger leg to
the smaller one (``plan_rebalance``: never adds exposure; perp orders reduce-only).

The legs are read on the venue: a leg the venue shows smaller than the database says is first booked as an external
change (:func:`arbx_pipelines.execution.drift.follow_venue`), so the position follows the venue.
"""

from __future__ import annotations

from dataclasses import dataclass

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.core.position_risk import plan_rebalance
from arbx_pipelines.execution.close_hedge import markets_of, next_key
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.drift import follow_venue
from arbx_pipelines.execution.locks import symbol_lock
from arbx_pipelines.execution.monitor import REBALANCE_KIND
from arbx_pipelines.execution.positions import get_position, refresh_from_fills
from arbx_pipelines.execution.sending import correction_intent, fresh_limit_price, send_all
from arbx_pipelines.execution.settle import end_broken
from arbx_pipelines.storage.executions import BROKEN, record_decision, record_intent, set_execution_status
from arbx_pipelines.venues.client import VenueClient


@dataclass(frozen=True)
class RebalanceOutcome:
    status: str  # rebalanced | noop | not_placeable | failed
    position_id: int
    detail: str
    execution_key: str


async def rebalance_hedge(
    deps: ExecutionDeps, client: VenueClient, position_id: int, *, run_id: str | None = None, wait_s: float = 120.0
) -> RebalanceOutcome:
    position = get_position(deps.engine, position_id)
    async with symbol_lock(deps, position.venue, position.symbol, wait_s=wait_s):
        key = next_key(deps, REBALANCE_KIND, position_id)

        def decided(status: str, detail: str) -> RebalanceOutcome:
            record_decision(
                deps.engine,
                key=key,
                kind=REBALANCE_KIND,
                venue=str(position.venue),
                symbol=position.symbol,
                status="done" if status == "noop" else "failed",
                planned={"detail": detail},
                position_id=position_id,
                run_id=run_id,
            )
            crash_point("decision.committed")
            return RebalanceOutcome(status, position_id, detail, key)

        if get_position(deps.engine, position_id).status != "open":
            return decided("noop", "position is not open")
        markets = await markets_of(client, position)
        position = await follow_venue(deps, client, refresh_from_fills(deps.engine, position_id), markets)
        spot_price = await fresh_limit_price(deps, client, markets.spot, position.direction.closing_side(Leg.SPOT))
        perp_price = await fresh_limit_price(deps, client, markets.perp, position.direction.closing_side(Leg.PERP))
        order = plan_rebalance(
            position.direction,
            position.spot_amount,
            position.perp_amount,
            spot_price,
            perp_price,
            markets.spot.rules,
            markets.perp.rules,
            deps.strategy.position_risk,
        )
        if order is None:
            return decided("noop", "legs within the rebalance threshold")
        if not order.placeable:
            deps.alerts.raise_alert(
                "rebalance_not_placeable",
                f"{position.venue} {position.symbol}: {order.detail}",
                severity="warning",
                venue=str(position.venue),
                symbol=position.symbol,
                details={"position_id": position_id, "deviation": str(order.deviation)},
            )
            return decided("not_placeable", order.detail)
        info = markets.of(order.leg)
        price = spot_price if order.leg is Leg.SPOT else perp_price
        intent = correction_intent(
            key, str(order.leg), info, order.side, order.amount, order.base_amount, price, order.reduce_only
        )
        execution = record_intent(
            deps.engine,
            key=key,
            kind=REBALANCE_KIND,
            venue=str(position.venue),
            symbol=position.symbol,
            planned={"deviation": str(order.deviation), "leg": str(order.leg), "amount": str(order.base_amount)},
            intents=[intent],
            position_id=position_id,
            run_id=run_id,
        )
        crash_point("intent.committed")
        try:  # the order may be on the venue: nothing escapes (reconcile finishes what is left)
            (sent,) = await send_all(deps, client, [intent], position_id)
            refresh_from_fills(deps.engine, position_id)
            crash_point("position.committed")
            ok = sent.known and sent.filled > 0
            status = "done" if ok else BROKEN if not sent.known else "failed"
            set_execution_status(deps.engine, execution.id, status, sent.error)
            crash_point("execution.committed")
        except Exception as exc:
            end_broken(deps, execution, exc)
            return RebalanceOutcome("failed", position_id, f"interrupted: {exc}"[:200], key)
        return RebalanceOutcome("rebalanced" if ok else "failed", position_id, f"{order.leg} {sent.status}", key)
