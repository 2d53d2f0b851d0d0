"""Cheaper sensor ticks in the code server.

Dagster builds a fresh ``DagsterInstance`` for every evaluation of a sensor that takes resources (it hands the
instance to resource initialisation, whether a resource uses it or not). On the embedded SQLite instance each build
checks the storages' schema revision, and alembic's ``ScriptDirectory.from_config`` loads and executes every one of
Dagster's migration scripts to answer that: about three quarters of the code server's CPU on an idle stack, where a
sensor ticks every few seconds. The scripts are files of the installed Dagster package and cannot change while the
process lives, so their directory is read once per process; the database's own revision is still read on every
build. Our own migrations (``storage/migrations``) are not touched."""

from __future__ import annotations

import os
import threading
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory

_DAGSTER_SCRIPTS_PREFIX = "dagster:"
_cache: dict[tuple[str, str], ScriptDirectory] = {}
_lock = threading.Lock()
_original_from_config: Any = ScriptDirectory.from_config.__func__  # type: ignore[attr-defined]


def _is_dagster_scripts(location: str | None) -> bool:
    if location is None:
        return False
    if location.startswith(_DAGSTER_SCRIPTS_PREFIX):
        return True
    import dagster

    return os.path.abspath(location).startswith(os.path.dirname(os.path.abspath(dagster.__file__)) + os.sep)


def _cached_from_config(cls: type[ScriptDirectory], config: Config) -> ScriptDirectory:
    location = config.get_main_option("script_location")
    if cls is not ScriptDirectory or not _is_dagster_scripts(location):
        return _original_from_config(cls, config)  # type: ignore[no-any-return]
    key = (str(location), ",".join(config.get_version_locations_list() or ()))
    with _lock:
        script = _cache.get(key)
        if script is None:
            script = _cache[key] = _original_from_config(cls, config)
    return script


def read_dagster_migrations_once() -> None:
    """Install the per-process cache of Dagster's migration scripts (idempotent)."""
    if getattr(ScriptDirectory.from_config, "__func__", None) is not _cached_from_config:
        ScriptDirectory.from_config = classmethod(_cached_from_config)  # type: ignore[method-assign,assignment]


def cached_script_directories() -> int:
    """How many script directories the cache holds (for tests)."""
    return len(_cache)
