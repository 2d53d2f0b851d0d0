"""The execution repository: executions, order intents and their answers, fills and the ledger rows they make.

Intents are written before anything is sent, in ONE transaction with their execution (and the position an open
creates), so a crash can never leave an order on a venue the database has not heard of. Every later write is keyed
by something the venue gives back (client order id, trade id), so replaying it adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import MarketType, Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.core.venue_data import OrderState
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, Order, Position

#: orders whose outcome is settled; anything else is looked up again by reconcile
FINAL_ORDER_STATUSES = frozenset({"closed", "canceled", "expired", "rejected", "abandoned"})
#: executions that are done one way or another
FINAL_EXECUTION_STATUSES = frozenset({"done", "failed", "rejected", "blocked", "refused", "repaired"})


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ExecutionRef:
    id: int
    key: str
    kind: str
    venue: str
    symbol: str
    status: str
    position_id: int | None
    planned: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class OrderRecord:
    id: int
    client_order_id: str
    execution_id: int | None
    leg: str
    venue: str
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal | None
    status: str
    venue_order_id: str | None
    filled: Decimal
    reduce_only: bool
    time_in_force: str | None

    @property
    def market_type(self) -> MarketType:
        return MarketType.SWAP if ":" in self.symbol else MarketType.SPOT

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_ORDER_STATUSES


@dataclass(frozen=True)
class NewPosition:
    venue: str
    symbol: str
    spot_symbol: str
    direction: FundingDirection
    leverage: int


def _execution_ref(row: Execution) -> ExecutionRef:
    return ExecutionRef(
        row.id,
        row.execution_key,
        row.kind,
        row.venue,
        row.symbol,
        row.status,
        row.position_id,
        dict(row.planned or {}),
        row.error,
    )


def _order_record(row: Order) -> OrderRecord:
    return OrderRecord(
        id=row.id,
        client_order_id=row.client_order_id,
        execution_id=row.execution_id,
        leg=row.leg,
        venue=row.venue,
        symbol=row.symbol,
        side=Side(row.side),
        amount=row.amount,
        price=row.price,
        status=row.status,
        venue_order_id=row.venue_order_id,
        filled=row.filled or ZERO,
        reduce_only=row.reduce_only,
        time_in_force=row.time_in_force,
    )


def _order_row(intent: OrderIntent, execution_id: int, now: datetime) -> Order:
    return Order(
        client_order_id=intent.client_order_id,
        execution_id=execution_id,
        leg=intent.leg,
        venue=str(intent.venue),
        symbol=intent.symbol,
        side=intent.side.value,
        order_type="limit" if intent.limit_price else "market",
        time_in_force=intent.time_in_force,
        reduce_only=intent.reduce_only,
        amount=intent.amount,
        price=intent.limit_price,
        status="intent",
        filled=ZERO,
        created_at=now,
        updated_at=now,
    )


# ----- executions ---------------------------------------------------------------------------------------------


def find_execution(engine: Engine, key: str) -> ExecutionRef | None:
    with transaction(engine) as session:
        row = session.execute(select(Execution).where(Execution.execution_key == key)).scalar_one_or_none()
        return None if row is None else _execution_ref(row)


def get_execution(engine: Engine, execution_id: int) -> ExecutionRef:
    with transaction(engine) as session:
        row = session.get(Execution, execution_id)
        if row is None:
            raise LookupError(f"no execution {execution_id}")
        return _execution_ref(row)


def record_decision(
    engine: Engine,
    *,
    key: str,
    kind: str,
    venue: str,
    symbol: str,
    status: str,
    planned: dict[str, Any],
    error: str | None = None,
    position_id: int | None = None,
    run_id: str | None = None,
) -> ExecutionRef:
    """An execution that sends nothing (rejected, blocked, refused): recorded so a repeated signal is a no-op."""
    now = utcnow()
    with transaction(engine) as session:
        row = Execution(
            execution_key=key,
            kind=kind,
            venue=venue,
            symbol=symbol,
            status=status,
            planned=planned,
            error=error,
            position_id=position_id,
            run_id=run_id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return _execution_ref(row)


def record_intent(
    engine: Engine,
    *,
    key: str,
    kind: str,
    venue: str,
    symbol: str,
    planned: dict[str, Any],
    intents: Sequence[OrderIntent],
    position_id: int | None = None,
    new_position: NewPosition | None = None,
    run_id: str | None = None,
) -> ExecutionRef:
    """Execution, its order intents and (for an open) its position, in one transaction, before anything is sent."""
    now = utcnow()
    with transaction(engine) as session:
        if new_position is not None:
            position = Position(
                venue=new_position.venue,
                symbol=new_position.symbol,
                spot_symbol=new_position.spot_symbol,
                direction=str(new_position.direction),
                status="opening",
                leverage=new_position.leverage,
                perp_amount=ZERO,
                spot_amount=ZERO,
                fees_paid=ZERO,
                funding_received=ZERO,
                opened_at=now,
                updated_at=now,
            )
            session.add(position)
            session.flush()
            position_id = position.id
        row = Execution(
            execution_key=key,
            kind=kind,
            venue=venue,
            symbol=symbol,
            status="sending",
            planned=planned,
            position_id=position_id,
            run_id=run_id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        for intent in intents:
            session.add(_order_row(intent, row.id, now))
        return _execution_ref(row)


def add_intents(engine: Engine, execution_id: int, intents: Sequence[OrderIntent]) -> None:
    """Correction orders of a running execution, recorded before they are sent."""
    now = utcnow()
    with transaction(engine) as session:
        for intent in intents:
            session.add(_order_row(intent, execution_id, now))


def set_execution_status(engine: Engine, execution_id: int, status: str, error: str | None = None) -> None:
    with transaction(engine) as session:
        row = session.get(Execution, execution_id)
        if row is None:
            raise LookupError(f"no execution {execution_id}")
        row.status = status
        row.updated_at = utcnow()
        if error is not None:
            row.error = error[:4000]


def unfinished_executions(engine: Engine, venue: str) -> list[ExecutionRef]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Execution)
            .where(Execution.venue == venue, Execution.status.not_in(FINAL_EXECUTION_STATUSES))
            .order_by(Execution.id)
        ).scalars()
        return [_execution_ref(row) for row in rows]


def executions_of_position(engine: Engine, position_id: int) -> list[ExecutionRef]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Execution).where(Execution.position_id == position_id).order_by(Execution.id)
        ).scalars()
        return [_execution_ref(row) for row in rows]


# ----- orders ---------------------------------------------------------------------------------------------------


def orders_of_execution(engine: Engine, execution_id: int) -> list[OrderRecord]:
    with transaction(engine) as session:
        rows = session.execute(select(Order).where(Order.execution_id == execution_id).order_by(Order.id)).scalars()
        return [_order_record(row) for row in rows]


def unfinished_orders(engine: Engine, venue: str) -> list[OrderRecord]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Order).where(Order.venue == venue, Order.status.not_in(FINAL_ORDER_STATUSES)).order_by(Order.id)
        ).scalars()
        return [_order_record(row) for row in rows]


def find_order_row(session: Session, client_order_id: str) -> Order:
    row = session.execute(select(Order).where(Order.client_order_id == client_order_id)).scalar_one_or_none()
    if row is None:
        raise LookupError(f"no recorded intent with client order id {client_order_id}")
    return row


class DbOrderJournal:
    """The protocol's journal on the ``orders`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def mark_sent(self, client_order_id: str) -> None:
        with transaction(self._engine) as session:
            row = find_order_row(session, client_order_id)
            if row.status == "intent":
                row.status = "sending"
            row.sent_at = row.sent_at or utcnow()
            row.updated_at = utcnow()

    def record_state(
        self, client_order_id: str, state: OrderState, *, sent_at: datetime | None = None, at: datetime | None = None
    ) -> None:
        with transaction(self._engine) as session:
            row = find_order_row(session, client_order_id)
            now = utcnow()
            row.status = state.status
            row.venue_order_id = state.order_id or row.venue_order_id
            row.filled = state.filled
            row.average_price = state.average_price
            if sent_at is not None and (row.sent_at is None or sent_at > row.sent_at):
                row.sent_at = sent_at  # the send that got this answer (earlier ones were refused or lost)
            row.acknowledged_at = row.acknowledged_at or at or now
            row.updated_at = now

    def mark_rejected(self, client_order_id: str, error: str) -> None:
        self._final(client_order_id, "rejected", error)

    def mark_unknown(self, client_order_id: str, error: str) -> None:
        self._final(client_order_id, "unknown", error)

    def mark_abandoned(self, client_order_id: str, error: str) -> None:
        """An intent the venue never received and that will not be sent (superseded by a fresh order)."""
        self._final(client_order_id, "abandoned", error)

    def _final(self, client_order_id: str, status: str, error: str) -> None:
        with transaction(self._engine) as session:
            row = find_order_row(session, client_order_id)
            row.status = status
            row.error = error[:4000]
            row.updated_at = utcnow()
