"""The ledger repository: account movements under deterministic references (transfers, funding, booked P&L), so a
replay adds nothing. Fills write their own ledger rows with them (:mod:`arbx_pipelines.storage.orders`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, select

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import AccountTransaction


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
