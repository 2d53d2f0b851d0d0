"""How an execution ends: the position's status and realized P&L from its recorded fills and funding.

``finish_open``: legs matched within one lot -> open; nothing (or less than a lot) left on both legs -> closed with
the fees it cost; otherwise the position was already marked broken. ``finish_close``: realized P&L = funding
received - all fees + perp price P&L + spot price P&L (:mod:`arbx_pipelines.execution.pnl`), booked once in the
ledger.
"""

from __future__ import annotations

from decimal import Decimal

from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.sizing import MarketRules
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.fills import ledger_once
from arbx_pipelines.execution.positions import PositionRecord, book_of, refresh_from_fills, set_status
from arbx_pipelines.execution.records import ExecutionRef, set_execution_status, utcnow


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
    deps: ExecutionDeps, execution: ExecutionRef, balanced: bool, perp_rules: MarketRules, spot_rules: MarketRules
) -> str:
    """Final status of the position an open made: open, closed (flat) or broken."""
    assert execution.position_id is not None
    position = refresh_from_fills(deps.engine, execution.position_id)
    if not balanced:
        set_execution_status(deps.engine, execution.id, "failed", "legs could not be balanced")
        return "broken"
    if is_flat(position, spot_rules, perp_rules):
        realized = book_realized(deps, position)
        set_status(deps.engine, position.id, "closed", close_reason="not_opened", realized_pnl=realized, closed=True)
        set_execution_status(deps.engine, execution.id, "failed", "no hedge left after the legs were corrected")
        return "closed"
    set_status(deps.engine, position.id, "open")
    set_execution_status(deps.engine, execution.id, "done")
    return "open"
