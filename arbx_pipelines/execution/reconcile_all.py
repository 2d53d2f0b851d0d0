"""Reconcile every venue (the ``reconcile`` job and ``arbx reconcile``, one code path): interrupted spot arbitrages
first (they span two venues: :func:`~arbx_pipelines.engine.repair.repair_spot_arbitrages`, the same repair as at
every engine start), then each venue in turn (:func:`~arbx_pipelines.execution.reconcile.reconcile_venue`), so its
holdings are compared once the coins a crash left one-legged are flat again."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from arbx_pipelines.engine.repair import repair_spot_arbitrages
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.reconcile import ReconcileReport, reconcile_venue
from arbx_pipelines.logs import get_logger
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.reconcile")


async def reconcile_all(
    deps: ExecutionDeps,
    venues: Sequence[str],
    client_of: Callable[[str], VenueClient],
) -> tuple[list[ReconcileReport], dict[str, str]]:
    """The reports (the spot arbitrages' under the venue ``cross``, listed when there was any), and the venues that
    could not be reached with why."""
    reports: list[ReconcileReport] = []
    failed: dict[str, str] = {}
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, VenueClient] = {}
        for venue in venues:
            try:
                clients[venue] = await stack.enter_async_context(client_of(venue))
            except VenueError as exc:
                log.warning("venue not reconciled", extra={"venue": venue, "error": str(exc)})
                failed[venue] = str(exc)
        spot = await repair_spot_arbitrages(deps, clients)
        if spot.orders_checked or spot.executions_repaired or spot.skipped or spot.pending:
            reports.append(spot)
        for venue, client in clients.items():
            try:
                reports.append(await reconcile_venue(deps, client))
            except VenueError as exc:
                log.warning("venue not reconciled", extra={"venue": venue, "error": str(exc)})
                failed[venue] = str(exc)
    return reports, failed
