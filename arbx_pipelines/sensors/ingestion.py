"""Ingestion sensors: extra funding snapshots while the market is volatile; symbol listings -> dynamic partitions."""

from datetime import UTC, datetime, timedelta

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from arbx_pipelines.assets.symbols import SYMBOLS_PARTITION, symbol_partition_key
from arbx_pipelines.core.models import MarketType
from arbx_pipelines.core.volatility import market_is_volatile
from arbx_pipelines.jobs.ingestion import funding_snapshot_job
from arbx_pipelines.marketdata.markets import fetch_markets
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.storage.funding import latest_snapshots
from arbx_pipelines.storage.markets import record_markets


def volatile_snapshot_sensor(volatile_minutes: int) -> SensorDefinition:
    @sensor(
        name="volatile_funding_snapshot",
        job=funding_snapshot_job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            f"While the market is volatile (core.volatility), requests a funding snapshot every {volatile_minutes} "
            "minutes in addition to the regular schedule."
        ),
    )
    def volatile_funding_snapshot(
        context: SensorEvaluationContext, database: DatabaseResource, settings: SettingsResource
    ) -> RunRequest | SkipReason:
        snapshots = latest_snapshots(database.engine, 2)
        if not snapshots:
            return SkipReason("no funding snapshot yet")
        last_time, latest = snapshots[0].time, snapshots[0].annualized()
        previous = snapshots[1].annualized() if len(snapshots) > 1 else {}
        volatile, why = market_is_volatile(latest, previous, settings.config.strategy.entry_annualized)
        if not volatile:
            return SkipReason(f"calm market: {why}")
        now = datetime.now(UTC)
        if now - last_time < timedelta(minutes=volatile_minutes):
            return SkipReason(f"volatile ({why}) but the last snapshot is only {(now - last_time).seconds}s old")
        bucket = int(now.timestamp() // (volatile_minutes * 60))
        return RunRequest(run_key=f"volatile-snapshot:{bucket}", tags={"arbx/reason": why[:200]})

    return volatile_funding_snapshot


@sensor(
    name="symbol_listings",
    minimum_interval_seconds=3600,
    default_status=DefaultSensorStatus.RUNNING,
    description="Hourly: new perpetuals become `symbols` partitions; delistings are marked in `markets`.",
)
def symbol_listings(
    context: SensorEvaluationContext, exchanges: ExchangesResource, database: DatabaseResource
) -> SensorResult:
    now = datetime.now(UTC)
    fetched = exchanges.run(fetch_markets)
    diff = record_markets(database.engine, fetched, now)
    perps = [
        symbol_partition_key(venue.value, info.symbol)
        for venue, infos in fetched.items()
        for info in infos
        if info.market_type is MarketType.SWAP
    ]
    known = set(context.instance.get_dynamic_partitions(SYMBOLS_PARTITION.name or "symbols"))
    new = sorted(set(perps) - known)
    if diff.delisted:
        context.log.info(f"delisted (marked in markets): {diff.delisted}")
    return SensorResult(
        dynamic_partitions_requests=[SYMBOLS_PARTITION.build_add_request(new)] if new else [],
        cursor=now.isoformat(),
    )
