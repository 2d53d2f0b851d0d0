"""The Dagster code location: every asset, job, schedule and sensor wired to resources chosen by mode."""

from __future__ import annotations

import os

from dagster import Definitions, define_asset_job

from arbx_pipelines.assets.funding import build_funding_snapshot_asset
from arbx_pipelines.assets.positions import build_funding_payments_asset, positions
from arbx_pipelines.assets.system import database_schema
from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.startup import LIVE_FLAG_ENV, load_settings
from arbx_pipelines.core.models import Mode
from arbx_pipelines.jobs.execution import build_execution_jobs
from arbx_pipelines.jobs.schedules import funding_snapshot_schedule, reconcile_schedule
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.exchange import exchange_resources, simulator_url
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.sensors.funding_opportunity import build_funding_opportunity_sensor
from arbx_pipelines.sensors.position_risk import build_position_risk_sensor
from arbx_pipelines.sensors.reconcile import build_reconcile_on_start_sensor
from arbx_pipelines.sensors.run_failure import run_failure_alert


def build_resources(loaded: LoadedConfig, config_path: str | None = None) -> dict[str, object]:
    """Resources for the configured mode: one exchange resource per enabled venue (sim: the simulator's URL)."""
    cfg = loaded.config
    sim_url = simulator_url(cfg.simulator.host, cfg.simulator.port) if cfg.mode is Mode.SIM else None
    exchanges = exchange_resources(
        cfg.enabled_venues(),
        cfg.mode,
        sim_url=sim_url,
        config_path=config_path,
        live_opt_in=os.environ.get(LIVE_FLAG_ENV) == "1",
    )
    return {
        "settings": SettingsResource(config_path=config_path),
        "database": DatabaseResource(url=loaded.database_url),
        "state": StateResource(database_url=loaded.database_url, redis_url=cfg.redis.url),
        "notifier": NotifierResource(config_path=config_path),
        **exchanges,
    }


def build_definitions(loaded: LoadedConfig, config_path: str | None = None) -> Definitions:
    cfg = loaded.config
    venues = cfg.enabled_venues()
    jobs = build_execution_jobs(venues)
    snapshot = build_funding_snapshot_asset(venues)
    snapshot_job = define_asset_job("funding_snapshot_job", selection=[snapshot])
    return Definitions(
        assets=[database_schema, snapshot, build_funding_payments_asset(venues), positions],
        jobs=[*jobs.values(), snapshot_job],
        sensors=[
            run_failure_alert,
            build_funding_opportunity_sensor(jobs["open_funding_position"]),
            build_position_risk_sensor(jobs, venues),
            build_reconcile_on_start_sensor(jobs["reconcile"]),
        ],
        schedules=[
            reconcile_schedule(jobs["reconcile"], cfg.schedules.reconcile_minutes),
            funding_snapshot_schedule(snapshot_job, cfg.schedules.funding_snapshot_minutes),
        ],
        resources=build_resources(loaded, config_path),
    )


defs = build_definitions(load_settings().loaded, os.environ.get("ARBX_CONFIG"))
