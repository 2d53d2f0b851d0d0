"""``spot_arbitrage``: the spot engine's statistics per UTC day (arbitrages, success rate, expected vs realized)."""

from datetime import UTC, datetime, timedelta

from dagster import AssetExecutionContext, DailyPartitionsDefinition, MaterializeResult, MetadataValue, asset

from arbx_pipelines.engine.executor import SPOT_ARB_KIND
from arbx_pipelines.engine.report import day_stats
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.storage.spot_arbitrage import fills_of_execution, spot_executions

#: end_offset=1: today is a partition too (its figures so far)
DAYS = DailyPartitionsDefinition(start_date="2024-01-01", timezone="UTC", end_offset=1)


@asset(
    name="spot_arbitrage",
    partitions_def=DAYS,
    group_name="spot",
    description="Per UTC day: spot arbitrages, success rate, expected vs realized P&L (from the recorded fills).",
)
def spot_arbitrage(context: AssetExecutionContext, database: DatabaseResource) -> MaterializeResult:
    start = datetime.strptime(context.partition_key, "%Y-%m-%d").replace(tzinfo=UTC)
    executions = spot_executions(database.engine, SPOT_ARB_KIND, start=start, end=start + timedelta(days=1))
    stats = day_stats([(e, fills_of_execution(database.engine, e.id)) for e in executions])
    return MaterializeResult(
        metadata={
            "arbitrages": stats.arbitrages,
            "succeeded": stats.succeeded,
            "success_rate": stats.success_rate,
            "expected_pnl": MetadataValue.float(float(stats.expected_pnl)),
            "realized_pnl": MetadataValue.float(float(stats.realized_pnl)),
            "symbols": MetadataValue.json(stats.symbols),
        }
    )
