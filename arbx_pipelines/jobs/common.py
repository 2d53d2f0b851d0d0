"""What the execution ops and sensors share: resource keys, tags, and the step from Dagster resources to the
execution layer's dependencies and venue clients. Nothing here trades."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.context import ExecutionDeps, deps_from_config
from arbx_pipelines.instance import SYMBOL_TAG
from arbx_pipelines.venues.client import VenueClient

T = TypeVar("T")

EXECUTION_TAG = "arbx/execution"
VENUE_TAG = "arbx/venue"
BASE_RESOURCE_KEYS = frozenset({"settings", "database", "state", "notifier"})

__all__ = ["EXECUTION_TAG", "SYMBOL_TAG", "VENUE_TAG"]


def exchange_key(venue: Venue | str) -> str:
    return f"exchange_{Venue(str(venue)).value}"


def resource_keys(venues: Iterable[Venue]) -> set[str]:
    return set(BASE_RESOURCE_KEYS) | {exchange_key(v) for v in venues}


def execution_deps(resources: Any) -> ExecutionDeps:
    """Execution dependencies from an op's or sensor's resources (re-read config: thresholds may have changed)."""
    loaded = resources.settings.loaded()
    return deps_from_config(
        loaded, engine=resources.database.engine, state=resources.state.store, alerts=resources.notifier.sink()
    )


def venue_client(resources: Any, venue: Venue | str) -> VenueClient:
    return getattr(resources, exchange_key(venue)).client()  # type: ignore[no-any-return]


def enabled_venues(resources: Any, venues: Iterable[Venue]) -> list[Venue]:
    """Venues with an exchange resource bound (the enabled ones)."""
    return [v for v in venues if hasattr(resources, exchange_key(v))]


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def run_tags(symbol: str, kind: str, venue: Venue | str) -> dict[str, str]:
    return {SYMBOL_TAG: symbol, EXECUTION_TAG: kind, VENUE_TAG: str(venue)}
