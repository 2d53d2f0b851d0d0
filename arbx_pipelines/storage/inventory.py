"""The spot inventory repository: the free inventory of each coin per venue, as reconcile and opens last saw it
(:mod:`arbx_pipelines.execution.inventory` computes it; the funding-opportunity sensor reads it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import SpotInventory


def inventory_coins(engine: Engine, venue: str) -> set[str]:
    """Coins with a recorded inventory on ``venue``."""
    with transaction(engine) as session:
        return set(session.execute(select(SpotInventory.coin).where(SpotInventory.venue == venue)).scalars())


def store_inventory(engine: Engine, venue: str, free: Mapping[str, Decimal], now: datetime) -> None:
    """Upsert each coin's free inventory, observed ``now``."""
    if not free:
        return
    rows = [{"venue": venue, "coin": coin, "free": amount, "observed_at": now} for coin, amount in free.items()]
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(SpotInventory).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["venue", "coin"],
        set_={"free": statement.excluded.free, "observed_at": statement.excluded.observed_at},
    )
    with transaction(engine) as session:
        session.execute(statement)


def recorded_inventory(engine: Engine, since: datetime) -> dict[tuple[str, str], Decimal]:
    """(venue, coin) -> free inventory, for records observed at or after ``since``."""
    with transaction(engine) as session:
        rows = session.execute(
            select(SpotInventory.venue, SpotInventory.coin, SpotInventory.free).where(
                SpotInventory.observed_at >= since
            )
        ).all()
    return {(str(venue), str(coin)): free for venue, coin, free in rows}
