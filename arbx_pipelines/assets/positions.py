"""Execution assets: ``funding_payments`` (funding actually received, recorded per settlement from each venue) and
``positions`` (the hedges as the database holds them, with totals in the metadata)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from arbx_pipelines.core.money import ZERO
from arbx_pipelines.execution.funding_income import collect_funding
from arbx_pipelines.execution.positions import ACTIVE_STATUSES, PositionRecord, positions_with_status
from arbx_pipelines.jobs.common import execution_deps, run_async
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.venues.errors import VenueError

RECENT = timedelta(days=7)


@asset(
    name="funding_payments",
    group_name="execution",
    description="Records each funding settlement the venues paid (or charged) our open hedges, once.",
)
def funding_payments(
    context: AssetExecutionContext,
    settings: SettingsResource,
    database: DatabaseResource,
    state: StateResource,
    notifier: NotifierResource,
    exchanges: ExchangesResource,
) -> MaterializeResult:
    deps = execution_deps(settings, database, state, notifier)
    open_positions = positions_with_status(deps.engine, ("open", "closing"))

    async def collect() -> tuple[int, Decimal]:
        new, total = 0, ZERO
        for venue in exchanges.venues:
            mine = [p for p in open_positions if p.venue.value == venue]
            if not mine:
                continue
            try:
                async with exchanges.client(venue) as client:
                    for position in mine:
                        collected = await collect_funding(deps, client, position.id)
                        new += collected.new_payments
                        total += collected.funding_received
            except VenueError as exc:
                context.log.warning(f"funding of {venue} not collected: {exc}")
        return new, total

    new, total = run_async(collect())
    return MaterializeResult(
        metadata={"new_payments": new, "open_positions": len(open_positions), "funding_received": float(total)}
    )


def _table(rows: list[PositionRecord]) -> str:
    lines = ["| id | venue | symbol | status | perp | spot | funding | fees | realized |", "|---" * 9 + "|"]
    for p in rows:
        realized = "" if p.realized_pnl is None else f"{p.realized_pnl:.4f}"
        lines.append(
            f"| {p.id} | {p.venue} | {p.symbol} | {p.status} | {p.perp_amount} | {p.spot_amount} | "
            f"{p.funding_received:.4f} | {p.fees_paid:.4f} | {realized} |"
        )
    return "\n".join(lines)


@asset(
    name="positions",
    group_name="execution",
    deps=[funding_payments],
    description="Active hedges and those closed in the last week, with funding, fees and realized P&L.",
)
def positions(context: AssetExecutionContext, database: DatabaseResource) -> MaterializeResult:
    engine = database.engine
    active = positions_with_status(engine, ACTIVE_STATUSES)
    since = datetime.now(UTC) - RECENT
    closed = [p for p in positions_with_status(engine, ("closed",)) if p.closed_at and p.closed_at >= since]
    return MaterializeResult(
        metadata={
            "open": sum(1 for p in active if p.status == "open"),
            "broken": sum(1 for p in active if p.status == "broken"),
            "closed_last_week": len(closed),
            "funding_received": float(sum((p.funding_received for p in active + closed), ZERO)),
            "realized_pnl_last_week": float(sum((p.realized_pnl or ZERO for p in closed), ZERO)),
            "positions": MetadataValue.md(_table(active + closed)),
        }
    )
