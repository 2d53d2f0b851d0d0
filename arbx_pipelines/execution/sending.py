"""Sending an execution's orders and the venue reads around them: shared by open, close, rebalance and reconcile.

:func:`send_all` sends recorded intents concurrently through the protocol (an intent whose row says it may have gone
out is looked up by client order id first), then stores each order's trades with its final answer in one transaction
(until then the order is ``fills_pending``). Venue reads retry after retry-safe errors (:func:`read_with_retry`);
:func:`fresh_limit_price` prices a correction and :func:`correction_intent` builds it. Keeping the legs balanced with
these orders is :mod:`arbx_pipelines.execution.legs`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import TypeVar

from arbx_pipelines.core.models import MarketType, Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import OrderIntent, client_order_id, limit_price
from arbx_pipelines.core.venue_data import MarketInfo, OrderState, TradeFill
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.protocol import ProtocolTiming, SentOrder, resume_order, send_order
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.orders import DbOrderJournal, find_order, record_order_fills
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.legs")  # the name these reads have always logged under
T = TypeVar("T")
READ_ATTEMPTS = 5


def timing(deps: ExecutionDeps) -> ProtocolTiming:
    s = deps.settings
    return ProtocolTiming(
        timeout_s=s.order_timeout_s,
        backoff_s=s.backoff_s,
        backoff_max_s=s.backoff_max_s,
        in_flight_s=s.order_in_flight_s,
    )


async def read_with_retry(deps: ExecutionDeps, what: str, factory: Callable[[], Awaitable[T]]) -> T:
    """Run a read (a zero-argument coroutine factory) again after retry-safe venue errors, a few times."""
    delay = deps.settings.backoff_s
    for attempt in range(READ_ATTEMPTS):
        try:
            return await factory()
        except VenueError as exc:
            if not exc.retry_safe or attempt == READ_ATTEMPTS - 1:
                raise
            log.warning("venue read failed; retrying", extra={"what": what, "error": str(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, deps.settings.backoff_max_s)
    raise AssertionError("unreachable")


async def sync_fills(deps: ExecutionDeps, client: VenueClient, sent: SentOrder, position_id: int | None) -> bool:
    """Store the fills of one answered order (trades carry the fees the order answer lacks); False while they are
    not all on the venue yet (the order then stays ``fills_pending``)."""
    if sent.state is None:
        return sent.known
    return await sync_order_fills(deps, client, sent.intent.client_order_id, sent.state, position_id)


async def fetch_order_fills(deps: ExecutionDeps, client: VenueClient, state: OrderState) -> list[TradeFill]:
    """The order's trades (they carry the fees), read again while they add up to less than its filled amount."""
    order_id = state.order_id
    assert order_id is not None
    fills: list[TradeFill] = []
    for _ in range(READ_ATTEMPTS):
        crash_point("fills.trades_sent")
        fills = await read_with_retry(deps, "order_trades", lambda: client.order_trades(state.symbol, order_id))
        crash_point("fills.trades_answered")
        if sum((f.amount for f in fills), ZERO) >= state.filled:
            break
        await asyncio.sleep(deps.settings.backoff_s)
    return fills


async def sync_order_fills(
    deps: ExecutionDeps, client: VenueClient, client_order_id: str, state: OrderState, position_id: int | None
) -> bool:
    """Fetch the order's trades and store them with its final answer in one transaction (see
    :func:`arbx_pipelines.storage.orders.record_order_fills`); returns whether they add up to its filled amount."""
    if state.filled <= 0 or state.order_id is None:
        return True
    fills = await fetch_order_fills(deps, client, state)
    complete = record_order_fills(deps.engine, client_order_id, state, fills, position_id)
    crash_point("fills.committed")
    return complete


async def _send_or_find(deps: ExecutionDeps, client: VenueClient, intent: OrderIntent) -> SentOrder:
    """Send a recorded intent; when its row says an earlier run may have sent it, look its client order id up on the
    venue first and take that order instead of sending (see :func:`~arbx_pipelines.execution.protocol.resume_order`)."""
    journal = DbOrderJournal(deps.engine)
    record = find_order(deps.engine, intent.client_order_id)
    if record is not None and record.status != "intent":
        return await resume_order(client, intent, journal, deps.slots, timing(deps))
    return await send_order(client, intent, journal, deps.slots, timing(deps))


async def send_all(
    deps: ExecutionDeps, client: VenueClient, intents: Sequence[OrderIntent], position_id: int | None
) -> list[SentOrder]:
    """Send already-recorded intents concurrently; store their fills. Every leg runs its protocol to the end even
    when another fails (a state store or database error): only then is the first error raised."""
    sent = _first_error(
        await asyncio.gather(*(_send_or_find(deps, client, i) for i in intents), return_exceptions=True)
    )
    _first_error(
        await asyncio.gather(*(sync_fills(deps, client, s, position_id) for s in sent), return_exceptions=True)
    )
    return sent


def _first_error(results: Sequence[T | BaseException]) -> list[T]:
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if not isinstance(r, BaseException)]


async def best_price(deps: ExecutionDeps, client: VenueClient, info: MarketInfo, side: Side) -> Decimal:
    """The best price a taker on ``side`` gets now: the best ask to buy, the best bid to sell."""
    book = await read_with_retry(deps, "order_book", lambda: client.order_book(info.symbol, 5))
    reference = book.best_ask if side is Side.BUY else book.best_bid
    if reference is None:
        raise VenueError(client.venue, f"{info.symbol}: empty order book")
    return reference


async def fresh_limit_price(deps: ExecutionDeps, client: VenueClient, info: MarketInfo, side: Side) -> Decimal:
    reference = await best_price(deps, client, info, side)
    return limit_price(reference, side, deps.settings.max_slippage, info.rules)


def correction_intent(
    execution_key: str,
    name: str,
    info: MarketInfo,
    side: Side,
    amount: Decimal,
    base_amount: Decimal,
    price: Decimal,
    reduce_only: bool,
) -> OrderIntent:
    return OrderIntent(
        execution_id=execution_key,
        leg=name,
        client_order_id=client_order_id(execution_key, name),
        venue=info.venue,
        symbol=info.symbol,
        market_type=info.market_type,
        side=side,
        amount=amount,
        base_amount=base_amount,
        limit_price=price,
        reduce_only=reduce_only and info.market_type is MarketType.SWAP,
    )
