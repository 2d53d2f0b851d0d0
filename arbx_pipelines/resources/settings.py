"""The configuration in force as a resource, so ops read thresholds the same way everywhere."""

from __future__ import annotations

from dagster import ConfigurableResource

from arbx_pipelines.config.guard import ConfigEvent, config_in_force
from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.logs import get_logger
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.storage.db import make_engine

log = get_logger("arbx.config")


def record_config_event(event: ConfigEvent, in_force: LoadedConfig) -> None:
    """An applied or rejected change of ``arbx.yaml`` becomes one alert (rejected: a warning naming the line)."""
    kind = "config_rejected" if event.kind == "rejected" else "config_applied"
    severity = "warning" if event.kind == "rejected" else "info"
    details = {"changes": [{"key": k, "old": str(old), "new": str(new)} for k, old, new in event.changes]}
    engine = make_engine(in_force.database_url)
    try:
        AlertSink(engine).raise_alert(kind, event.message, severity=severity, details=details)
    except Exception as exc:  # an alert that cannot be recorded must not stop the sensor that noticed the change
        log.error("config change alert not recorded", extra={"alert": kind, "error": str(exc)})
    finally:
        engine.dispose()


class SettingsResource(ConfigurableResource):
    """The configuration in force (:mod:`arbx_pipelines.config.guard`): changes apply without a restart, and an
    invalid change leaves the last good configuration in force, with one alert."""

    config_path: str | None = None

    def loaded(self) -> LoadedConfig:
        return config_in_force(self.config_path, on_change=record_config_event)

    @property
    def config(self) -> ArbxConfig:
        return self.loaded().config
