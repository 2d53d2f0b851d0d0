"""Position risk -> close_position / reduce_leverage / rebalance_hedge, from
:func:`arbx_pipelines.execution.monitor.assess_positions` (liquidation tiers, exit rules, hedge deviation).

While the kill switch is engaged only liquidation protection is requested (emergency close, reduce leverage):
a halt stops trading for profit, and must never let a position be liquidated.
"""

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from arbx_pipelines.core.position_risk import LiquidationTier
from arbx_pipelines.execution.monitor import PositionAction, assess_positions
from arbx_pipelines.execution.positions import positions_with_status
from arbx_pipelines.execution.risk_state import halted
from arbx_pipelines.jobs.common import execution_deps, run_async, run_tags
from arbx_pipelines.jobs.execution import close_position, rebalance_hedge_job, reduce_leverage_job
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource

JOB_OF_ACTION = {"close": "close_position", "reduce_leverage": "reduce_leverage", "rebalance": "rebalance_hedge"}
PROTECTIVE_TIERS = (LiquidationTier.EMERGENCY_CLOSE, LiquidationTier.REDUCE_LEVERAGE)
SENSOR_SECONDS = 60


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
    open_venues = {p.venue.value for p in positions_with_status(deps.engine, ("open",))}

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
    if not actions:
        return SkipReason("no position needs action" + (f" (halted: {reason})" if reason else ""))
    return [run_request(action) for action in actions]
