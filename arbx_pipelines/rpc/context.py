"""What every service call needs: the loaded config, the application database and the alert sink."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from arbx_pipelines.config.loader import LoadedConfig, load_config
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.notify.configured import alert_sink
from arbx_pipelines.storage.db import make_engine, upgrade


@dataclass(frozen=True)
class RpcContext:
    loaded: LoadedConfig
    config_path: str | None
    engine: Engine
    sink: AlertSink

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)


def rpc_context(config_path: str | None) -> RpcContext:
    """Load the config, bring the database schema up to date (the views must work before the first run) and build
    the alert sink from the configured channels."""
    loaded = load_config(config_path)
    upgrade(loaded.database_url)
    engine = make_engine(loaded.database_url)
    return RpcContext(loaded, config_path, engine, alert_sink(loaded))
