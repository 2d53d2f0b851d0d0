"""The configuration in force: a change to ``arbx.yaml`` that fails validation never blinds a running arbx.

Long-running processes (the code location, sensors, run processes) read the configuration through
:func:`config_in_force`. It re-validates only when the files or the environment overrides changed. A valid change
becomes the configuration in force and is logged with the keys that changed (old -> new); an invalid one leaves
the last good configuration in force and is logged once. The last good configuration is kept on disk (0600, beside
the config file under ``.arbx/``), so a process started after the file went bad still has it, and every process
agrees on which change was applied or rejected: each change is reported exactly once, by the first caller that
passes ``on_change``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from arbx_pipelines.config.errors import ConfigError
from arbx_pipelines.config.loader import ENV_OVERRIDES, LoadedConfig, config_files, load_config
from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.logs import get_logger

log = get_logger("arbx.config")
STATE_DIR = ".arbx"
#: environment variables that change what the configuration is
_ENV_INPUTS = ("ARBX_CONFIG", "ARBX_ENV", *ENV_OVERRIDES)

Change = tuple[str, Any, Any]


@dataclass(frozen=True)
class ConfigEvent:
    """A change of the config files: ``applied`` (with the keys that changed) or ``rejected`` (with the error)."""

    kind: Literal["applied", "rejected"]
    message: str
    changes: tuple[Change, ...] = ()
    #: rejected: the files' one-line error (it names the file and line)
    error: str = ""


@dataclass(frozen=True)
class ConfigStatus:
    """What ``arbx config check`` shows: the files' own error (if any) and the configuration in force."""

    in_force: LoadedConfig | None
    accepted_at: str | None
    error: str | None


OnChange = Callable[[ConfigEvent, LoadedConfig], None]

_cache_lock = threading.Lock()
_cache: dict[str, tuple[str, LoadedConfig]] = {}


def _inputs(path: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> tuple[str, str, Path]:
    """(key of this configuration, fingerprint of its current content, state file)."""
    config_path, overlay_path = config_files(path, environ)
    resolved = config_path.resolve()
    env_part = json.dumps({name: environ.get(name) for name in _ENV_INPUTS if name != "ARBX_CONFIG"}, sort_keys=True)
    key = hashlib.sha256(f"{resolved}\n{env_part}".encode()).hexdigest()[:16]
    digest = hashlib.sha256(env_part.encode())
    for file in (config_path, overlay_path):
        if file is not None:
            try:
                digest.update(file.read_bytes() if file.is_file() else b"<not a file>")
            except OSError as exc:
                digest.update(f"<unreadable {exc.errno}>".encode())
    base_dir = resolved.parent if config_path.exists() else Path.cwd()
    return key, digest.hexdigest(), base_dir / STATE_DIR / f"config-{key}.json"


@contextmanager
def _locked(state_file: Path) -> Iterator[None]:
    state_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(state_file.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _read_state(state_file: Path) -> dict[str, Any]:
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(state_file: Path, state: dict[str, Any]) -> None:
    tmp = state_file.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1, sort_keys=True)
    os.replace(tmp, state_file)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: data}


def changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[Change, ...]:
    """Every dotted key whose value differs, with its old and new value (``None`` where absent)."""
    before, after = _flatten(dict(old)), _flatten(dict(new))
    return tuple(
        (k, before.get(k), after.get(k)) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)
    )


def _describe(changes: tuple[Change, ...]) -> str:
    return "; ".join(f"{key}: {old!r} -> {new!r}" for key, old, new in changes)


def _restore(good: Mapping[str, Any]) -> LoadedConfig:
    config = ArbxConfig.model_validate(good["data"])
    return LoadedConfig(config=config, base_dir=Path(good["base_dir"]), sources=tuple(good["sources"]))


