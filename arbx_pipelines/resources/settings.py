"""The validated arbx configuration as a resource, so ops read thresholds the same way everywhere."""

from __future__ import annotations

from dagster import ConfigurableResource

from arbx_pipelines.config.loader import LoadedConfig, load_config
from arbx_pipelines.config.schema import ArbxConfig


class SettingsResource(ConfigurableResource):
    """Re-reads ``arbx.yaml`` on every access, so threshold changes take effect without a restart."""

    config_path: str | None = None

    def loaded(self) -> LoadedConfig:
        return load_config(self.config_path)

    @property
    def config(self) -> ArbxConfig:
        return self.loaded().config
