"""``inventory_rebalancing``: per-venue skew of the spot inventory the engine trades, and suggested transfers.

Transfers between venues are slow and cost withdrawal fees, so this only suggests them (in the metadata and the
log); arbx never withdraws on its own.
"""

import asyncio
from decimal import Decimal

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from arbx_pipelines.core.models import MarketType, Venue
from arbx_pipelines.engine.rebalance import skew, suggest_transfers
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.venues.client import VenueClient


@asset(
    name="inventory_rebalancing",
    group_name="spot",
    description="Spot inventory per venue for the spread symbols, its skew, and transfers that would even it out.",
)
def inventory_rebalancing(
    context: AssetExecutionContext, settings: SettingsResource, exchanges: ExchangesResource
) -> MaterializeResult:
    cfg = settings.config
    assets = sorted({symbol.split("/")[1] for symbol in cfg.spread.symbols}
                    | {symbol.split("/")[0] for symbol in cfg.spread.symbols})  # fmt: skip

    async def read(clients: dict[Venue, VenueClient]) -> dict[str, dict[str, Decimal]]:
        wallets = await asyncio.gather(*(client.balances(MarketType.SPOT) for client in clients.values()))
        pairs = zip(clients, wallets, strict=True)
        return {venue.value: {a: b.total for a, b in wallet.items()} for venue, wallet in pairs}

    holdings = exchanges.run(read)
    transfers = suggest_transfers(holdings, assets)
    rows = ["| asset | from | to | amount |", "|---|---|---|---|"]
    rows += [f"| {t.asset} | {t.source} | {t.target} | {t.amount} |" for t in transfers]
    for transfer in transfers:
        context.log.info(
            f"suggested transfer: {transfer.amount} {transfer.asset} {transfer.source} -> {transfer.target}"
        )
    shares = {a: {v: float(round(s, 4)) for v, s in skew(holdings, a).items()} for a in assets}
    return MaterializeResult(metadata={
        "transfers": MetadataValue.md("\n".join(rows)) if transfers else MetadataValue.md("inventory is balanced"),
        "suggested": len(transfers),
        "skew": MetadataValue.json(shares),
    })  # fmt: skip
