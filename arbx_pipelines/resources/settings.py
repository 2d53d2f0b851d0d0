"""The configuration in force as a resource, so ops read thresholds the same way everywhere."""

from __future__ import annotations

from dagster import ConfigurableResource

from arbx_pipelines.config.guard import ConfigEvent, config_in_force
from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.logs import get_logger
from arbx_pipelines.notify.events import notify_config_change
from arbx_pipelines.resources.notifier import alert_sink

log = get_logger("arbx.config")


def record_config_event(event: ConfigEvent, in_force: LoadedConfig) -> None:
    """An applied or rejected change of ``arbx.yaml`` becomes one notification (rejected: critical, naming the line),
    through the sink of the configuration in force."""
    source = in_force.sources[0] if in_force.sources else "arbx.yaml"
    changes = {key: (old, new) for key, old, new in event.changes}
    try:
        notify_config_change(
            alert_sink(in_force), applied=event.kind == "applied", source=source, changes=changes, error=event.error
        )
    except Exception as exc:  # an alert that cannot be recorded must not stop the sensor that noticed the change
        log.error("config change alert not recorded", extra={"change": event.kind, "error": str(exc)})


class SettingsResource(ConfigurableResource):
    """The configuration in force (:mod:`arbx_pipelines.config.guard`): changes apply without a restart, and an
    invalid change leaves the last good configuration in force, with one alert."""

    config_path: str | None = None

    def loaded(self) -> LoadedConfig:
        return config_in_force(self.config_path, on_change=record_config_event)

    @property
    def config(self) -> ArbxConfig:
        return self.loaded().config
