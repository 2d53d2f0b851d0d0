"""At most one execution per symbol at a time (DESIGN): a state-store lock per venue and symbol, beside Dagster's
``arbx/symbol`` tag concurrency limit. Opens give up when the symbol is busy; closes, rebalances and repairs wait
for it, because they reduce risk and must not be dropped.

Locks know their owner (issue 10): the token names the run id, process id and host that hold it, and a heartbeat
keeps the lock alive (its TTL is short and extended while the owner runs). A lock whose owner is gone is taken over
at once: its heartbeat stopped (the lock expired), or its process is not alive on this host (a killed run). A lock
whose owner lives is never taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.lock_owner import take_lock, this_owner
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.state import StateStore

log = get_logger("arbx.execution.locks")


class SymbolBusy(RuntimeError):
    """Another execution holds the symbol for longer than we may wait."""


def symbol_lock_name(venue: Venue | str, symbol: str) -> str:
    return f"symbol:{venue}:{symbol}"


def symbol_lock(
    deps: ExecutionDeps, venue: Venue | str, symbol: str, *, wait_s: float = 0.0, poll_s: float = 0.2
) -> AbstractAsyncContextManager[None]:
    return named_lock(deps, symbol_lock_name(venue, symbol), wait_s=wait_s, poll_s=poll_s, point="lock")


def capital_lock(deps: ExecutionDeps, venue: Venue | str) -> AbstractAsyncContextManager[None]:
    """Held only while an open re-checks its risk against the other opens and records its intent, so two opens
    running at once on one venue cannot both spend the same room under the capital limits."""
    return named_lock(deps, f"capital:{venue}", wait_s=30.0, poll_s=0.02, point="capital_lock")


async def _heartbeat(state: StateStore, name: str, token: str, ttl_s: float) -> None:
    while True:
        await asyncio.sleep(ttl_s / 3)
        try:
            if not state.refresh_lock(name, token, ttl_s):
                log.error("lock lost while held", extra={"lock": name})
                return
        except Exception as exc:
            log.warning("lock heartbeat failed", extra={"lock": name, "error": str(exc)})


@asynccontextmanager
async def named_lock(
    deps: ExecutionDeps, name: str, *, wait_s: float = 0.0, poll_s: float = 0.2, point: str = "lock"
) -> AsyncIterator[None]:
    deadline = time.monotonic() + wait_s
    me = this_owner(deps.run_id)
    ttl_s = deps.settings.lock_ttl_s
    while True:
        token = take_lock(deps.state, name, ttl_s, me)
        if token is not None:
            break
        if time.monotonic() >= deadline:
            raise SymbolBusy(f"{name}: held by another execution")
        await asyncio.sleep(poll_s)
    crash_point(f"{point}.acquired")
    heartbeat = asyncio.create_task(_heartbeat(deps.state, name, token, ttl_s))
    try:
        yield
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        try:
            deps.state.release_lock(name, token)
        except Exception as exc:
            log.warning("lock not released", extra={"lock": name, "error": str(exc)})
        crash_point(f"{point}.released")
