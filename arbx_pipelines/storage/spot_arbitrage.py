"""The fills of spot arbitrage executions (the engine's statistics and the spot bench read them)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, select

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, Fill, Order


@dataclass(frozen=True)
class ArbFill:
    venue: str
    symbol: str
    side: str
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str | None


def fills_of_kind(engine: Engine, kind: str) -> list[ArbFill]:
    """Every fill of every order of the executions of ``kind``."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Fill.venue, Fill.symbol, Fill.side, Fill.amount, Fill.price, Fill.fee, Fill.fee_currency)
            .join(Order, Order.id == Fill.order_id)
            .join(Execution, Execution.id == Order.execution_id)
            .where(Execution.kind == kind)
        ).all()
    return [ArbFill(*row) for row in rows]


def unfinished_executions_of_kind(engine: Engine, kind: str, final: frozenset[str]) -> list[int]:
    """Ids of the executions of ``kind`` not in a ``final`` status, oldest first."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Execution.id).where(Execution.kind == kind, Execution.status.not_in(final)).order_by(Execution.id)
        ).scalars()
        return list(rows)
