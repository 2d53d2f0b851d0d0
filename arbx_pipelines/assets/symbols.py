"""Per-symbol statistics of the stored funding history, one dynamic partition per listed perpetual."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dagster import (
    AllPartitionMapping,
    AssetDep,
    AssetExecutionContext,
    DynamicPartitionsDefinition,
    MaterializeResult,
    asset,
)

from arbx_pipelines.core.funding import annualize
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.storage.funding import symbol_settlements

SYMBOLS_PARTITION = DynamicPartitionsDefinition(name="symbols")
STATS_DAYS = 30


def symbol_partition_key(venue: str, symbol: str) -> str:
    return f"{venue}:{symbol}"


def split_partition_key(key: str) -> tuple[str, str]:
    venue, _, symbol = key.partition(":")
    if not venue or not symbol:
        raise ValueError(f"symbol partition {key!r} is not of the form venue:SYMBOL")
    return venue, symbol


@asset(
    group_name="analytics",
    partitions_def=SYMBOLS_PARTITION,
    deps=[AssetDep("funding_history", partition_mapping=AllPartitionMapping())],
    description=f"Funding statistics of one perpetual over the last {STATS_DAYS} days of stored history.",
)
def symbol_funding_stats(context: AssetExecutionContext, database: DatabaseResource) -> MaterializeResult:
    venue, symbol = split_partition_key(context.partition_key)
    since = datetime.now(UTC) - timedelta(days=STATS_DAYS)
    rows = symbol_settlements(database.engine, venue, symbol, since)
    annualized = [annualize(rate, interval or 8) for rate, interval in rows]
    mean = sum(annualized, Decimal(0)) / len(annualized) if annualized else None
    return MaterializeResult(
        metadata={
            "settlements": len(rows),
            "mean_annualized": float(mean) if mean is not None else None,
            "max_abs_annualized": float(max(map(abs, annualized))) if annualized else None,
            "last_rate": float(rows[-1][0]) if rows else None,
        }
    )
