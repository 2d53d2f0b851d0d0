"""When executions started and their orders were sent and answered, read back for ``arbx bench execution``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, Order

#: the legs an open sends first (unwinds and corrections come later and are not its latency)
FIRST_LEGS = ("spot", "perp")


@dataclass(frozen=True)
class ExecutionTiming:
    symbol: str
    #: when the intent was recorded
    created_at: datetime
    #: the acknowledged_at of each first leg the venue has answered (two once both legs are acknowledged)
    first_legs_acknowledged: list[datetime]


@dataclass(frozen=True)
class RoundTimings:
    executions: list[ExecutionTiming]
    #: (sent_at, acknowledged_at) of every answered order sent to the venue since the round's first signal
    order_spans: list[tuple[datetime, datetime]]


def round_timings(engine: Engine, keys: Sequence[str], venue: str, since: datetime) -> RoundTimings:
    """The timings of the executions with ``keys`` and of the venue's orders sent since ``since``, read at once."""
    with transaction(engine) as session:
        executions = []
        for execution in session.execute(select(Execution).where(Execution.execution_key.in_(keys))).scalars().all():
            orders = session.execute(
                select(Order).where(Order.execution_id == execution.id, Order.leg.in_(FIRST_LEGS))
            ).scalars()
            acks = [o.acknowledged_at for o in orders if o.acknowledged_at is not None]
            executions.append(ExecutionTiming(execution.symbol, execution.created_at, acks))
        spans = session.execute(
            select(Order.sent_at, Order.acknowledged_at).where(
                Order.venue == venue, Order.sent_at >= since, Order.acknowledged_at.is_not(None)
            )
        ).all()
    return RoundTimings(executions, [(s, a) for s, a in spans if s is not None and a is not None])
