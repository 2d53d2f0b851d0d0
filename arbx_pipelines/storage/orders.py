"""The order repository: order rows (the protocol's journal), their fills and the ledger rows the fills make.

Atomicity (issue 10): an order the venue reports final with a fill is written ``fills_pending`` until its trades
are stored; :func:`record_order_fills` stores the trades AND sets the venue's final status in ONE transaction, and
only when the stored trades add up to the filled amount. So a process that dies between the answer and its trades
leaves an order reconcile revisits (``fills_pending`` is not final), never a ``closed`` order without its fills.

Amounts are in base coins on every row (an OKX perpetual order's contracts are converted before they get here).
Every write is keyed by something the venue gives back (client order id, trade id): replaying it adds nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, case, insert, select, update
from sqlalchemy.orm import Session

from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.models import MarketType, Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.core.venue_data import OrderState, TradeFill
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import AccountTransaction, Execution, Fill, Order

_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_FILLS: Table = Fill.__table__  # type: ignore[assignment]
_LEDGER: Table = AccountTransaction.__table__  # type: ignore[assignment]
#: orders whose outcome is settled; anything else (intent, sending, open, unknown, fills_pending) is looked up again
FINAL_ORDER_STATUSES = frozenset({"closed", "canceled", "expired", "rejected", "abandoned"})
#: a venue answer is final, its fill is known, but its trades are not stored yet
FILLS_PENDING = "fills_pending"


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    average_price: Decimal | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None
    #: when its last request left (a request sent later than this may still be on its way)
    sent_at: datetime | None = None

    @property
    def market_type(self) -> MarketType:
        return MarketType.SWAP if ":" in self.symbol else MarketType.SPOT

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_ORDER_STATUSES


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
        average_price=row.average_price,
        fee=row.fee,
        fee_currency=row.fee_currency,
        sent_at=row.sent_at,
    )


def order_values(intent: OrderIntent, execution_id: int, now: datetime) -> dict[str, Any]:
    """An intent's row: the amount in base coins (``base_amount``), whatever the market's unit."""
    return {"client_order_id": intent.client_order_id, "execution_id": execution_id, "leg": intent.leg,
            "venue": str(intent.venue), "symbol": intent.symbol, "side": intent.side.value,
            "order_type": "limit" if intent.limit_price else "market", "time_in_force": intent.time_in_force,
            "reduce_only": intent.reduce_only, "amount": intent.base_amount, "price": intent.limit_price,
            "status": "intent", "filled": ZERO, "created_at": now, "updated_at": now}  # fmt: skip


def order_row(intent: OrderIntent, execution_id: int, now: datetime) -> Order:
    return Order(**order_values(intent, execution_id, now))


def add_intents(engine: Engine, execution_id: int, intents: Sequence[OrderIntent]) -> None:
    """Correction orders of a running execution, recorded before they are sent."""
    now = utcnow()
    with transaction(engine) as session:
        for intent in intents:
            session.add(order_row(intent, execution_id, now))


def find_order(engine: Engine, client_order_id: str) -> OrderRecord | None:
    with transaction(engine) as session:
        row = session.execute(select(Order).where(Order.client_order_id == client_order_id)).scalar_one_or_none()
        return None if row is None else _order_record(row)


def all_orders(engine: Engine) -> list[OrderRecord]:
    """Every order ever recorded, oldest first (a scenario's summary of what it sent)."""
    with transaction(engine) as session:
        return [_order_record(row) for row in session.execute(select(Order).order_by(Order.id)).scalars()]


def orders_of_execution(engine: Engine, execution_id: int) -> list[OrderRecord]:
    with transaction(engine) as session:
        rows = session.execute(select(Order).where(Order.execution_id == execution_id).order_by(Order.id)).scalars()
        return [_order_record(row) for row in rows]


def unfinished_orders(engine: Engine, venue: str) -> list[OrderRecord]:
    """Orders whose outcome or trades are not settled yet (reconcile looks each up on the venue)."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Order).where(Order.venue == venue, Order.status.not_in(FINAL_ORDER_STATUSES)).order_by(Order.id)
        ).scalars()
        return [_order_record(row) for row in rows]


def orders_missing_fills(engine: Engine, venue: str) -> list[OrderRecord]:
    """Final orders whose stored fills add up to less than their filled amount (their trades are fetched again).
    Summed here, not in SQL: SQLite keeps money as decimal strings."""
    with transaction(engine) as session:
        rows = list(
            session.execute(
                select(Order)
                .where(Order.venue == venue, Order.status.in_(FINAL_ORDER_STATUSES), Order.order_type != "external")
                .order_by(Order.id)
            ).scalars()
        )
        stored: dict[int, Decimal] = {}
        ids = [row.id for row in rows if (row.filled or ZERO) > 0]
        for order_id, amount in session.execute(select(Fill.order_id, Fill.amount).where(Fill.order_id.in_(ids))):
            stored[order_id] = stored.get(order_id, ZERO) + amount
        return [_order_record(row) for row in rows if (row.filled or ZERO) > stored.get(row.id, ZERO)]


def _stored_amount(session: Session | Connection, order_id: int) -> Decimal:
    amounts = session.execute(select(_FILLS.c.amount).where(_FILLS.c.order_id == order_id)).scalars()
    return sum(amounts, ZERO)


def _status_for(state: OrderState, stored: Decimal) -> str:
    """The venue's status, except ``fills_pending`` for a final answer whose trades are not all stored."""
    if state.is_final and state.filled > stored:
        return FILLS_PENDING
    return state.status


def mark_sent_in(connection: Connection, client_order_id: str) -> None:
    """The order's request is (about to be) on its way. The journal steps are plain statements on the table, not
    ORM objects nor session: they run on the spot engine's single writer, where an arbitrage's intent may wait
    behind them."""
    now = utcnow()  # the latest send: reconcile counts its in-flight window from it
    status = case((_ORDERS.c.status == "intent", "sending"), else_=_ORDERS.c.status)
    _update_order(connection, client_order_id, status=status, sent_at=now, updated_at=now)


def record_state_in(
    connection: Connection, client_order_id: str, state: OrderState, *, sent_at: datetime | None = None,
    at: datetime | None = None,
) -> None:  # fmt: skip
    row = connection.execute(select(_ORDERS.c.id, _ORDERS.c.venue_order_id, _ORDERS.c.sent_at,
                                    _ORDERS.c.acknowledged_at)
                             .where(_ORDERS.c.client_order_id == client_order_id)).first()  # fmt: skip
    if row is None:
        raise LookupError(f"no recorded intent with client order id {client_order_id}")
    now = utcnow()
    values: dict[str, Any] = {
        "status": _status_for(state, _stored_amount(connection, row.id)),
        "venue_order_id": state.order_id or row.venue_order_id,
        "filled": state.filled,
        "average_price": state.average_price,
        "acknowledged_at": row.acknowledged_at or at or now,
        "updated_at": now,
    }
    if sent_at is not None and (row.sent_at is None or sent_at > row.sent_at):
        values["sent_at"] = sent_at  # the send that got this answer (earlier ones were refused or lost)
    connection.execute(update(_ORDERS).where(_ORDERS.c.id == row.id).values(values))


def mark_final_in(connection: Connection, client_order_id: str, status: str, error: str) -> None:
    _update_order(connection, client_order_id, status=status, error=error[:4000], updated_at=utcnow())


def _update_order(connection: Connection, client_order_id: str, **values: Any) -> None:
    result = connection.execute(update(_ORDERS).where(_ORDERS.c.client_order_id == client_order_id).values(values))
    if result.rowcount != 1:
        raise LookupError(f"no recorded intent with client order id {client_order_id}")


#: one journal step: a ``*_in`` function bound to its arguments, run inside a transaction it is handed
JournalStep = Callable[[Connection], None]


def in_one_transaction(engine: Engine, steps: Sequence[JournalStep]) -> None:
    """Journal steps (the ``*_in`` functions, bound to their arguments) in one transaction, in order (each step's
    statements run at once: the next step of the same order reads this one's row)."""
    with engine.begin() as connection:
        for step in steps:
            step(connection)


class DbOrderJournal:
    """The protocol's journal on the ``orders`` table, a transaction per step."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def mark_sent(self, client_order_id: str) -> None:
        in_one_transaction(self._engine, [functools.partial(mark_sent_in, client_order_id=client_order_id)])

    def record_state(
        self, client_order_id: str, state: OrderState, *, sent_at: datetime | None = None, at: datetime | None = None
    ) -> None:
        step = functools.partial(record_state_in, client_order_id=client_order_id, state=state, sent_at=sent_at, at=at)
        in_one_transaction(self._engine, [step])

    def mark_rejected(self, client_order_id: str, error: str) -> None:
        self._final(client_order_id, "rejected", error)

    def mark_unknown(self, client_order_id: str, error: str) -> None:
        self._final(client_order_id, "unknown", error)

    def mark_abandoned(self, client_order_id: str, error: str) -> None:
        """An intent the venue never received and that will not be sent (superseded by a fresh order)."""
        self._final(client_order_id, "abandoned", error)

    def _final(self, client_order_id: str, status: str, error: str) -> None:
        in_one_transaction(self._engine, [functools.partial(mark_final_in, status=status, error=error,
                                                            client_order_id=client_order_id)])  # fmt: skip


def record_order_fills(
    engine: Engine, client_order_id: str, state: OrderState, fills: Sequence[TradeFill], position_id: int | None
) -> bool:
    """In ONE transaction: the order's new trades (once per venue trade id) with their ledger rows, and the venue's
    answer; the order becomes final only when its stored trades add up to its filled amount. Returns whether they
    do (False: the order stays ``fills_pending`` for reconcile).

    Spot fills move the base coin and USDT of the spot account; every fill's fee is its own ledger row. Perpetual
    fills only pay fees here: their price P&L is booked when the position closes.
    """
    with engine.begin() as connection:  # plain statements, no ORM objects nor session: see mark_sent_in
        order = connection.execute(select(_ORDERS.c.id, _ORDERS.c.venue, _ORDERS.c.symbol, _ORDERS.c.venue_order_id,
                                       _ORDERS.c.average_price)
                                .where(_ORDERS.c.client_order_id == client_order_id)).first()  # fmt: skip
        if order is None:
            raise LookupError(f"no recorded intent with client order id {client_order_id}")
        market = "swap" if ":" in order.symbol else "spot"
        new_fills: list[dict[str, Any]] = []
        ledger: list[dict[str, Any]] = []
        for fill in fills:
            trade_key = f"{market}:{fill.trade_id}"
            if any(row["trade_id"] == trade_key for row in new_fills):
                continue
            exists = connection.execute(
                select(_FILLS.c.id).where(_FILLS.c.venue == order.venue, _FILLS.c.trade_id == trade_key)
            ).first()
            if exists is not None:
                continue
            new_fills.append({"order_id": order.id, "venue": order.venue, "trade_id": trade_key, "symbol": order.symbol,
                              "side": fill.side.value, "amount": fill.amount, "price": fill.price, "fee": fill.fee,
                              "fee_currency": fill.fee_currency, "time": fill.time})  # fmt: skip
            ledger += _fill_ledger(order.venue, order.symbol, fill, trade_key, market, position_id, client_order_id)
        if new_fills:
            connection.execute(insert(_FILLS), new_fills)
        if ledger:
            connection.execute(insert(_LEDGER), ledger)
        values: dict[str, Any] = {}
        if fills:
            values["fee"] = sum((f.fee for f in fills), ZERO)
            values["fee_currency"] = fills[0].fee_currency
        stored = _stored_amount(connection, order.id)
        values.update(status=_status_for(state, stored), venue_order_id=state.order_id or order.venue_order_id,
                      filled=state.filled, average_price=state.average_price or order.average_price,
                      updated_at=utcnow())  # fmt: skip
        connection.execute(update(_ORDERS).where(_ORDERS.c.id == order.id).values(values))
        return stored >= state.filled


def _fill_ledger(
    venue: str,
    symbol: str,
    fill: TradeFill,
    trade_key: str,
    market: str,
    position_id: int | None,
    client_order_id: str,
) -> list[dict[str, Any]]:
    ref = f"fill:{venue}:{trade_key}"
    sign = Decimal(1) if fill.side is Side.BUY else Decimal(-1)
    rows: list[tuple[str, str, Decimal, str]] = []
    if market == "spot":
        rows.append(("base", base_of(symbol), sign * fill.amount, "trade"))
        rows.append(("quote", "USDT", -sign * fill.amount * fill.price, "trade"))
    if fill.fee:
        rows.append(("fee", fill.fee_currency or "USDT", -fill.fee, "fee"))
    return [{"ref": f"{ref}:{suffix}", "venue": venue, "account": market, "currency": currency, "amount": amount,
             "kind": kind, "position_id": position_id, "time": fill.time, "note": client_order_id}
            for suffix, currency, amount, kind in rows]  # fmt: skip


def record_external_change(
    engine: Engine,
    *,
    position_id: int,
    venue: str,
    symbol: str,
    side: Side,
    amount: Decimal,
    price: Decimal,
    note: str,
) -> str:
    """A leg change the venue shows but no order of ours made (manual trade, ADL, liquidation), booked as a fill at
    ``price`` in one transaction with its execution and order, so the position's legs follow the venue. Only ever
    shrinks a leg; returns its reference."""
    now = utcnow()
    with transaction(engine) as session:
        count = len(session.execute(select(Execution.id).where(Execution.kind == "external")).all())
        key = f"external:{position_id}:{count}"
        execution = Execution(
            execution_key=key,
            kind="external",
            venue=venue,
            symbol=symbol,
            status="done",
            planned={"note": note, "amount": str(amount), "price": str(price)},
            position_id=position_id,
            created_at=now,
            updated_at=now,
        )
        session.add(execution)
        session.flush()
        order = Order(
            client_order_id=f"ext{position_id}x{count}"[:64],
            execution_id=execution.id,
            leg="external",
            venue=venue,
            symbol=symbol,
            side=side.value,
            order_type="external",
            reduce_only=False,
            amount=amount,
            price=price,
            status="closed",
            filled=amount,
            average_price=price,
            fee=ZERO,
            created_at=now,
            updated_at=now,
            error=note[:4000],
        )
        session.add(order)
        session.flush()
        session.add(
            Fill(
                order_id=order.id,
                venue=venue,
                trade_id=key,
                symbol=symbol,
                side=side.value,
                amount=amount,
                price=price,
                fee=ZERO,
                fee_currency=None,
                time=now,
            )
        )
    return key
