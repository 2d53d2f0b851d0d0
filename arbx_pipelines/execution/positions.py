"""Positions as the execution layer sees them: the rows (:mod:`arbx_pipelines.storage.positions`) kept equal to what
their recorded fills say. :func:`refresh_from_fills` recomputes legs, entry prices and fees from every fill of the
position (:mod:`arbx_pipelines.execution.pnl`), so a replayed or repaired step cannot count anything twice.
"""

from __future__ import annotations

from sqlalchemy import Engine

from arbx_pipelines.execution.pnl import FillView, HedgeBook, hedge_book
from arbx_pipelines.storage.positions import (
    ACTIVE_STATUSES,
    MISSING,
    Legs,
    PositionRecord,
    active_position,
    fills_of_position,
    get_position,
    positions_with_status,
    realized_between,
    set_liquidation_price,
    set_status,
    store_legs,
)

__all__ = [
    "ACTIVE_STATUSES",
    "MISSING",
    "PositionRecord",
    "active_position",
    "book_of",
    "get_position",
    "positions_with_status",
    "realized_between",
    "refresh_from_fills",
    "set_liquidation_price",
    "set_status",
]


def book_of(engine: Engine, position: PositionRecord) -> HedgeBook:
    fills = [
        FillView(f.leg, f.side, f.amount, f.price, f.fee, f.fee_currency, f.base)
        for f in fills_of_position(engine, position.id)
    ]
    return hedge_book(position.direction, fills)


def refresh_from_fills(engine: Engine, position_id: int) -> PositionRecord:
    """Recompute the legs, entry prices, fees and funding received from the recorded fills and payments."""
    position = get_position(engine, position_id)
    book = book_of(engine, position)
    legs = Legs(book.spot_amount, book.perp_amount, book.spot_entry_price, book.perp_entry_price, book.fees)
    return store_legs(engine, position_id, legs)
