"""Keeping an execution's hedge balanced: judging its legs and correcting them (open and reconcile), or marking the
position broken.

:func:`balance_open_legs` decides nothing while an order of the execution is unanswered or its trades pending
(PENDING: the position is marked broken and reconcile finishes once the venue answers). Otherwise, while the legs
differ by a lot or more, it sends the correction the core plans (hedge the lagging leg first, then unwind the leading
one), each recorded before it is sent, with an alert record of the imbalance. When the price moved between the legs
so that hedging would lock in more than ``max_single_loss_usdt``, it ends hedged or flat, whichever loses less
(:mod:`arbx_pipelines.execution.between_legs`). It stops when the legs match within one lot, or marks the position
broken (critical alert) when corrections run out. The orders go out through
:func:`arbx_pipelines.execution.sending.send_all`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.core.models import Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import CorrectionPolicy, LegCorrection, plan_leg_correction
from arbx_pipelines.core.position_risk import hedge_deviation
from arbx_pipelines.core.sizing import contracts_to_base
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.execution.between_legs import LegMoveVerdict, judge_move
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.pnl import HedgeBook
from arbx_pipelines.execution.positions import PositionRecord, book_of, get_position, refresh_from_fills, set_status
from arbx_pipelines.execution.protocol import SentOrder
from arbx_pipelines.execution.sending import best_price, correction_intent, fresh_limit_price, send_all
from arbx_pipelines.storage.executions import ExecutionRef
from arbx_pipelines.storage.orders import add_intents, orders_of_execution
from arbx_pipelines.venues.client import VenueClient

UNWIND = CorrectionPolicy.UNWIND


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
