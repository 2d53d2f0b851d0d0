"""``execute_spot_arbitrage``: one cross-venue spot arbitrage, fired by the spread sensor or run by hand (launchpad
config: symbol, buy_venue, sell_venue). The run re-validates on live books and sends through the engine's executor;
it fails only when a leg's outcome is unknown (the run-failure sensor alerts; reconcile settles it)."""

from dagster import Config, Failure, OpExecutionContext, in_process_executor, job, op

from arbx_pipelines.core.models import Venue
from arbx_pipelines.engine.detector import DetectionLimits
from arbx_pipelines.engine.executor import ExecutorSettings
from arbx_pipelines.engine.slow_path import SlowOutcome, execute_once
from arbx_pipelines.jobs.common import execution_deps
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.venues.client import VenueClient


class SpotArbitrageConfig(Config):
    symbol: str
    buy_venue: str
    sell_venue: str


@op(description="Re-validates a cross-venue spot spread on live books and trades it on both venues at once.")
def execute_spot_arbitrage_op(
    context: OpExecutionContext,
    config: SpotArbitrageConfig,
    settings: SettingsResource,
    database: DatabaseResource,
    state: StateResource,
    notifier: NotifierResource,
    exchanges: ExchangesResource,
) -> None:
    cfg = settings.config
    deps = execution_deps(settings, database, state, notifier)
    limits = DetectionLimits(cfg.spread.min_profit_rate, cfg.spread.min_profit_usdt, cfg.risk.max_trade_usdt)
    executor_settings = ExecutorSettings(run_id=context.run_id[:8], min_profit_rate=cfg.spread.min_profit_rate,
                                         task_timeout_s=cfg.spread.task_timeout_seconds)  # fmt: skip

    async def work(clients: dict[Venue, VenueClient]) -> SlowOutcome:
        by_name = {str(venue): client for venue, client in clients.items()}
        return await execute_once(deps, by_name, config.symbol, config.buy_venue, config.sell_venue, limits,
                                  executor_settings)  # fmt: skip

    outcome = exchanges.run(work)
    context.log.info(f"spot arbitrage {config.symbol} {config.buy_venue}->{config.sell_venue}: {outcome.status} "
                     f"({outcome.detail})")  # fmt: skip
    if outcome.status == "failed":
        raise Failure(f"spot arbitrage {config.symbol}: {outcome.detail}")


@job(
    name="execute_spot_arbitrage",
    executor_def=in_process_executor,
    description="One cross-venue spot arbitrage (slow spreads and manual runs; the engine takes the fast ones).",
)
def execute_spot_arbitrage() -> None:
    execute_spot_arbitrage_op()
