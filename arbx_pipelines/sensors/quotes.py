"""Quotes without a Dagster run per minute: one sensor, evaluated inside the long-lived code server, fetches the
books of the monitored symbols, stores them through ``storage.quotes`` (and the quote cache) and reports a runless
materialization of the external ``quotes`` asset, so the asset graph and its history stay as before.

A run per minute cost a process start each time (about 17 % of a core on an idle stack); this costs only the
requests and the insert.
"""

from datetime import UTC, datetime

from dagster import (
    AssetMaterialization,
    AssetSpec,
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.positions import ACTIVE_STATUSES, positions_with_status
from arbx_pipelines.marketdata.quotes import fetch_books, store_quotes
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.storage.funding import latest_snapshots

QUOTES_TOP_N = 10

quotes = AssetSpec(
    "quotes",
    deps=["funding_snapshot"],
    group_name="ingestion",
    description="Best bid/ask and top-10 depth of spot and perp for the monitored symbols (cached in the state "
    "store); recorded by the quotes_monitor sensor, not by runs.",
)


def monitored_perps(database: DatabaseResource, config: ArbxConfig, top_n: int) -> list[tuple[Venue, str]]:
    """Configured symbols, else the latest snapshot's top |annualized|; plus every open position's symbol."""
    enabled = {v.value for v in config.enabled_venues()}
    chosen: list[tuple[Venue, str]] = []
    for snapshot in latest_snapshots(database.engine, 1):
        rates = [
            r
            for r in snapshot.rates
            if r.venue in enabled and (not config.strategy.symbols or r.symbol in config.strategy.symbols)
        ]
        rates.sort(key=lambda r: abs(r.annualized), reverse=True)
        chosen = [(Venue(r.venue), r.symbol) for r in rates[:top_n]]
    for position in positions_with_status(database.engine, ACTIVE_STATUSES):
        if (Venue(position.venue), position.symbol) not in chosen:
            chosen.append((Venue(position.venue), position.symbol))
    return chosen


def record_quotes_once(
    exchanges: ExchangesResource, database: DatabaseResource, state: StateResource, settings: SettingsResource
) -> AssetMaterialization:
    """Fetch, store and cache the books of the monitored symbols; the materialization that says what was stored."""
    perps = monitored_perps(database, settings.config, QUOTES_TOP_N)
    now = datetime.now(UTC)
    books, failures = exchanges.run(lambda clients: fetch_books(clients, perps))
    stored = store_quotes(database.engine, books, now, state.store)
    return AssetMaterialization(
        asset_key="quotes",
        metadata={"books": stored, "symbols": len(perps), "failures": len(failures), "time": now.isoformat()},
        description="; ".join(failures[:5]) or None,
    )


def quotes_monitor_sensor(minutes: int) -> SensorDefinition:
    @sensor(
        name="quotes_monitor",
        minimum_interval_seconds=minutes * 60,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"Every {minutes} min: books of the monitored symbols into `quotes` (no run is launched).",
    )
    def quotes_monitor(
        context: SensorEvaluationContext,
        exchanges: ExchangesResource,
        database: DatabaseResource,
        state: StateResource,
        settings: SettingsResource,
    ) -> SensorResult:
        event = record_quotes_once(exchanges, database, state, settings)
        return SensorResult(asset_events=[event])

    return quotes_monitor
