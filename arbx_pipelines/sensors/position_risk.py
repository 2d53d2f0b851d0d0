"""Position risk -> close_position / reduce_leverage / rebalance_hedge, from
:func:`arbx_pipelines.execution.monitor.assess_positions` (liquidation tiers, exit rules, hedge deviation).

Each open hedge is checked as often as its composite risk score's level asks (``execution.risk_watch``: 300 s when
low down to 30 s when critical; the cursor holds when each is due), and a liquidity drought closes it in batches
(close_position with a fraction), each recorded and alerted.

While the kill switch is engaged only liquidation protection is requested (emergency close, reduce leverage):
a halt stops trading for profit, and must never let a position be liquidated.
"""

import json
from datetime import UTC, datetime

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from arbx_pipelines.config.adapters import scoring_params
from arbx_pipelines.core.position_risk import LiquidationTier
from arbx_pipelines.execution.close_hedge import REDUCE_KIND, next_key
from arbx_pipelines.execution.monitor import PositionAction, assess_positions
from arbx_pipelines.execution.positions import positions_with_status
from arbx_pipelines.execution.risk_state import halted
from arbx_pipelines.execution.risk_watch import due_positions, next_batch, watch_positions
from arbx_pipelines.jobs.common import execution_deps, run_async, run_tags
from arbx_pipelines.jobs.execution import close_position, rebalance_hedge_job, reduce_leverage_job
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource

JOB_OF_ACTION = {"close": "close_position", "reduce_leverage": "reduce_leverage", "rebalance": "rebalance_hedge"}
PROTECTIVE_TIERS = (LiquidationTier.EMERGENCY_CLOSE, LiquidationTier.REDUCE_LEVERAGE)
SENSOR_SECONDS = 30  # the shortest check interval (critical risk); each hedge is checked when it is due


def run_request(action: PositionAction) -> RunRequest:
    job_name = JOB_OF_ACTION[action.action]
    config = {"position_id": action.position_id, "reason": action.reason[:200]}
    return RunRequest(
        run_key=action.run_key,
        job_name=job_name,
        run_config={"ops": {f"{job_name}_op": {"config": config}}},
        tags=run_tags(action.symbol, action.action, action.venue),
    )


@sensor(
    name="position_risk",
    jobs=[close_position, reduce_leverage_job, rebalance_hedge_job],
    minimum_interval_seconds=SENSOR_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Liquidation tiers, exit rules and hedge deviation of open hedges -> close/reduce/rebalance.",
)
def position_risk(
    context: SensorEvaluationContext,
    settings: SettingsResource,
    database: DatabaseResource,
    state: StateResource,
    notifier: NotifierResource,
    exchanges: ExchangesResource,
) -> list[RunRequest] | SkipReason:
    deps = execution_deps(settings, database, state, notifier)
    now = datetime.now(UTC)
    watched = watch_positions(
        deps.engine, positions_with_status(deps.engine, ("open",)), scoring_params(settings.loaded().config), now
    )
    due, cursor = due_positions(watched, context.cursor, now.timestamp())
    open_venues = {w.position.venue.value for w in watched if w.position.id in due}

    async def assess() -> list[PositionAction]:
        found: list[PositionAction] = []
        for venue in exchanges.venues:
            if venue in open_venues:
                async with exchanges.client(venue) as client:
                    found.extend(await assess_positions(deps, client))
        return found

    actions = [a for a in run_async(assess()) if a.action in JOB_OF_ACTION]
    reason = halted(deps.engine)
    if reason is not None:
        actions = [a for a in actions if a.tier in PROTECTIVE_TIERS]
    requests = [run_request(action) for action in actions]
    closing = {a.position_id for a in actions if a.action == "close"}
    for item in watched:
        if item.position.id not in due or item.position.id in closing:
            continue
        batch = next_batch(item, cursor)
        if batch is None:
            continue
        fraction, number = batch
        position = item.position
        detail = f"liquidity drying up (depth {item.depth_ratio:.0%} of its mean): close batch {number}"
        deps.alerts.raise_alert(
            "liquidity_drying",
            f"{position.venue} {position.symbol}: {detail}",
            severity="warning",
            venue=str(position.venue),
            symbol=position.symbol,
            details={"position_id": position.id, "fraction": str(fraction), "risk": str(item.risk.score)},
        )
        config = {"position_id": position.id, "reason": detail, "fraction": float(fraction)}
        requests.append(
            RunRequest(
                run_key=next_key(deps, REDUCE_KIND, position.id),
                job_name="close_position",
                run_config={"ops": {"close_position_op": {"config": config}}},
                tags=run_tags(position.symbol, "close", position.venue),
            )
        )
    context.update_cursor(json.dumps(cursor))
    if not requests:
        return SkipReason("no position needs action" + (f" (halted: {reason})" if reason else ""))
    return requests
