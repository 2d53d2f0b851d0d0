"""The orders of a spot arbitrage beyond its two legs: storing an answered order's fills, and flattening a leg
imbalance. With a :class:`~arbx_pipelines.engine.journal.DbWriter` every write goes through it (off the event loop,
in order with the arbitrage's other writes); without one (the repair at start, before any book is watched) they run
inline."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.money import quantize_down
from arbx_pipelines.core.orders import OrderIntent, client_order_id, limit_price
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.engine.journal import BackgroundJournal, DbWriter
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.protocol import SentOrder, send_order
from arbx_pipelines.execution.sending import fetch_order_fills, sync_fills, timing
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.orders import DbOrderJournal, add_intents, record_order_fills
from arbx_pipelines.venues.client import VenueClient

log = get_logger("arbx.engine.executor")
T = TypeVar("T")


def spot_intent(key: str, leg: str, info: MarketInfo, side: Side, amount: Decimal, price: Decimal) -> OrderIntent:
    return OrderIntent(execution_id=key, leg=leg, client_order_id=client_order_id(key, leg), venue=info.venue,
                       symbol=info.symbol, market_type=MarketType.SPOT, side=side, amount=amount, base_amount=amount,
                       limit_price=price)  # fmt: skip


async def _write(writer: DbWriter | None, call: Callable[[], T]) -> T:
    return call() if writer is None else await writer.run(call)


async def store_fills(deps: ExecutionDeps, client: VenueClient, sent: SentOrder, writer: DbWriter | None) -> None:
    """The order's trades (they carry the fees) read from the venue and stored with its final answer."""
    state = sent.state
    if state is None or state.filled <= 0 or state.order_id is None:
        return
    fills = await fetch_order_fills(deps, client, state)
    cid = sent.intent.client_order_id
    await _write(writer, lambda: record_order_fills(deps.engine, cid, state, fills, None))
    crash_point("fills.committed")


async def flatten(
    deps: ExecutionDeps, client: VenueClient, key: str, execution_id: int, info: MarketInfo, excess: Decimal,
    name: str = "flatten", writer: DbWriter | None = None,
) -> SentOrder | None:  # fmt: skip
    """Undo the leg that filled more: sell ``excess`` coins back (> 0, on the buy venue) or buy ``-excess`` back
    (< 0, on the sell venue), as a recorded IOC intent of the same execution; None when below one lot."""
    side = Side.SELL if excess > 0 else Side.BUY
    step = info.rules.base_step
    amount = quantize_down(abs(excess), step) if step else abs(excess)
    if amount <= 0 or (info.rules.min_amount is not None and amount < info.rules.min_amount):
        return None
    book = await client.order_book(info.symbol, 5)
    reference = book.best_bid if side is Side.SELL else book.best_ask
    if reference is None:
        raise RuntimeError(f"{info.venue} {info.symbol}: empty book, cannot flatten {amount}")
    price = limit_price(reference, side, deps.settings.max_slippage * 3, info.rules)
    intent = spot_intent(key, f"{name}-{side}", info, side, amount, price)
    await _write(writer, lambda: add_intents(deps.engine, execution_id, [intent]))
    crash_point("correction.intent_committed")
    if writer is None:
        sent = await send_order(client, intent, DbOrderJournal(deps.engine), deps.slots, timing(deps))
        await sync_fills(deps, client, sent, None)
    else:
        journal = BackgroundJournal(deps.engine, writer)
        sent = await send_order(client, intent, journal, deps.slots, timing(deps))
        await journal.flush()
        await store_fills(deps, client, sent, writer)
    log.warning("leg imbalance flattened", extra={"execution": key, "venue": str(Venue(info.venue)),
                                                    "amount": str(amount), "filled": str(sent.filled)})  # fmt: skip
    return sent
