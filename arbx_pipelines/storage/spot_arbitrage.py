"""The fills of spot arbitrage executions (the engine's statistics and the spot bench read them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, Fill, Order
from arbx_pipelines.storage.orders import order_values, utcnow


@dataclass(frozen=True)
class ArbitrageIntent:
    """One arbitrage's execution row values and its order intents."""

    key: str
    symbol: str
    planned: dict[str, Any]
    intents: Sequence[OrderIntent]


def record_arbitrage_intent(
    engine: Engine, *, key: str, kind: str, venue: str, symbol: str, planned: dict[str, Any],
    intents: Sequence[OrderIntent], run_id: str | None,
) -> int:  # fmt: skip
    """The execution (status ``sending``) and its order intents in one transaction, before anything is sent: the
    rows of :func:`~arbx_pipelines.storage.executions.record_intent` without a position. Returns the execution id."""
    arbitrage = ArbitrageIntent(key, symbol, planned, intents)
    return record_arbitrage_intents(engine, [arbitrage], kind=kind, venue=venue, run_id=run_id)[0]


#: built once: a statement with its values bound at execution (not ``.values(...)``) is looked up in the
#: compiled cache without walking its values each time (the intent write sits between a book update and its orders)
_INSERT_EXECUTION = insert(Execution).returning(Execution.id)
_INSERT_ORDERS = insert(Order)


def record_arbitrage_intents(
    engine: Engine, arbitrages: Sequence[ArbitrageIntent], *, kind: str, venue: str, run_id: str | None
) -> list[int]:
    """:func:`record_arbitrage_intent` for arbitrages started together (one book update can start several), in ONE
    transaction: plain inserts (no ORM session), one commit for all. Returns their execution ids, in order."""
    with engine.begin() as connection:
        return _insert_arbitrages(connection, arbitrages, kind=kind, venue=venue, run_id=run_id)


def _insert_arbitrages(
    connection: Connection, arbitrages: Sequence[ArbitrageIntent], *, kind: str, venue: str, run_id: str | None
) -> list[int]:
    now = utcnow()
    ids: list[int] = []
    rows: list[dict[str, Any]] = []
    for arbitrage in arbitrages:
        execution_id = connection.execute(_INSERT_EXECUTION, {
            "execution_key": arbitrage.key, "kind": kind, "venue": venue, "symbol": arbitrage.symbol,
            "status": "sending", "planned": arbitrage.planned, "run_id": run_id, "created_at": now,
            "updated_at": now}).scalar_one()  # fmt: skip
        ids.append(int(execution_id))
        rows += [order_values(intent, execution_id, now) for intent in arbitrage.intents]
    connection.execute(_INSERT_ORDERS, rows)
    return ids


class ImpatientIntentWriter:
    """The engine's own SQLite connection for intents written on the event loop, with ``busy_timeout`` 0 set once
    (setting and resetting it around each write on a pooled connection took five more statements between a book
    update and its orders). While another process holds the write lock a write fails at
    once with ``OperationalError`` and writes nothing; the caller then hands it to its writer thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    @staticmethod
    def usable(engine: Engine) -> bool:
        return engine.dialect.name == "sqlite"

    def record(self, arbitrages: Sequence[ArbitrageIntent], *, kind: str, venue: str, run_id: str | None) -> list[int]:
        connection = self._connection
        if connection is None or connection.closed or connection.invalidated:
            connection = self._connection = self._engine.connect()
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
            connection.commit()
        with connection.begin():
            return _insert_arbitrages(connection, arbitrages, kind=kind, venue=venue, run_id=run_id)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def rehearse_arbitrage_intents(
    engine: Engine, arbitrages: Sequence[ArbitrageIntent], *, kind: str, venue: str, run_id: str | None
) -> None:
    """:func:`record_arbitrage_intents`' statements run and rolled back, nothing written: their compiled forms are
    cached on ``engine`` before the first real arbitrage (compiling them costs tens of milliseconds on a busy
    machine, between a book update and its orders)."""
    with engine.connect() as connection, connection.begin() as transaction:
        _insert_arbitrages(connection, arbitrages, kind=kind, venue=venue, run_id=run_id)
        transaction.rollback()


def abandon_arbitrage(engine: Engine, execution_id: int, buy: OrderIntent, sell: OrderIntent, reason: str) -> None:
    """An arbitrage recorded but never sent: both intents ``abandoned`` and the execution ``refused``, in one
    transaction (final: reconcile and repair leave it alone)."""
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(update(Order).where(Order.client_order_id.in_([buy.client_order_id, sell.client_order_id]),
                                               Order.status == "intent")
                           .values(status="abandoned", error=reason, updated_at=now))  # fmt: skip
        connection.execute(update(Execution).where(Execution.id == execution_id)
                           .values(status="refused", error=reason, updated_at=now))  # fmt: skip


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


@dataclass(frozen=True)
class ArbExecution:
    id: int
    key: str
    symbol: str
    status: str
    planned: dict[str, str]
    created_at: datetime


def spot_executions(
    engine: Engine,
    kind: str,
    *,
    after_id: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    final: frozenset[str] | None = None,
) -> list[ArbExecution]:
    """Executions of ``kind`` with id > ``after_id``, created in [start, end), in a ``final`` status when given."""
    query = select(Execution).where(Execution.kind == kind, Execution.id > after_id)
    if start is not None:
        query = query.where(Execution.created_at >= start)
    if end is not None:
        query = query.where(Execution.created_at < end)
    if final is not None:
        query = query.where(Execution.status.in_(final))
    with transaction(engine) as session:
        rows = session.execute(query.order_by(Execution.id)).scalars()
        return [ArbExecution(r.id, r.execution_key, r.symbol, r.status, dict(r.planned or {}), r.created_at)
                for r in rows]  # fmt: skip


def fills_of_execution(engine: Engine, execution_id: int) -> list[ArbFill]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Fill.venue, Fill.symbol, Fill.side, Fill.amount, Fill.price, Fill.fee, Fill.fee_currency)
            .join(Order, Order.id == Fill.order_id)
            .where(Order.execution_id == execution_id)
        ).all()
    return [ArbFill(*row) for row in rows]
