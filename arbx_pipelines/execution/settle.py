"""How an execution ends: the position's status and realized P&L from its recorded fills and funding.

``finish_open``: legs matched within one lot -> open; nothing (or less than a lot) left on both legs -> closed with
the fees it cost; otherwise the position was already marked broken. ``finish_close``: realized P&L = funding
received - all fees + perp price P&L + spot price P&L (:mod:`arbx_pipelines.execution.pnl`), booked once in the
ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.sizing import MarketRules
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.legs import BalanceResult
from arbx_pipelines.execution.positions import PositionRecord, book_of, refresh_from_fills, set_status
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import BROKEN, ExecutionRef, set_execution_status
from arbx_pipelines.storage.ledger import ledger_once
from arbx_pipelines.storage.orders import utcnow

log = get_logger("arbx.execution.settle")


def lot(rules: MarketRules) -> Decimal:
    return rules.base_step or ZERO


def is_flat(position: PositionRecord, spot_rules: MarketRules, perp_rules: MarketRules) -> bool:
    """Both legs below one lot of their market: nothing left that could be traded away."""
    spot_lot, perp_lot = lot(spot_rules), lot(perp_rules)
    return abs(position.perp_amount) < max(perp_lot, Decimal("1e-12")) and abs(position.spot_amount) < max(
        spot_lot, Decimal("1e-12")
    )


def book_realized(deps: ExecutionDeps, position: PositionRecord) -> Decimal:
    """Realized P&L from the fills and funding; the perp's price P&L is booked once in the ledger."""
    book = book_of(deps.engine, position)
    realized = book.realized_pnl(position.funding_received)
    ledger_once(
        deps.engine,
        f"perp_pnl:{position.id}",
        venue=str(position.venue),
        account="swap",
        currency="USDT",
        amount=book.perp_pnl,
        kind="trade",
        position_id=position.id,
        time=utcnow(),
        note=f"perp price P&L of position {position.id}",
    )
    return realized


def finish_open(
    deps: ExecutionDeps,
    execution: ExecutionRef,
    result: BalanceResult,
    perp_rules: MarketRules,
    spot_rules: MarketRules,
) -> str:
    """Final status of the position an open made: open, closed (flat) or broken. Broken while the venue has not
    answered (PENDING) leaves the execution ``broken``, the marker the next reconcile finishes."""
    assert execution.position_id is not None
    position = refresh_from_fills(deps.engine, execution.position_id)
    crash_point("position.committed")
    if result is BalanceResult.PENDING:
        set_execution_status(deps.engine, execution.id, BROKEN, "order outcome or fills unknown")
        crash_point("execution.committed")
        return "broken"
    if result is BalanceResult.BROKEN:
        set_execution_status(deps.engine, execution.id, "failed", "legs could not be balanced")
        crash_point("execution.committed")
        return "broken"
    if is_flat(position, spot_rules, perp_rules):
        realized = book_realized(deps, position)
        set_status(deps.engine, position.id, "closed", close_reason="not_opened", realized_pnl=realized, closed=True)
        crash_point("position.committed")
        set_execution_status(deps.engine, execution.id, "failed", "no hedge left after the legs were corrected")
        crash_point("execution.committed")
        return "closed"
    set_status(deps.engine, position.id, "open")
    crash_point("position.committed")
    set_execution_status(deps.engine, execution.id, "done")
    crash_point("execution.committed")
    return "open"


def end_broken(deps: ExecutionDeps, execution: ExecutionRef, error: BaseException) -> str:
    """After its first order may be on the venue, an execution that fails (venue, state store, database) ends here
    instead of raising: execution ``broken`` (the marker the next reconcile finishes), position ``broken``, critical
    alert. Each step is tried on its own: with the database down the execution simply stays unfinished, which
    reconcile finishes just the same."""
    why = f"{type(error).__name__}: {error}"[:400]
    log.error("execution interrupted after sending", extra={"execution": execution.key, "error": why})
    steps: list[Callable[[], object]] = [lambda: set_execution_status(deps.engine, execution.id, BROKEN, why)]
    if execution.position_id is not None:
        position_id = execution.position_id
        steps.append(lambda: set_status(deps.engine, position_id, "broken", close_reason=why[:64]))
    steps.append(
        lambda: deps.alerts.raise_alert(
            "position_broken",
            f"{execution.venue} {execution.symbol}: {execution.kind} interrupted after sending ({why}); reconcile "
            "finishes it",
            severity="critical",
            venue=execution.venue,
            symbol=execution.symbol,
            details={"execution": execution.key, "position_id": execution.position_id, "why": why},
        )
    )
    for step in steps:
        try:
            step()
        except Exception as exc:
            log.error("could not record the interruption", extra={"execution": execution.key, "error": str(exc)})
    return "broken"