def _good_record(loaded: LoadedConfig, fingerprint: str) -> dict[str, Any]:
    return {
        "fingerprint": fingerprint,
        "data": loaded.config.model_dump(mode="json"),
        "base_dir": str(loaded.base_dir),
        "sources": list(loaded.sources),
        "accepted_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _apply(state: dict[str, Any], loaded: LoadedConfig, fingerprint: str) -> None:
    """A valid configuration: it is now in force; a change of keys is recorded (once) as an applied event."""
    good = state.get("good")
    state["rejected"] = None
    if good is not None and good.get("fingerprint") == fingerprint:
        return
    record = _good_record(loaded, fingerprint)
    changes = changed_keys(good["data"], record["data"]) if good is not None else ()
    state["good"] = record
    if changes:
        message = f"config change applied ({' + '.join(loaded.sources)}): {_describe(changes)}"
        log.info(message, extra={"changed_keys": [key for key, _, _ in changes]})
        state["applied"] = {"message": message, "changes": [list(c) for c in changes], "reported": False}


def _reject(state: dict[str, Any], error: str, fingerprint: str) -> None:
    rejected = state.get("rejected")
    if rejected is not None and rejected.get("fingerprint") == fingerprint:
        return
    message = f"config change rejected, the last good configuration stays in force: {error}"
    log.error(message)
    state["rejected"] = {"fingerprint": fingerprint, "message": message, "error": error, "reported": False}


def _due_events(state: dict[str, Any]) -> list[ConfigEvent]:
    """Events not reported yet, marked reported (the caller reports them)."""
    events: list[ConfigEvent] = []
    applied, rejected = state.get("applied"), state.get("rejected")
    if applied is not None and not applied["reported"]:
        applied["reported"] = True
        changes = tuple((str(key), old, new) for key, old, new in applied["changes"])
        events.append(ConfigEvent("applied", applied["message"], changes))
    if rejected is not None and not rejected["reported"]:
        rejected["reported"] = True
        events.append(ConfigEvent("rejected", rejected["message"], error=rejected["error"]))
    return events


def config_in_force(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    on_change: OnChange | None = None,
) -> LoadedConfig:
    """The configuration in force (see the module docstring). Raises :class:`ConfigError` only when the files are
    invalid and no configuration was ever accepted."""
    environ = os.environ if env is None else env
    key, fingerprint, state_file = _inputs(path, environ)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == fingerprint:
        if on_change is not None:
            _report(state_file, cached[1], on_change)
        return cached[1]
    try:
        fresh: LoadedConfig | None = load_config(path, env=environ)
        error = None
    except ConfigError as exc:
        fresh, error = None, str(exc)
    try:
        in_force = _record(state_file, fresh, error, fingerprint)
    except OSError as exc:  # the state folder cannot be written: this process's memory is the only record
        log.warning("config state not recorded", extra={"path": str(state_file), "error": exc.strerror})
        if fresh is not None:
            in_force = fresh
        elif cached is not None:
            in_force = cached[1]
        else:
            raise ConfigError(str(error)) from exc
    with _cache_lock:
        _cache[key] = (fingerprint, in_force)
    if on_change is not None:
        _report(state_file, in_force, on_change)
    return in_force


def _record(state_file: Path, fresh: LoadedConfig | None, error: str | None, fingerprint: str) -> LoadedConfig:
    """Record the outcome of validating new content; returns the configuration in force."""
    with _locked(state_file):
        state = _read_state(state_file)
        if fresh is not None:
            _apply(state, fresh, fingerprint)
        elif state.get("good") is None:
            raise ConfigError(str(error))
        else:
            _reject(state, str(error), fingerprint)
        _write_state(state_file, state)
        return fresh if fresh is not None else _restore(state["good"])


def _report(state_file: Path, in_force: LoadedConfig, on_change: OnChange) -> None:
    """Hand every event nobody reported yet to ``on_change`` (after the lock: it may read the config again)."""
    try:
        with _locked(state_file):
            state = _read_state(state_file)
            events = _due_events(state)
            if events:
                _write_state(state_file, state)
    except OSError:
        return  # nothing recorded, nothing to report (config_in_force logged why)
    for event in events:
        on_change(event, in_force)


def config_status(path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> ConfigStatus:
    """The files' error (``None`` when valid) and the last good configuration on record, without changing it."""
    environ = os.environ if env is None else env
    _key, _fingerprint, state_file = _inputs(path, environ)
    try:
        loaded: LoadedConfig | None = load_config(path, env=environ)
        error = None
    except ConfigError as exc:
        loaded, error = None, str(exc)
    good = _read_state(state_file).get("good")
    if error is None:
        return ConfigStatus(loaded, None, None)
    if good is None:
        return ConfigStatus(None, None, error)
    return ConfigStatus(_restore(good), str(good.get("accepted_at")), error)
