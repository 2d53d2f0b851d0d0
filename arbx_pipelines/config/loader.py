"""Load ``arbx.yaml`` + the environment overlay + environment variables into a validated config.

Precedence, lowest first: built-in defaults, ``arbx.yaml``, ``arbx.<env>.yaml`` (env from ``ARBX_ENV``: dev, test
or prod), then the environment variables listed in :data:`ENV_OVERRIDES`. Any problem raises :class:`ConfigError`
with one line naming the key, the bad value and what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from arbx_pipelines.config.schema import ArbxConfig

ENVIRONMENTS = ("dev", "test", "prod")

#: environment variable -> dotted config key
ENV_OVERRIDES: dict[str, str] = {
    "ARBX_MODE": "mode",
    "ARBX_DATA_DIR": "data_dir",
    "ARBX_DATABASE_URL": "database.url",
    "ARBX_REDIS_URL": "redis.url",
    "ARBX_SIM_PORT": "simulator.port",
    "ARBX_LOG_LEVEL": "logging.level",
}


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one line a user can act on."""


@dataclass(frozen=True)
class LoadedConfig:
    config: ArbxConfig
    base_dir: Path
    sources: tuple[str, ...]

    @property
    def data_dir(self) -> Path:
        path = Path(self.config.data_dir)
        return path if path.is_absolute() else self.base_dir / path

    @property
    def database_url(self) -> str:
        if self.config.database.url:
            return self.config.database.url
        return f"sqlite:///{self.data_dir / 'arbx.db'}"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: malformed YAML: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, got {type(data).__name__}")
    return data


def _deep_merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[leaf] = value


def _format_validation_error(exc: ValidationError, sources: tuple[str, ...]) -> str:
    err = exc.errors()[0]
    key = ".".join(str(part) for part in err["loc"]) or "(top level)"
    where = " + ".join(sources) if sources else "defaults"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return f"config error ({where}): unknown key '{key}'"
    if err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
        return f"config error ({where}): {key or 'config'}: {msg}"
    if err["type"] == "enum" and err["loc"] and err["loc"][0] == "venues":
        return f"config error ({where}): unknown venue '{err['input']}'; allowed: binance, okx, bitget"
    value = err.get("input")
    return f"config error ({where}): {key} = {value!r}: {msg}"


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Read, merge and validate the configuration. Raises :class:`ConfigError`."""
    environ = os.environ if env is None else env
    explicit = path is not None or "ARBX_CONFIG" in environ
    config_path = Path(path if path is not None else environ.get("ARBX_CONFIG", "arbx.yaml"))
    sources: list[str] = []
    data: dict[str, Any] = {}
    if config_path.exists():
        data = _read_yaml(config_path)
        sources.append(str(config_path))
    elif explicit:
        raise ConfigError(f"{config_path}: config file not found")
    base_dir = config_path.resolve().parent if config_path.exists() else Path.cwd()

    env_name = environ.get("ARBX_ENV")
    if env_name:
        if env_name not in ENVIRONMENTS:
            raise ConfigError(f"ARBX_ENV = {env_name!r}: allowed: {', '.join(ENVIRONMENTS)}")
        overlay_path = config_path.with_name(f"{config_path.stem}.{env_name}{config_path.suffix or '.yaml'}")
        if overlay_path.exists():
            data = _deep_merge(data, _read_yaml(overlay_path))
            sources.append(str(overlay_path))

    for var, dotted in ENV_OVERRIDES.items():
        if environ.get(var):
            _set_dotted(data, dotted, environ[var])
            sources.append(f"${var}")
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted, value)

    try:
        config = ArbxConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, tuple(sources))) from exc
    return LoadedConfig(config=config, base_dir=base_dir, sources=tuple(sources))
