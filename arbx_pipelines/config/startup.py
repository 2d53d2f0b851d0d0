"""What every entry point does first: load config and secrets, and refuse live trading without opt-in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from arbx_pipelines.config.loader import ConfigError, LoadedConfig, load_config
from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.config.secrets import Secrets, check_required_secrets, load_secrets
from arbx_pipelines.core.models import Mode

LIVE_FLAG_ENV = "ARBX_LIVE"


@dataclass(frozen=True)
class Settings:
    loaded: LoadedConfig
    secrets: Secrets

    @property
    def config(self) -> ArbxConfig:
        return self.loaded.config


def require_live_opt_in(loaded: LoadedConfig, live_flag: bool) -> None:
    """Live mode needs both ``live_trading_confirmed: true`` in the config and ``--live`` at every start."""
    if loaded.config.mode is not Mode.LIVE:
        return
    if not loaded.config.live_trading_confirmed:
        raise ConfigError("mode = 'live' needs live_trading_confirmed: true in the config (and --live at every start)")
    if not live_flag:
        raise ConfigError("mode = 'live': refusing to start without --live (or ARBX_LIVE=1) on this start")


def load_settings(
    path: str | None = None, *, live_flag: bool = False, env: Mapping[str, str] | None = None
) -> Settings:
    environ = os.environ if env is None else env
    loaded = load_config(path, env=environ)
    require_live_opt_in(loaded, live_flag or environ.get(LIVE_FLAG_ENV) == "1")
    secrets = load_secrets(loaded, environ)
    check_required_secrets(loaded, secrets)
    return Settings(loaded=loaded, secrets=secrets)
