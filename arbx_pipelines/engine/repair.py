"""Finishing spot arbitrages a crash interrupted (run at every engine start; the venue is the truth).

The per-venue reconcile settles every recorded order by client order id (spot arbitrage executions carry the venue
``cross``, so it leaves the executions themselves alone). Here each unfinished ``spot_arb`` execution first has its
still-unsettled orders looked up on their own venues (an intent the venue never received is marked abandoned, never
sent), then, from the settled fills, the coins bought and sold are compared: an excess bought is sold back on the buy
venue, an excess sold is bought back on the sell venue (each recorded first, as a ``repair-flatten`` intent), and the
execution is marked ``repaired`` with an alert. Never a trade to make a record balance: only the venues' fills count.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from arbx_pipelines.core.models import Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.engine.executor import SPOT_ARB_KIND
from arbx_pipelines.engine.legs import flatten
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.reconcile import ReconcileReport, settle_orders
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import FINAL_EXECUTION_STATUSES, get_execution, set_execution_status
from arbx_pipelines.storage.orders import orders_of_execution
from arbx_pipelines.storage.spot_arbitrage import unfinished_executions_of_kind
from arbx_pipelines.venues.client import VenueClient

log = get_logger("arbx.engine.repair")


async def repair_spot_arbitrages(deps: ExecutionDeps, clients: Mapping[str, VenueClient]) -> list[str]:
    """Settle and flatten every interrupted spot arbitrage; returns the keys repaired."""
    repaired: list[str] = []
    for execution_id in unfinished_executions_of_kind(deps.engine, SPOT_ARB_KIND, FINAL_EXECUTION_STATUSES):
        execution = get_execution(deps.engine, execution_id)
        orders = orders_of_execution(deps.engine, execution_id)
        venues = {o.venue for o in orders}
        if not venues <= set(clients):
            log.warning("spot arbitrage on a venue not enabled; left", extra={"execution": execution.key})
            continue
        for venue in sorted(venues):
            pending = [o for o in orders if o.venue == venue and not o.is_final]
            if pending:
                await settle_orders(deps, clients[venue], pending, ReconcileReport(venue))
        orders = orders_of_execution(deps.engine, execution_id)
        if any(not o.is_final for o in orders):
            log.warning("spot arbitrage still has orders of unknown outcome", extra={"execution": execution.key})
            continue
        net = sum((o.filled if o.side is Side.BUY else -o.filled for o in orders), ZERO)
        if net != 0:
            venue = str(execution.planned["buy_venue"] if net > 0 else execution.planned["sell_venue"])
            info = await clients[venue].market(execution.symbol)
            await flatten(deps, clients[venue], execution.key, execution_id, info, Decimal(net), name="repair-flatten")
        set_execution_status(deps.engine, execution_id, "repaired", "interrupted; settled and flattened at start")
        deps.alerts.raise_alert(
            "execution_repaired",
            f"{execution.symbol}: spot arbitrage {execution.key} finished after an interruption (net {net})",
            severity="warning",
            symbol=execution.symbol,
            details={"execution": execution.key, "net_base": str(net)},
        )
        repaired.append(execution.key)
    return repaired
