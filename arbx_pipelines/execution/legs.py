"""Sending an execution's orders and keeping its hedge balanced: shared by open, close, rebalance and reconcile.

- :func:`send_all` sends recorded intents concurrently through the protocol, then stores their fills.
- :func:`balance_open_legs` compares the legs an open filled and, while they differ by a lot or more, sends the
  correction the core plans (hedge the lagging leg first, then unwind the leading one), each recorded before it is
  sent, with an alert record of the imbalance. It stops when the legs match within one lot, or marks the position
  broken (critical alert) when corrections run out or an order's outcome is unknown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.core.models import MarketType, Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import CorrectionPolicy, OrderIntent, client_order_id, limit_price, plan_leg_correction
from arbx_pipelines.core.venue_data import MarketInfo, OrderState, TradeFill
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.fills import record_fills
from arbx_pipelines.execution.positions import PositionRecord, book_of, get_position, refresh_from_fills, set_status
from arbx_pipelines.execution.protocol import ProtocolTiming, SentOrder, send_order
from arbx_pipelines.execution.records import DbOrderJournal, ExecutionRef, add_intents
from arbx_pipelines.logs import get_logger
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.legs")
T = TypeVar("T")
READ_ATTEMPTS = 5


class BalanceResult(StrEnum):
    BALANCED = "balanced"  # legs equal within one lot (both may be zero: flat)
    BROKEN = "broken"


def timing(deps: ExecutionDeps) -> ProtocolTiming:
    s = deps.settings
    return ProtocolTiming(timeout_s=s.order_timeout_s, backoff_s=s.backoff_s, backoff_max_s=s.backoff_max_s)


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


async def sync_fills(deps: ExecutionDeps, client: VenueClient, sent: SentOrder, position_id: int | None) -> None:
    """Store the fills of one answered order (trades carry the fees the order answer lacks)."""
    if sent.state is not None:
        await sync_order_fills(deps, client, sent.intent.client_order_id, sent.state, position_id)


async def sync_order_fills(
    deps: ExecutionDeps, client: VenueClient, client_order_id: str, state: OrderState, position_id: int | None
) -> None:
    if state.filled <= 0 or state.order_id is None:
        return
    order_id = state.order_id
    fills: list[TradeFill] = []
    for _ in range(READ_ATTEMPTS):
        fills = await read_with_retry(deps, "order_trades", lambda: client.order_trades(state.symbol, order_id))
        if sum((f.amount for f in fills), ZERO) >= state.filled:
            break
        await asyncio.sleep(deps.settings.backoff_s)
    record_fills(deps.engine, client_order_id, fills, position_id)


async def send_all(
    deps: ExecutionDeps, client: VenueClient, intents: Sequence[OrderIntent], position_id: int | None
) -> list[SentOrder]:
    """Send already-recorded intents concurrently; store their fills."""
    journal = DbOrderJournal(deps.engine)
    sent = await asyncio.gather(*(send_order(client, i, journal, deps.slots, timing(deps)) for i in intents))
    await asyncio.gather(*(sync_fills(deps, client, s, position_id) for s in sent))
    return list(sent)


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


@dataclass(frozen=True)
class LegMarkets:
    spot: MarketInfo
    perp: MarketInfo

    def of(self, leg: Leg) -> MarketInfo:
        return self.spot if leg is Leg.SPOT else self.perp

    @property
    def hedge_lot(self) -> Decimal:
        """One lot of the coarser leg: legs this close are a matched hedge."""
        steps = [s for s in (self.spot.rules.base_step, self.perp.rules.base_step) if s is not None]
        return max(steps, default=ZERO)


def _alert_imbalance(
    deps: ExecutionDeps, position: PositionRecord, execution: ExecutionRef, detail: dict[str, str]
) -> None:
    deps.alerts.raise_alert(
        "leg_imbalance",
        f"{position.venue} {position.symbol}: legs differ after {execution.kind} ({detail['policy']} "
        f"{detail['amount']} on the {detail['leg']} leg)",
        severity="warning",
        venue=str(position.venue),
        symbol=position.symbol,
        details={"execution": execution.key, "position_id": position.id, **detail},
    )


def mark_broken(deps: ExecutionDeps, position: PositionRecord, execution: ExecutionRef, why: str) -> None:
    set_status(deps.engine, position.id, "broken", close_reason=why[:64])
    deps.alerts.raise_alert(
        "position_broken",
        f"{position.venue} {position.symbol}: hedge left unbalanced ({why}); needs attention",
        severity="critical",
        venue=str(position.venue),
        symbol=position.symbol,
        details={"execution": execution.key, "position_id": position.id, "why": why},
    )


async def balance_open_legs(
    deps: ExecutionDeps,
    client: VenueClient,
    execution: ExecutionRef,
    position_id: int,
    markets: LegMarkets,
    sent: Sequence[SentOrder],
) -> BalanceResult:
    """Correct the legs of an open until they match within one lot (or the position is flat)."""
    position = get_position(deps.engine, position_id)
    if any(not s.known for s in sent):
        mark_broken(deps, position, execution, "order outcome unknown")
        return BalanceResult.BROKEN
    last_check = deps.settings.correction_rounds + 1  # the round after the last correction only looks
    for round_number in range(1, last_check + 1):
        position = refresh_from_fills(deps.engine, position_id)
        book = book_of(deps.engine, position)
        spot_price = book.spot_entry_price or (await fresh_limit_price(deps, client, markets.spot, Side.BUY))
        perp_price = book.perp_entry_price or (await fresh_limit_price(deps, client, markets.perp, Side.SELL))
        preferred = CorrectionPolicy.HEDGE if round_number <= deps.settings.hedge_attempts else CorrectionPolicy.UNWIND
        correction = plan_leg_correction(
            position.direction,
            max(position.spot_amount, ZERO),
            max(position.perp_amount, ZERO),
            spot_price,
            perp_price,
            markets.spot.rules,
            markets.perp.rules,
            preferred=preferred,
        )
        if correction is None:
            return BalanceResult.BALANCED
        detail = {
            "leg": str(correction.leg),
            "policy": str(correction.policy),
            "amount": str(correction.base_amount),
            "spot": str(position.spot_amount),
            "perp": str(position.perp_amount),
            "round": str(round_number),
        }
        if not correction.placeable:
            if abs(correction.imbalance_base) < markets.hedge_lot:
                return BalanceResult.BALANCED  # within one lot (e.g. a spot fee paid in the coin)
            _alert_imbalance(deps, position, execution, detail | {"placeable": "no", "why": correction.detail})
            mark_broken(deps, position, execution, f"correction not placeable: {correction.detail}")
            return BalanceResult.BROKEN
        if round_number == last_check:
            break
        _alert_imbalance(deps, position, execution, detail)
        info = markets.of(correction.leg)
        price = await fresh_limit_price(deps, client, info, correction.side)
        name = f"{correction.leg}-{correction.policy}-{round_number}"
        intent = correction_intent(
            execution.key,
            name,
            info,
            correction.side,
            correction.amount,
            correction.base_amount,
            price,
            correction.reduce_only,
        )
        add_intents(deps.engine, execution.id, [intent])
        (result,) = await send_all(deps, client, [intent], position_id)
        if not result.known:
            mark_broken(deps, get_position(deps.engine, position_id), execution, "correction outcome unknown")
            return BalanceResult.BROKEN
    mark_broken(deps, position, execution, f"legs still differ after {deps.settings.correction_rounds} corrections")
    return BalanceResult.BROKEN
