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

from pydantic import ValidationError

from arbx_pipelines.config.errors import ConfigError
from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.config.yaml_source import KeyPath, YamlDocument, read_yaml

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


def _origin(loc: KeyPath, documents: list[YamlDocument], env_keys: dict[KeyPath, str]) -> str | None:
    """Where the value at ``loc`` (or its nearest written parent) came from: ``$VAR`` or ``file:line``; the last
    source that wrote it wins, as in the merge."""
    for size in range(len(loc), 0, -1):
        prefix = loc[:size]
        if prefix in env_keys:
            return env_keys[prefix]
        for document in reversed(documents):
            if prefix in document.lines:
                return f"{document.path}:{document.lines[prefix]}"
    return None


def _format_validation_error(
    exc: ValidationError, sources: tuple[str, ...], documents: list[YamlDocument], env_keys: dict[KeyPath, str]
) -> str:
    err = exc.errors()[0]
    loc = tuple(str(part) for part in err["loc"])
    key = ".".join(loc) or "(top level)"
    where = _origin(loc, documents, env_keys) or (" + ".join(sources) if sources else "defaults")
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


def config_files(path: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> tuple[Path, Path | None]:
    """The config file and, when ``ARBX_ENV`` names an environment, its overlay file (either may not exist)."""
    config_path = Path(path if path is not None else environ.get("ARBX_CONFIG", "arbx.yaml"))
    env_name = environ.get("ARBX_ENV")
    if not env_name:
        return config_path, None
    return config_path, config_path.with_name(f"{config_path.stem}.{env_name}{config_path.suffix or '.yaml'}")


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Read, merge and validate the configuration. Raises :class:`ConfigError`."""
    environ = os.environ if env is None else env
    explicit = path is not None or "ARBX_CONFIG" in environ
    config_path, overlay_path = config_files(path, environ)
    sources: list[str] = []
    documents: list[YamlDocument] = []
    data: dict[str, Any] = {}
    if config_path.exists():
        documents.append(read_yaml(config_path))
        data = documents[-1].data
        sources.append(str(config_path))
    elif explicit:
        raise ConfigError(f"{config_path}: config file not found")
    base_dir = config_path.resolve().parent if config_path.exists() else Path.cwd()

    env_name = environ.get("ARBX_ENV")
    if env_name and env_name not in ENVIRONMENTS:
        raise ConfigError(f"ARBX_ENV = {env_name!r}: allowed: {', '.join(ENVIRONMENTS)}")
    if overlay_path is not None and overlay_path.exists():
        documents.append(read_yaml(overlay_path))
        data = _deep_merge(data, documents[-1].data)
        sources.append(str(overlay_path))

    env_keys: dict[KeyPath, str] = {}
    for var, dotted in ENV_OVERRIDES.items():
        if environ.get(var):
            _set_dotted(data, dotted, environ[var])
            sources.append(f"${var}")
            env_keys[tuple(dotted.split("."))] = f"${var}"
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted, value)

    try:
        config = ArbxConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, tuple(sources), documents, env_keys)) from exc
    return LoadedConfig(config=config, base_dir=base_dir, sources=tuple(sources))
