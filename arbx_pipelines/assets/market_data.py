"""Ingestion assets: market metadata, funding snapshots of every perpetual, and quotes of monitored symbols."""

import time
from datetime import UTC, datetime

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset
from sqlalchemy import func, select

from arbx_pipelines.core.models import Venue
from arbx_pipelines.marketdata.markets import fetch_markets, store_markets
from arbx_pipelines.marketdata.quotes import fetch_books, store_quotes
from arbx_pipelines.marketdata.snapshot import fetch_snapshot, store_snapshot
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.storage.models import FundingSnapshotRow, Position

QUOTES_TOP_N = 10


@asset(group_name="ingestion", description="Markets of every enabled venue: precision, minimums, fees, listings.")
def markets(
    context: AssetExecutionContext, exchanges: ExchangesResource, database: DatabaseResource
) -> MaterializeResult:
    now = datetime.now(UTC)
    fetched = exchanges.run(fetch_markets)
    diff = store_markets(database.engine, fetched, now)
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
    description="Current funding of every USDT perpetual on every enabled venue, with interval and annualized rate.",
)
def funding_snapshot(
    context: AssetExecutionContext, exchanges: ExchangesResource, database: DatabaseResource
) -> MaterializeResult:
    started = time.perf_counter()
    now = datetime.now(UTC)
    result = exchanges.run(lambda clients: fetch_snapshot(clients, now))
    fetched_s = time.perf_counter() - started
    stored = store_snapshot(database.engine, result)
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


def monitored_perps(database: DatabaseResource, settings: SettingsResource, top_n: int) -> list[tuple[Venue, str]]:
    """Configured symbols, else the latest snapshot's top |annualized|; plus every open position's symbol."""
    config = settings.config
    with database.transaction() as session:
        latest = session.execute(select(func.max(FundingSnapshotRow.time))).scalar()
        chosen: list[tuple[Venue, str]] = []
        if latest is not None:
            rows = session.execute(select(FundingSnapshotRow).where(FundingSnapshotRow.time == latest)).scalars().all()
            enabled = {v.value for v in config.enabled_venues()}
            rows = [
                r
                for r in rows
                if r.venue in enabled and (not config.strategy.symbols or r.symbol in config.strategy.symbols)
            ]
            rows.sort(key=lambda r: abs(r.annualized), reverse=True)
            chosen = [(Venue(r.venue), r.symbol) for r in rows[:top_n]]
        open_positions = session.execute(select(Position.venue, Position.symbol).where(Position.status != "closed"))
        for venue, symbol in open_positions:
            if (Venue(venue), symbol) not in chosen:
                chosen.append((Venue(venue), symbol))
    return chosen


@asset(
    group_name="ingestion",
    deps=[funding_snapshot],
    description="Best bid/ask and top-10 depth of spot and perp for the monitored symbols (cached in the state store).",
)
def quotes(
    context: AssetExecutionContext,
    exchanges: ExchangesResource,
    database: DatabaseResource,
    state: StateResource,
    settings: SettingsResource,
) -> MaterializeResult:
    perps = monitored_perps(database, settings, QUOTES_TOP_N)
    now = datetime.now(UTC)
    books, failures = exchanges.run(lambda clients: fetch_books(clients, perps))
    stored = store_quotes(database.engine, books, now, state.store)
    for failure in failures:
        context.log.warning(f"quotes: {failure}")
    return MaterializeResult(metadata={"books": stored, "symbols": len(perps), "failures": len(failures)})
