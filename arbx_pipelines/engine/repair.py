"""Finishing spot arbitrages a crash interrupted, the venues being the truth: one function, two callers (every
engine start, and reconcile: the ``reconcile`` job and ``arbx reconcile``).

Spot arbitrage executions carry the venue ``cross`` (they span two venues), so the per-venue reconcile leaves them
and their orders alone; they are finished here, and only those no live engine or run still works on
(:mod:`.liveness`), each under a lock of its own so two repairers never race. First each still-unsettled order is
looked up on its own venue by client order id (an intent the venue never received is marked abandoned, once no
request of it can still arrive, never sent). Then, from the settled fills, the coins bought and sold are compared:
an excess bought is sold back on the buy venue, an excess sold is bought back on the sell venue (each recorded first,
as a ``repairN`` intent of the same execution, N counting rounds so a round a crash interrupted is never sent twice
under one id), and the execution is marked ``repaired`` with an alert. A flatten whose outcome is not known yet, or
that left coins over, keeps the execution open for the next round. Never a trade to make a record balance: only the
venues' fills count.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from arbx_pipelines.core.models import Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.engine.executor import CROSS_VENUE, SPOT_ARB_KIND
from arbx_pipelines.engine.legs import flatten
from arbx_pipelines.engine.liveness import EngineLiveness, engine_liveness, may_finish
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.locks import SymbolBusy, named_lock
from arbx_pipelines.execution.reconcile import ReconcileReport, settle_orders
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import (
    FINAL_EXECUTION_STATUSES,
    ExecutionRef,
    get_execution,
    set_execution_status,
)
from arbx_pipelines.storage.orders import OrderRecord, orders_missing_fills, orders_of_execution
from arbx_pipelines.storage.spot_arbitrage import unfinished_executions_of_kind
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.engine.repair")
REPAIR_LEG = "repair"


async def repair_spot_arbitrages(
    deps: ExecutionDeps,
    clients: Mapping[str, VenueClient],
    *,
    liveness: EngineLiveness | None = None,
    now: datetime | None = None,
) -> ReconcileReport:
    """Settle and flatten every interrupted spot arbitrage no live engine or run holds; the report (venue
    ``cross``) lists those repaired, those left to a live owner (``skipped``) and those waiting for a venue."""
    report = ReconcileReport(CROSS_VENUE)
    now = now or datetime.now(UTC)
    liveness = liveness or engine_liveness(deps.state, now)
    busy_window_s = deps.settings.spot_task_timeout_s + deps.settings.order_in_flight_s
    for execution_id in unfinished_executions_of_kind(deps.engine, SPOT_ARB_KIND, FINAL_EXECUTION_STATUSES):
        execution = get_execution(deps.engine, execution_id)
        if not may_finish(execution, liveness, busy_window_s, now):
            report.skipped.append(execution.key)
            continue
        try:
            async with named_lock(deps, f"spot_arb:{execution.key}"):
                execution = get_execution(deps.engine, execution_id)  # another repairer may have finished it
                if execution.status not in FINAL_EXECUTION_STATUSES:
                    await _finish(deps, clients, execution, report)
        except SymbolBusy:
            report.skipped.append(execution.key)
        except (VenueError, RuntimeError) as exc:  # a venue not answering, or an empty book to flatten into
            report.pending.append(execution.key)
            log.warning("spot repair failed; the next reconcile retries",
                        extra={"execution": execution.key, "error": str(exc)})  # fmt: skip
    return report


def _unsettled(deps: ExecutionDeps, orders: list[OrderRecord], venue: str) -> list[OrderRecord]:
    """Orders of one venue with no final answer, or with trades not all stored."""
    missing = {o.id for o in orders_missing_fills(deps.engine, venue)}
    return [o for o in orders if o.venue == venue and (not o.is_final or o.id in missing)]


def _net(orders: list[OrderRecord]) -> Decimal:
    return sum((o.filled if o.side is Side.BUY else -o.filled for o in orders), ZERO)


async def _finish(
    deps: ExecutionDeps, clients: Mapping[str, VenueClient], execution: ExecutionRef, report: ReconcileReport
) -> None:
    orders = orders_of_execution(deps.engine, execution.id)
    venues = {o.venue for o in orders}
    if not venues <= set(clients):
        log.warning("spot arbitrage on a venue not reconciled now; left", extra={"execution": execution.key})
        report.pending.append(execution.key)
        return
    for venue in sorted(venues):
        if pending := _unsettled(deps, orders, venue):
            await settle_orders(deps, clients[venue], pending, report)
    orders = orders_of_execution(deps.engine, execution.id)
    if any(not o.is_final for o in orders):
        log.warning("spot arbitrage still has orders of unknown outcome", extra={"execution": execution.key})
        report.pending.append(execution.key)
        return
    net = _net(orders)
    if net != 0:
        venue = str(execution.planned["buy_venue"] if net > 0 else execution.planned["sell_venue"])
        info = await clients[venue].market(execution.symbol)
        rounds = sum(1 for o in orders if o.leg.startswith(REPAIR_LEG))
        sent = await flatten(deps, clients[venue], execution.key, execution.id, info, net,
                             name=f"{REPAIR_LEG}{rounds + 1}")  # fmt: skip
        if sent is not None and (not sent.known or sent.filled < sent.intent.amount):
            log.warning("spot repair flatten not complete; the next reconcile continues",
                        extra={"execution": execution.key, "net": str(net)})  # fmt: skip
            report.pending.append(execution.key)
            return
    set_execution_status(deps.engine, execution.id, "repaired", "interrupted; settled and flattened from the venues")
    deps.alerts.raise_alert(
        "execution_repaired",
        f"{execution.symbol}: spot arbitrage {execution.key} finished after an interruption (net {net})",
        severity="warning",
        symbol=execution.symbol,
        details={"execution": execution.key, "net_base": str(net)},
    )
    report.executions_repaired.append(execution.key)
