"""The funding snapshot asset: the current funding of every perpetual on every enabled venue, into
``funding_snapshots`` (the funding-opportunity sensor reads it). Kept minimal: the ingestion work owns the full
version (volatile cadence, checks); this one fetches ``funding_rates()`` and stores the rows."""

import asyncio
from collections.abc import Sequence

from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, asset

from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.venue_data import FundingInfo
from arbx_pipelines.execution.signals import record_funding_snapshots
from arbx_pipelines.jobs.common import enabled_venues, exchange_key, run_async, venue_client
from arbx_pipelines.venues.errors import VenueError


def build_funding_snapshot_asset(venues: Sequence[Venue]) -> AssetsDefinition:
    @asset(
        name="funding_snapshot",
        group_name="funding",
        required_resource_keys={"database", *(exchange_key(v) for v in venues)},
        description="Current funding rate, interval and next settlement of every perpetual on each enabled venue.",
    )
    def funding_snapshot(context: AssetExecutionContext) -> MaterializeResult:
        async def fetch(venue: Venue) -> list[FundingInfo]:
            try:
                async with venue_client(context.resources, venue) as client:
                    return await client.funding_rates()
            except VenueError as exc:
                context.log.warning(f"funding snapshot of {venue} failed: {exc}")
                return []

        async def fetch_all() -> list[list[FundingInfo]]:
            return list(await asyncio.gather(*(fetch(v) for v in enabled_venues(context.resources, venues))))

        per_venue = run_async(fetch_all())
        observations = [item for items in per_venue for item in items]
        added = record_funding_snapshots(context.resources.database.engine, observations)
        top = max(observations, key=lambda o: abs(o.rate) * 24 / o.interval_hours, default=None)
        return MaterializeResult(
            metadata={
                "rows": added,
                "perpetuals": len(observations),
                "venues": ", ".join(str(v) for v in enabled_venues(context.resources, venues)),
                "top_symbol": f"{top.venue} {top.symbol}" if top else "",
                "top_rate": float(top.rate) if top else 0.0,
            }
        )

    return funding_snapshot
