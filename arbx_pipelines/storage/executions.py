"""The execution repository: executions and the intents they record before sending (orders, fills and ledger rows
are in :mod:`arbx_pipelines.storage.orders`, positions in :mod:`arbx_pipelines.storage.positions`).

Intents are written before anything is sent, in ONE transaction with their execution (and the position an open
creates), so a crash can never leave an order on a venue the database has not heard of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, select, update

from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, Position
from arbx_pipelines.storage.orders import order_row, utcnow

#: executions that are done one way or another; ``broken`` (and any other) is finished by the next reconcile
FINAL_EXECUTION_STATUSES = frozenset({"done", "failed", "rejected", "blocked", "refused", "repaired"})
#: an execution that ended midway (a venue, state-store or database failure after its first order): the durable
#: marker reconcile finishes
BROKEN = "broken"


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
    #: the run that recorded it and when (reconcile's test of whether a live run may still be working on it)
    run_id: str | None = None
    created_at: datetime | None = None


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
        row.run_id,
        row.created_at,
    )


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
            session.add(order_row(intent, row.id, now))
        return _execution_ref(row)


def set_execution_status(engine: Engine, execution_id: int, status: str, error: str | None = None) -> None:
    """One plain statement (no ORM object): the spot engine runs it on its single writer, for every arbitrage."""
    values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
    if error is not None:
        values["error"] = error[:4000]
    table: Table = Execution.__table__  # type: ignore[assignment]
    with engine.begin() as connection:
        if connection.execute(update(table).where(table.c.id == execution_id).values(values)).rowcount != 1:
            raise LookupError(f"no execution {execution_id}")


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


def any_execution_sending(engine: Engine) -> bool:
    """Whether any execution is still sending orders (a run finishing its corrections)."""
    with transaction(engine) as session:
        return session.execute(select(Execution.id).where(Execution.status == "sending")).first() is not None


def opens_still_sending(engine: Engine) -> list[tuple[str, str, int]]:
    """(venue, planned notional, leverage) of the opens still sending whose position is still opening."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Execution.venue, Execution.planned, Position.leverage)
            .join(Position, Execution.position_id == Position.id)
            .where(Execution.kind == "open_funding", Execution.status == "sending", Position.status == "opening")
        ).all()
    return [
        (str(venue), str((planned or {}).get("notional", "0")), int(leverage or 1)) for venue, planned, leverage in rows
    ]


def planned_notionals(engine: Engine, kind: str, statuses: Sequence[str], start: datetime, end: datetime) -> list[str]:
    """The planned notional of each execution of ``kind`` in ``statuses`` created in [start, end)."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Execution.planned).where(
                Execution.kind == kind,
                Execution.status.in_(statuses),
                Execution.created_at >= start,
                Execution.created_at < end,
            )
        ).all()
    return [str((planned or {}).get("notional", "0")) for (planned,) in rows]
