"""Execution jobs: open_funding_position, close_position, rebalance_hedge, reduce_leverage, reconcile.

Each op is a thin call into :mod:`arbx_pipelines.execution` (asyncio.run); run config carries the venue, symbol and
signal key, or the position id. A run whose hedge ends broken fails (the run-failure sensor alerts); refusals,
rejections and risk blocks succeed with the reason in the log. Single-op jobs run with the in-process executor: one
process per run, not a second one per step (seconds saved between signal and order).
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from dagster import Config, Failure, OpDefinition, OpExecutionContext, in_process_executor, job, op

from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.capital import VenueWallets, venue_wallets
from arbx_pipelines.execution.close_hedge import close_hedge
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.open_hedge import OpenOutcome, OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import PositionRecord, get_position
from arbx_pipelines.execution.rebalance import rebalance_hedge
from arbx_pipelines.execution.reconcile_all import reconcile_all
from arbx_pipelines.execution.reduce_leverage import reduce_leverage
from arbx_pipelines.jobs.common import EXECUTION_TAG, execution_deps, run_async
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.storage.executions import find_execution, record_decision
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError


class OpenPositionConfig(Config):
    venue: str
    symbol: str
    signal_key: str
    signal_time: str = ""
    leverage: int = 0  # decided by the funding sensor (dynamic leverage); 0: strategy.max_leverage


class PositionConfig(Config):
    position_id: int
    reason: str = ""
    fraction: float = 1.0  # close_position: share of the hedge to close (a batch under a liquidity drought)


async def _open(
    exchanges: ExchangesResource, deps: ExecutionDeps, config: OpenPositionConfig, run_id: str
) -> OpenOutcome:
    venue = Venue(config.venue)
    others: dict[Venue, VenueWallets] = {}
    for name in exchanges.venues:
        if name == venue.value:
            continue
        try:
            async with exchanges.client(name) as client:
                others[Venue(name)] = await venue_wallets(client)
        except VenueError:
            continue  # a venue that cannot answer adds no capital to the total
    signal_time = datetime.fromisoformat(config.signal_time) if config.signal_time else None
    request = OpenRequest(venue, config.symbol, config.signal_key, signal_time, run_id, config.leverage or None)
    async with exchanges.client(venue) as client:
        return await open_hedge(deps, client, request, others)


@op(description="Re-validates a funding signal on live data and opens the hedge.")
def open_funding_position_op(
    context: OpExecutionContext,
    config: OpenPositionConfig,
    settings: SettingsResource,
    database: DatabaseResource,
    state: StateResource,
    notifier: NotifierResource,
    exchanges: ExchangesResource,
) -> None:
    deps = execution_deps(settings, database, state, notifier)
    deps.run_id = context.run_id
    outcome = run_async(_open(exchanges, deps, config, context.run_id))
    context.log.info(f"open {config.venue} {config.symbol}: {outcome.status} ({outcome.reason})")
    if outcome.status in (OpenStatus.BROKEN, OpenStatus.FAILED):
        raise Failure(f"open {config.symbol} ended {outcome.status}: {outcome.reason}")


RUN_KEY_TAG = "dagster/run_key"  # set by the daemon on runs a sensor requested


def record_failed_attempt(
    deps: ExecutionDeps, run_key: str | None, position: PositionRecord, run_id: str, error: Exception
) -> None:
    """A sensor's run that died before its execution recorded anything (a venue read failing first) still counts as an
    attempt under its key (``kind:position:n``): the next assessment then asks for ``n + 1``, a new run, instead of
    repeating a run key Dagster would skip - a failed reduce_leverage must be retried, not forgotten."""
    if not run_key or find_execution(deps.engine, run_key) is not None:
        return
    record_decision(
        deps.engine,
        key=run_key,
        kind=run_key.split(":", 1)[0],
        venue=str(position.venue),
        symbol=position.symbol,
        status="failed",
        planned={},
        error=f"{type(error).__name__}: {error}",
        position_id=position.id,
        run_id=run_id,
    )


#: what a position job does: (deps, venue client, config, run id) -> an outcome with ``status`` and a reason
PositionAction = Callable[[ExecutionDeps, VenueClient, PositionConfig, str], Awaitable[Any]]


def position_op(op_name: str, label: str, description: str, action: PositionAction) -> OpDefinition:
    """The op of a job that acts on one position (close, rebalance, reduce leverage): same resources, same logging,
    and a run that fails when the hedge ends broken."""

    @op(name=op_name, description=description)
    def _position_op(
        context: OpExecutionContext,
        config: PositionConfig,
        settings: SettingsResource,
        database: DatabaseResource,
        state: StateResource,
        notifier: NotifierResource,
        exchanges: ExchangesResource,
    ) -> None:
        deps = execution_deps(settings, database, state, notifier)
        deps.run_id = context.run_id
        position = get_position(deps.engine, config.position_id)

        async def run() -> Any:
            async with exchanges.client(position.venue) as client:
                return await action(deps, client, config, context.run_id)

        try:
            outcome = run_async(run())
        except Exception as exc:
            record_failed_attempt(deps, context.run.tags.get(RUN_KEY_TAG), position, context.run_id, exc)
            raise
        status = str(getattr(outcome, "status", ""))
        detail = getattr(outcome, "reason", None) or getattr(outcome, "detail", "")
        context.log.info(f"{label} position {config.position_id} ({position.symbol}): {status} ({detail})")
        if status in ("broken", "failed"):
            raise Failure(f"{label} of position {config.position_id} ended {status}")

    return _position_op


close_position_op = position_op(
    "close_position_op",
    "close",
    "Closes both legs of a hedge and books its realized P&L.",
    lambda d, c, cfg, run_id: close_hedge(
        d, c, cfg.position_id, cfg.reason or "requested", fraction=Decimal(repr(cfg.fraction)), run_id=run_id
    ),
)
rebalance_hedge_op = position_op(
    "rebalance_hedge_op",
    "rebalance",
    "Reduces the larger leg of a drifted hedge.",
    lambda d, c, cfg, run_id: rebalance_hedge(d, c, cfg.position_id, run_id=run_id),
)
reduce_leverage_op = position_op(
    "reduce_leverage_op",
    "reduce_leverage",
    "Adds margin, else cuts the hedge, when liquidation is near.",
    lambda d, c, cfg, run_id: reduce_leverage(d, c, cfg.position_id, run_id=run_id),
)


@op(description="Reconciles every enabled venue with the database.")
def reconcile_op(
    context: OpExecutionContext,
    settings: SettingsResource,
    database: DatabaseResource,
    state: StateResource,
    notifier: NotifierResource,
    exchanges: ExchangesResource,
) -> None:
    deps = execution_deps(settings, database, state, notifier)
    deps.run_id = context.run_id
    reports, failed = run_async(reconcile_all(deps, exchanges.venues, exchanges.client))
    for venue, error in failed.items():
        context.log.warning(f"reconcile {venue}: {error}")
    for report in reports:
        context.log.info(
            f"reconcile {report.venue}: {report.orders_checked} orders checked, "
            f"{len(report.executions_repaired)} executions repaired, {report.funding_recorded} funding payments, "
            f"{len(report.unknown_exposure)} unknown exposures, {len(report.missing_positions)} positions missing"
        )


@job(tags={EXECUTION_TAG: "open"}, executor_def=in_process_executor)
def open_funding_position() -> None:
    open_funding_position_op()


@job(tags={EXECUTION_TAG: "close"}, executor_def=in_process_executor)
def close_position() -> None:
    close_position_op()


@job(name="rebalance_hedge", tags={EXECUTION_TAG: "rebalance"}, executor_def=in_process_executor)
def rebalance_hedge_job() -> None:
    rebalance_hedge_op()


@job(name="reduce_leverage", tags={EXECUTION_TAG: "reduce_leverage"}, executor_def=in_process_executor)
def reduce_leverage_job() -> None:
    reduce_leverage_op()


@job(tags={EXECUTION_TAG: "reconcile"}, executor_def=in_process_executor)
def reconcile() -> None:
    reconcile_op()


EXECUTION_JOBS = [open_funding_position, close_position, rebalance_hedge_job, reduce_leverage_job, reconcile]
