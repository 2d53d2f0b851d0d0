"""The Dagster code location: every asset, job, schedule and sensor wired to resources chosen by mode."""

from __future__ import annotations

import os

from dagster import Definitions, in_process_executor

from arbx_pipelines.assets.analytics import capital_allocation, funding_forecasts, opportunity_ranking
from arbx_pipelines.assets.funding_history import FUNDING_HISTORY_CHECKS, funding_history
from arbx_pipelines.assets.inventory import inventory_rebalancing
from arbx_pipelines.assets.market_data import funding_snapshot, markets
from arbx_pipelines.assets.positions import funding_payments, positions
from arbx_pipelines.assets.reports import backtest_report, daily_pnl, performance_report
from arbx_pipelines.assets.spot_arbitrage import spot_arbitrage
from arbx_pipelines.assets.symbols import symbol_funding_stats
from arbx_pipelines.assets.system import database_schema
from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.startup import live_start_granted, settings_in_force
from arbx_pipelines.core.models import Mode
from arbx_pipelines.dagster_ticks import read_dagster_migrations_once
from arbx_pipelines.jobs.execution import EXECUTION_JOBS, reconcile
from arbx_pipelines.jobs.ingestion import INGESTION_JOBS, ingestion_schedules
from arbx_pipelines.jobs.maintenance import MAINTENANCE_JOBS, maintenance_schedules
from arbx_pipelines.jobs.schedules import reconcile_schedule
from arbx_pipelines.jobs.spot import execute_spot_arbitrage
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.exchange import ExchangesResource, simulator_url
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.sensors.funding_opportunity import funding_opportunity
from arbx_pipelines.sensors.ingestion import symbol_listings, volatile_snapshot_sensor
from arbx_pipelines.sensors.position_risk import position_risk
from arbx_pipelines.sensors.quotes import quotes, quotes_monitor_sensor
from arbx_pipelines.sensors.reconcile import reconcile_on_start
from arbx_pipelines.sensors.run_failure import run_failure_alert
from arbx_pipelines.sensors.spot import spot_arbitrage_fills, spot_engine_heartbeat, spot_spread

read_dagster_migrations_once()


def build_resources(
    loaded: LoadedConfig,
    config_path: str | None = None,
    *,
    sim_url: str | None = None,
    live_opt_in: bool = False,
    rate_limit_ms: int | None = None,
) -> dict[str, object]:
    """Resources for the configured mode: in ``sim`` the exchanges point at the simulated venues.
    ``rate_limit_ms`` replaces ccxt's pacing (tests and scenarios on the simulator)."""
    cfg = loaded.config
    if cfg.mode is Mode.SIM and sim_url is None:
        sim_url = simulator_url(cfg.simulator.host, cfg.simulator.port)
    return {
        "settings": SettingsResource(config_path=config_path),
        "database": DatabaseResource(url=loaded.database_url),
        "state": StateResource(database_url=loaded.database_url, redis_url=cfg.redis.url, prefix=cfg.redis.prefix),
        "notifier": NotifierResource(config_path=config_path),
        "exchanges": ExchangesResource(
            venues=[v.value for v in cfg.enabled_venues()],
            mode=cfg.mode.value,
            sim_url=sim_url,
            config_path=config_path,
            live_opt_in=live_opt_in,
            rate_limit_ms=rate_limit_ms,
        ),
    }


def build_definitions(
    loaded: LoadedConfig, config_path: str | None = None, *, sim_url: str | None = None, live_opt_in: bool = False
) -> Definitions:
    """Every run's steps execute in the run's own process (``in_process_executor``): Dagster's default starts a fresh
    Python per step, importing the whole code location again for each asset and asset check (a backfill of
    funding_history: five imports for one fetch), seconds and ~150 MB apiece on the 1-CPU box arbx is planned for."""
    cfg = loaded.config
    return Definitions(
        executor=in_process_executor,
        assets=[
            database_schema,
            markets,
            funding_snapshot,
            quotes,
            funding_history,
            symbol_funding_stats,
            funding_forecasts,
            opportunity_ranking,
            capital_allocation,
            daily_pnl,
            performance_report,
            backtest_report,
            funding_payments,
            positions,
            spot_arbitrage,
            inventory_rebalancing,
        ],
        asset_checks=FUNDING_HISTORY_CHECKS,
        jobs=[*INGESTION_JOBS, *EXECUTION_JOBS, execute_spot_arbitrage, *MAINTENANCE_JOBS],
        schedules=[
            *ingestion_schedules(cfg.schedules),
            reconcile_schedule(reconcile, cfg.schedules.reconcile_minutes),
            *maintenance_schedules(),
        ],
        sensors=[
            run_failure_alert,
            volatile_snapshot_sensor(cfg.schedules.funding_snapshot_volatile_minutes),
            symbol_listings,
            quotes_monitor_sensor(cfg.schedules.quotes_minutes),
            funding_opportunity,
            position_risk,
            reconcile_on_start,
            spot_engine_heartbeat,
            spot_arbitrage_fills,
            spot_spread,
        ],
        resources=build_resources(loaded, config_path, sim_url=sim_url, live_opt_in=live_opt_in),
    )


_settings = settings_in_force()
defs = build_definitions(_settings.loaded, live_opt_in=live_start_granted(_settings.loaded, os.environ))
