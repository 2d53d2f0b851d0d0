"""What every entry point does first: load config and secrets, and refuse live trading without opt-in.

Live trading needs ``--live`` on the command line of each start. An environment variable never counts (an exported
one would outlive the start it was meant for): ``arbx run --live`` hands its own processes a one-start token
instead, written 0600 to the data directory and removed when that start ends.
"""

from __future__ import annotations

import os
import secrets as token_source
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from arbx_pipelines.config.errors import ConfigError
from arbx_pipelines.config.guard import config_in_force
from arbx_pipelines.config.loader import LoadedConfig, load_config
from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.config.secrets import Secrets, check_required_secrets, load_secrets
from arbx_pipelines.core.models import Mode

#: set by ``arbx run --live`` for the processes it starts; valid only while that start's token file exists
LIVE_START_ENV = "ARBX_LIVE_START"
LIVE_START_FILE = ".live-start"


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
        raise ConfigError("mode = 'live': refusing to start without --live on the command line of this start")


def _live_token_file(loaded: LoadedConfig) -> Path:
    return loaded.data_dir / LIVE_START_FILE


def grant_live_start(loaded: LoadedConfig) -> str:
    """The token ``arbx run --live`` passes to its processes in :data:`LIVE_START_ENV` (one start only)."""
    token = token_source.token_hex(16)
    path = _live_token_file(loaded)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token)
    return token


def revoke_live_start(loaded: LoadedConfig) -> None:
    _live_token_file(loaded).unlink(missing_ok=True)


def live_start_granted(loaded: LoadedConfig, environ: Mapping[str, str]) -> bool:
    """True in a process started by ``arbx run --live`` while that start lasts."""
    token = environ.get(LIVE_START_ENV)
    if not token:
        return False
    try:
        return _live_token_file(loaded).read_text(encoding="utf-8").strip() == token
    except OSError:
        return False


def check_data_dir(loaded: LoadedConfig) -> None:
    """The data directory must exist (created if missing) and be writable: SQLite, reports and state live there."""
    path = loaded.data_dir
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        probe = path / f".write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"data_dir = {str(path)!r}: not writable ({exc.strerror}); choose a folder arbx may write"
        ) from exc


def load_settings(
    path: str | None = None, *, live_flag: bool = False, env: Mapping[str, str] | None = None
) -> Settings:
    """Strict loading for a start: any problem in the files is an error (``live_flag``: ``--live`` was given)."""
    environ = os.environ if env is None else env
    loaded = load_config(path, env=environ)
    require_live_opt_in(loaded, live_flag)
    secrets = load_secrets(loaded, environ)
    check_required_secrets(loaded, secrets)
    return Settings(loaded=loaded, secrets=secrets)


def settings_in_force(path: str | None = None, *, env: Mapping[str, str] | None = None) -> Settings:
    """For the code location: the configuration in force (an invalid edit keeps the last good one), live only
    within an ``arbx run --live`` start."""
    environ = os.environ if env is None else env
    loaded = config_in_force(path, env=environ)
    require_live_opt_in(loaded, live_start_granted(loaded, environ))
    secrets = load_secrets(loaded, environ)
    check_required_secrets(loaded, secrets)
    return Settings(loaded=loaded, secrets=secrets)
