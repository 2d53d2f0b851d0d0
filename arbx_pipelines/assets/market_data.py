"""Ingestion assets: market metadata and funding snapshots of every perpetual (quotes: ``sensors.quotes``)."""

import time
from datetime import UTC, datetime

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from arbx_pipelines.marketdata.markets import fetch_markets
from arbx_pipelines.marketdata.snapshot import fetch_snapshot
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.storage.funding import record_snapshot
from arbx_pipelines.storage.markets import record_markets


@asset(group_name="ingestion", description="Markets of every enabled venue: precision, minimums, fees, listings.")
def markets(
    context: AssetExecutionContext, exchanges: ExchangesResource, database: DatabaseResource
) -> MaterializeResult:
    now = datetime.now(UTC)
    fetched = exchanges.run(fetch_markets)
    diff = record_markets(database.engine, fetched, now)
    context.log.info(f"markets: {len(diff.listed)} listed, {len(diff.delisted)} delisted, {diff.updated} updated")
    return MaterializeResult(
        metadata={
            "markets_by_venue": {venue.value: len(infos) for venue, infos in fetched.items()},
            "new_listings": len(diff.listed),
            "delistings": MetadataValue.json([f"{v}:{s}" for v, s in diff.delisted]),
        }
    )


@asset(
    group_name="ingestion",
    deps=[markets],
    description="Current funding of every USDT perpetual on every enabled venue, with interval and annualized rate.",
)
def funding_snapshot(
    context: AssetExecutionContext, exchanges: ExchangesResource, database: DatabaseResource
) -> MaterializeResult:
    started = time.perf_counter()
    now = datetime.now(UTC)
    result = exchanges.run(lambda clients: fetch_snapshot(clients, now))
    fetched_s = time.perf_counter() - started
    stored = record_snapshot(database.engine, result.time, result.rates)
    for venue, error in result.failures.items():
        context.log.warning(f"funding snapshot: {venue} failed: {error}")
    top = sorted(result.rates, key=lambda r: abs(r.rate * 8760 / r.interval_hours), reverse=True)[:5]
    table = "| venue | symbol | rate | interval | annualized |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {r.venue} | {r.symbol} | {r.rate} | {r.interval_hours}h | {float(r.rate * 8760 / r.interval_hours):.1%} |"
        for r in top
    )
    if not result.rates:
        raise RuntimeError(f"funding snapshot got no rates: {result.failures}")
    return MaterializeResult(
        metadata={
            "perpetuals": stored,
            "by_venue": result.by_venue(),
            "failed_venues": MetadataValue.json({v.value: e for v, e in result.failures.items()}),
            "fetch_seconds": round(fetched_s, 3),
            "snapshot_time": now.isoformat(),
            "top_annualized": MetadataValue.md(table),
        }
    )
