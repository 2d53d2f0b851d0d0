"""At most one execution per symbol at a time (DESIGN): a state-store lock per venue and symbol, beside Dagster's
``arbx/symbol`` tag concurrency limit. Opens give up when the symbol is busy; closes, rebalances and repairs wait
for it, because they reduce risk and must not be dropped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.context import ExecutionDeps


class SymbolBusy(RuntimeError):
    """Another execution holds the symbol for longer than we may wait."""


def symbol_lock_name(venue: Venue | str, symbol: str) -> str:
    return f"symbol:{venue}:{symbol}"


def symbol_lock(
    deps: ExecutionDeps, venue: Venue | str, symbol: str, *, wait_s: float = 0.0, poll_s: float = 0.2
) -> AbstractAsyncContextManager[None]:
    return named_lock(deps, symbol_lock_name(venue, symbol), wait_s=wait_s, poll_s=poll_s)


def capital_lock(deps: ExecutionDeps, venue: Venue | str) -> AbstractAsyncContextManager[None]:
    """Held only while an open re-checks its risk against the other opens and records its intent, so two opens
    running at once on one venue cannot both spend the same room under the capital limits."""
    return named_lock(deps, f"capital:{venue}", wait_s=30.0, poll_s=0.02)


@asynccontextmanager
async def named_lock(
    deps: ExecutionDeps, name: str, *, wait_s: float = 0.0, poll_s: float = 0.2
) -> AsyncIterator[None]:
    deadline = time.monotonic() + wait_s
    while True:
        token = deps.state.acquire_lock(name, deps.settings.lock_ttl_s)
        if token is not None:
            break
        if time.monotonic() >= deadline:
            raise SymbolBusy(f"{name}: held by another execution")
        await asyncio.sleep(poll_s)
    try:
        yield
    finally:
        deps.state.release_lock(name, token)
