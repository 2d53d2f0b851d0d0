"""Sending an execution's orders and keeping its hedge balanced: shared by open, close, rebalance and reconcile.

- :func:`send_all` sends recorded intents concurrently through the protocol (an intent whose row says it may have
  gone out is looked up by client order id first), then stores each order's trades with its final answer in one
  transaction (until then the order is ``fills_pending``).
- :func:`balance_open_legs` decides nothing while an order of the execution is unanswered or its trades pending
  (PENDING: the position is marked broken and reconcile finishes once the venue answers). Otherwise, while the legs
  differ by a lot or more, it sends the correction the core plans (hedge the lagging leg first, then unwind the
  leading one), each recorded before it is sent, with an alert record of the imbalance. When the price moved between
  the legs so that hedging would lock in more than ``max_single_loss_usdt``, it ends hedged or flat, whichever loses
  less (:mod:`arbx_pipelines.execution.between_legs`). It stops when the legs match within one lot, or marks the
  position broken (critical alert) when corrections run out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.core.models import MarketType, Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import (
    CorrectionPolicy,
    LegCorrection,
    OrderIntent,
    client_order_id,
    limit_price,
    plan_leg_correction,
)
from arbx_pipelines.core.position_risk import hedge_deviation
from arbx_pipelines.core.sizing import contracts_to_base
from arbx_pipelines.core.venue_data import MarketInfo, OrderState, TradeFill
from arbx_pipelines.execution.between_legs import LegMoveVerdict, judge_move
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.pnl import HedgeBook
from arbx_pipelines.execution.positions import PositionRecord, book_of, get_position, refresh_from_fills, set_status
from arbx_pipelines.execution.protocol import ProtocolTiming, SentOrder, resume_order, send_order
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import ExecutionRef
from arbx_pipelines.storage.orders import (
    DbOrderJournal,
    add_intents,
    find_order,
    orders_of_execution,
    record_order_fills,
)
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.legs")
UNWIND = CorrectionPolicy.UNWIND
T = TypeVar("T")
READ_ATTEMPTS = 5


class BalanceResult(StrEnum):
    BALANCED = "balanced"  # legs equal within one lot (both may be zero: flat)
    BROKEN = "broken"  # corrections ran out or cannot be placed: a human looks
    PENDING = "pending"  # an order's outcome or trades unknown: reconcile decides once the venue answers
    #: balanced (or flat) after the price moved between the legs by more than the single-loss limit: a failure
    BALANCED_AT_LOSS = "balanced_at_loss"

    @property
    def succeeded(self) -> bool:
        """What the circuit breaker counts as a success."""
        return self is BalanceResult.BALANCED


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


def bump_to_threshold(
    correction: LegCorrection, position: PositionRecord, markets: LegMarkets, threshold: Decimal
) -> LegCorrection:
    """A hedge correction rounded down to the lagging leg's lot can leave the legs further apart than the rebalance
    threshold (a coarse perp lot on a small hedge: 239.76 spot / 230 perp is 4.2 %); then one lot more, when that
    brings them closer."""
    if correction.policy is not CorrectionPolicy.HEDGE or position.perp_amount < 0 or position.spot_amount < 0:
        return correction
    rules = markets.of(correction.leg).rules
    step = rules.amount_step
    if step is None:
        return correction

    def deviation(base: Decimal) -> Decimal:
        spot, perp = position.spot_amount, position.perp_amount
        spot, perp = (spot + base, perp) if correction.leg is Leg.SPOT else (spot, perp + base)
        return hedge_deviation(perp, spot) if perp > 0 else Decimal(1)

    bumped = correction.amount + step
    bumped_base = contracts_to_base(bumped, rules.contract_size)
    if deviation(correction.base_amount) <= threshold or deviation(bumped_base) >= deviation(correction.base_amount):
        return correction
    return replace(correction, amount=bumped, base_amount=bumped_base)


def _settled(deps: ExecutionDeps, execution: ExecutionRef) -> bool:
    """Every order of the execution has a final answer with all its trades stored: only then may legs be judged."""
    return all(o.is_final for o in orders_of_execution(deps.engine, execution.id))


async def _judge_price_move(
    deps: ExecutionDeps,
    client: VenueClient,
    position: PositionRecord,
    execution: ExecutionRef,
    markets: LegMarkets,
    correction: LegCorrection,
    book: HedgeBook,
) -> LegMoveVerdict | None:
    """Hedge, unless completing the hedge at today's price locks in more than ``max_single_loss_usdt``: then the
    cheaper of hedged and flat, with a critical alert (the loss counts when the position closes or goes flat)."""
    filled = Leg.PERP if correction.leg is Leg.SPOT else Leg.SPOT
    entry = book.perp_entry_price if filled is Leg.PERP else book.spot_entry_price
    if entry is None:
        return None
    lagging_price = await best_price(deps, client, markets.of(correction.leg), correction.side)
    exit_price = await best_price(deps, client, markets.of(filled), position.direction.closing_side(filled))
    verdict = judge_move(
        position.direction,
        correction.leg,
        correction.base_amount,
        entry,
        lagging_price,
        exit_price,
        deps.limits.max_single_loss_usdt,
    )
    if verdict.over_limit:
        deps.alerts.raise_alert(
            "price_moved_between_legs",
            f"{position.venue} {position.symbol}: hedging now locks in {verdict.hedge_loss:.2f} USDT, going flat "
            f"{verdict.flat_loss:.2f} USDT (limit {deps.limits.max_single_loss_usdt}); chose {verdict.policy}",
            severity="critical",
            venue=str(position.venue),
            symbol=position.symbol,
            details={
                "execution": execution.key,
                "position_id": position.id,
                "hedge_loss": str(verdict.hedge_loss),
                "flat_loss": str(verdict.flat_loss),
                "policy": str(verdict.policy),
            },
        )
    return verdict


async def balance_open_legs(
    deps: ExecutionDeps,
    client: VenueClient,
    execution: ExecutionRef,
    position_id: int,
    markets: LegMarkets,
    sent: Sequence[SentOrder],
) -> BalanceResult:
    """Correct the legs of an open until they match within one lot (or the position is flat). Nothing is decided
    while an order's outcome or trades are unknown (PENDING: reconcile finishes once the venue answers)."""
    position = get_position(deps.engine, position_id)
    if any(not s.known for s in sent) or not _settled(deps, execution):
        mark_broken(deps, position, execution, "order outcome or fills unknown; reconcile finishes it")
        return BalanceResult.PENDING
    last_check = deps.settings.correction_rounds + 1  # the round after the last correction only looks
    judged: LegMoveVerdict | None = None
    at_loss = False
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
            preferred=CorrectionPolicy.UNWIND if at_loss and judged and judged.policy is UNWIND else preferred,
        )
        if correction is None:
            return BalanceResult.BALANCED_AT_LOSS if at_loss else BalanceResult.BALANCED
        if judged is None and correction.policy is CorrectionPolicy.HEDGE and correction.placeable:
            judged = await _judge_price_move(deps, client, position, execution, markets, correction, book)
            at_loss = judged is not None and judged.over_limit
            if at_loss and judged is not None and judged.policy is UNWIND:
                continue  # plan again: unwind the filled leg instead
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
        correction = bump_to_threshold(correction, position, markets, deps.strategy.position_risk.hedge_rebalance)
        info = markets.of(correction.leg)
        price = await fresh_limit_price(deps, client, info, correction.side)
        # numbered by the orders the execution already has: a repair after a crash never reuses an earlier id
        number = len(orders_of_execution(deps.engine, execution.id)) - 1
        name = f"{correction.leg}-{correction.policy}-{number}"
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
        crash_point("correction.intent_committed")
        (result,) = await send_all(deps, client, [intent], position_id)
        if not result.known or not _settled(deps, execution):
            mark_broken(deps, get_position(deps.engine, position_id), execution, "correction outcome unknown")
            return BalanceResult.PENDING
    mark_broken(deps, position, execution, f"legs still differ after {deps.settings.correction_rounds} corrections")
    return BalanceResult.BROKEN
