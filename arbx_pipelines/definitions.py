"""The Dagster code location: every asset, job, schedule and sensor wired to resources chosen by mode."""

from __future__ import annotations

from dagster import Definitions

from arbx_pipelines.assets.system import database_schema
from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.startup import load_settings
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.sensors.run_failure import run_failure_alert


def build_resources(loaded: LoadedConfig, config_path: str | None = None) -> dict[str, object]:
    """Resources for the configured mode; the exchange resources are added by the venues layer."""
    cfg = loaded.config
    return {
        "settings": SettingsResource(config_path=config_path),
        "database": DatabaseResource(url=loaded.database_url),
        "state": StateResource(database_url=loaded.database_url, redis_url=cfg.redis.url),
        "notifier": NotifierResource(config_path=config_path),
    }


def build_definitions(loaded: LoadedConfig, config_path: str | None = None) -> Definitions:
    return Definitions(
        assets=[database_schema],
        sensors=[run_failure_alert],
        resources=build_resources(loaded, config_path),
    )


defs = build_definitions(load_settings().loaded)
