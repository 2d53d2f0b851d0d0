"""The ``quotes`` table: best bid/ask and top-of-book depth as the quotes monitor saw them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert, select, tuple_

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import QuoteRow


def record_quotes(engine: Engine, rows: Sequence[dict[str, Any]]) -> int:
    """Store one row per book (keys: the ``quotes`` columns), in one transaction."""
    if rows:
        with transaction(engine) as session:
            session.execute(insert(QuoteRow), list(rows))
    return len(rows)


@dataclass(frozen=True)
class Quote:
    time: datetime
    bid: Decimal | None
    ask: Decimal | None
    bid_depth_usdt: Decimal | None
    ask_depth_usdt: Decimal | None


def latest_quotes(engine: Engine, markets: Sequence[tuple[str, str]], since: datetime) -> dict[tuple[str, str], Quote]:
    """The newest quote of each (venue, symbol) in ``markets`` recorded at or after ``since``."""
    if not markets:
        return {}
    t = QuoteRow
    query = (
        select(t.venue, t.symbol, t.time, t.bid, t.ask, t.bid_depth_usdt, t.ask_depth_usdt)
        .where(tuple_(t.venue, t.symbol).in_(list(markets)), t.time >= since)
        .order_by(t.venue, t.symbol, t.time, t.id)
    )
    found: dict[tuple[str, str], Quote] = {}
    with engine.connect() as conn:
        for venue, symbol, time, bid, ask, bid_depth, ask_depth in conn.execute(query):
            found[(venue, symbol)] = Quote(time, bid, ask, bid_depth, ask_depth)  # ascending: the last one wins
    return found
