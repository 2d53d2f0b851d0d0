"""What the execution ops, sensors and assets share: tags, and the step from Dagster resources to the execution
layer's dependencies. Nothing here trades."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.context import ExecutionDeps, deps_from_config
from arbx_pipelines.instance import SYMBOL_TAG
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource

T = TypeVar("T")

EXECUTION_TAG = "arbx/execution"
VENUE_TAG = "arbx/venue"

__all__ = ["EXECUTION_TAG", "SYMBOL_TAG", "VENUE_TAG", "execution_deps", "run_async", "run_tags"]


def execution_deps(
    settings: SettingsResource, database: DatabaseResource, state: StateResource, notifier: NotifierResource
) -> ExecutionDeps:
    """Execution dependencies from the resources (config re-read: thresholds may have changed)."""
    return deps_from_config(settings.loaded(), engine=database.engine, state=state.store, alerts=notifier.sink())


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def run_tags(symbol: str, kind: str, venue: Venue | str) -> dict[str, str]:
    return {SYMBOL_TAG: symbol, EXECUTION_TAG: kind, VENUE_TAG: str(venue)}
