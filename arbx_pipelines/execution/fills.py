"""Fills and the ledger: each venue trade once (by venue and trade id) with the ledger rows it makes, ledger rows
under deterministic references, and leg changes no order of ours made (booked so a position follows its venue)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, select

from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.models import Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.venue_data import TradeFill
from arbx_pipelines.execution.records import find_order_row, utcnow
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import AccountTransaction, Execution, Fill, Order


def record_fills(engine: Engine, client_order_id: str, fills: Sequence[TradeFill], position_id: int | None) -> int:
    """Store an order's fills (once per venue trade id) with their ledger rows; returns how many were new.

    Spot fills move the base coin and USDT of the spot account; every fill's fee is its own ledger row. Perpetual
    fills only pay fees here: their price P&L is booked when the position closes.
    """
    added = 0
    with transaction(engine) as session:
        order = find_order_row(session, client_order_id)
        swap = ":" in order.symbol
        market = "swap" if swap else "spot"
        total_fee = ZERO
        for fill in fills:
            trade_key = f"{market}:{fill.trade_id}"
            exists = session.execute(
                select(Fill.id).where(Fill.venue == order.venue, Fill.trade_id == trade_key)
            ).first()
            if exists is not None:
                continue
            session.add(
                Fill(
                    order_id=order.id,
                    venue=order.venue,
                    trade_id=trade_key,
                    symbol=order.symbol,
                    side=fill.side.value,
                    amount=fill.amount,
                    price=fill.price,
                    fee=fill.fee,
                    fee_currency=fill.fee_currency,
                    time=fill.time,
                )
            )
            ref = f"fill:{order.venue}:{trade_key}"
            sign = Decimal(1) if fill.side is Side.BUY else Decimal(-1)
            rows: list[tuple[str, str, Decimal, str]] = []
            if not swap:
                rows.append(("base", base_of(order.symbol), sign * fill.amount, "trade"))
                rows.append(("quote", "USDT", -sign * fill.amount * fill.price, "trade"))
            if fill.fee:
                rows.append(("fee", fill.fee_currency or "USDT", -fill.fee, "fee"))
            for suffix, currency, amount, kind in rows:
                session.add(
                    AccountTransaction(
                        ref=f"{ref}:{suffix}",
                        venue=order.venue,
                        account=market,
                        currency=currency,
                        amount=amount,
                        kind=kind,
                        position_id=position_id,
                        time=fill.time,
                        note=client_order_id,
                    )
                )
            added += 1
        if fills:
            for fill in fills:
                total_fee += fill.fee
            order.fee = total_fee
            order.fee_currency = fills[0].fee_currency
    return added


def ledger_once(
    engine: Engine,
    ref: str,
    *,
    venue: str,
    account: str,
    currency: str,
    amount: Decimal,
    kind: str,
    position_id: int | None,
    time: datetime,
    note: str | None = None,
) -> bool:
    """One ledger row under a deterministic ``ref``; a replay adds nothing (returns False)."""
    with transaction(engine) as session:
        if session.execute(select(AccountTransaction.id).where(AccountTransaction.ref == ref)).first() is not None:
            return False
        session.add(
            AccountTransaction(
                ref=ref,
                venue=venue,
                account=account,
                currency=currency,
                amount=amount,
                kind=kind,
                position_id=position_id,
                time=time,
                note=note,
            )
        )
    return True


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
    ``price`` so the position's legs follow the venue. Only ever shrinks a leg; returns its reference."""
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
