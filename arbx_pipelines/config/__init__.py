"""Configuration: ``arbx.yaml`` schema, loading with overlays, and encrypted secrets."""

from arbx_pipelines.config.errors import ConfigError
from arbx_pipelines.config.loader import LoadedConfig, load_config
from arbx_pipelines.config.schema import ArbxConfig

__all__ = ["ArbxConfig", "ConfigError", "LoadedConfig", "load_config"]
