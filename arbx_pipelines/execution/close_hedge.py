"""Close a funding hedge (or cut it by a fraction): trade both legs back at once as IOC orders at fresh prices (a
positive-funding hedge sells its spot and buys back its short perp; a negative-funding one buys its spot back and
sells its long perp; perp orders reduce-only), again for whatever is left until both legs are below one lot; then
the realized P&L = funding received - all fees + perp price P&L + spot price P&L, to the cent, from the recorded
fills (:mod:`arbx_pipelines.execution.pnl`).

Before any order: funding is collected, so the payments up to the close count; the legs follow the venue
(:func:`arbx_pipelines.execution.drift.follow_venue`: a leg found smaller, e.g. coins sold or withdrawn by hand, is
booked as an external change with a ``position_drift`` alert), so the close trades what is really there; and a
negative-funding close gets the USDT for its buy-back into the spot wallet. Runs while the kill switch is engaged:
closing reduces risk. Waits for the symbol lock instead of giving up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.core.models import Side
from arbx_pipelines.core.money import ZERO, quantize_down
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.core.sizing import check_leg, contracts_to_base, gross_of_coin_fee, to_market_amount
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.execution.capital import venue_wallets
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.drift import follow_venue
from arbx_pipelines.execution.funding_income import collect_funding
from arbx_pipelines.execution.legs import LegMarkets, mark_broken
from arbx_pipelines.execution.locks import symbol_lock
from arbx_pipelines.execution.positions import (
    PositionRecord,
    book_of,
    get_position,
    refresh_from_fills,
    set_status,
)
from arbx_pipelines.execution.prepare import ensure_collateral
from arbx_pipelines.execution.protocol import SentOrder
from arbx_pipelines.execution.sending import correction_intent, fresh_limit_price, send_all
from arbx_pipelines.execution.settle import book_realized, end_broken, lot
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import (
    BROKEN,
    ExecutionRef,
    executions_of_position,
    record_intent,
    set_execution_status,
)
from arbx_pipelines.storage.orders import add_intents
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.close")
CLOSE_KIND = "close"
REDUCE_KIND = "reduce"
ONE = Decimal(1)
#: the ``fraction`` that cuts nothing more: both legs down to the smaller one as the venue holds them (reconcile
#: completing an interrupted cut, whose own fraction is already partly applied)
HEDGE_ONLY = ZERO
#: USDT kept in the spot wallet for a buy-back beyond amount x limit price (fees charged in USDT, rounding)
BUY_BACK_BUFFER = Decimal("0.01")


@dataclass(frozen=True)
class CloseOutcome:
    status: str  # closed | reduced | noop | broken
    position_id: int
    reason: str
    realized_pnl: Decimal | None = None
    execution_key: str | None = None
    orders: tuple[SentOrder, ...] = ()


def next_key(deps: ExecutionDeps, kind: str, position_id: int) -> str:
    """``kind:position:n``, n = executions of that kind so far: a new key only after the previous one ran."""
    done = [e for e in executions_of_position(deps.engine, position_id) if e.kind == kind]
    return f"{kind}:{position_id}:{len(done)}"


async def markets_of(client: VenueClient, position: PositionRecord) -> LegMarkets:
    return LegMarkets(await client.market(position.spot_symbol), await client.market(position.symbol))


async def close_hedge(
    deps: ExecutionDeps,
    client: VenueClient,
    position_id: int,
    reason: str,
    *,
    fraction: Decimal = ONE,
    run_id: str | None = None,
    wait_s: float = 120.0,
) -> CloseOutcome:
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    position = get_position(deps.engine, position_id)
    async with symbol_lock(deps, position.venue, position.symbol, wait_s=wait_s):
        return await close_locked(deps, client, position_id, reason, fraction, run_id)


def _closing_intents(
    key: str,
    position: PositionRecord,
    markets: LegMarkets,
    excess: dict[Leg, Decimal],
    suffix: str,
    prices: dict[Leg, Decimal],
    coin_fee: Decimal,
) -> list[OrderIntent]:
    """``coin_fee``: the rate a spot buy pays out of the bought coin (zero where fees are paid in USDT)."""
    intents = []
    for leg in (Leg.SPOT, Leg.PERP):
        info: MarketInfo = markets.of(leg)
        side = position.direction.closing_side(leg)
        amount = to_market_amount(max(excess[leg], ZERO), info.rules)
        if amount <= 0:
            continue
        if leg is Leg.SPOT and side is Side.BUY and coin_fee:  # the buy-back restores the coins sold, net of its fee
            amount = gross_of_coin_fee(excess[leg], coin_fee, info.rules)
        if leg is Leg.SPOT and check_leg(leg, amount, prices[leg], info.rules) is not None:
            continue  # below the venue's minimum: dust that cannot be sold
        base = contracts_to_base(amount, info.rules.contract_size)
        intents.append(
            correction_intent(key, f"{leg}{suffix}", info, side, amount, base, prices[leg], reduce_only=leg is Leg.PERP)
        )
    return intents


def close_targets(position: PositionRecord, fraction: Decimal, step: Decimal) -> dict[Leg, Decimal]:
    """What each leg is brought down to: 0 for a close; for a cut, both legs less the same cut; for ``HEDGE_ONLY``,
    both legs to the smaller (nothing is ever added)."""
    if fraction >= 1:
        return {Leg.SPOT: ZERO, Leg.PERP: ZERO}
    if fraction == HEDGE_ONLY:
        hedge = max(min(position.spot_amount, position.perp_amount), ZERO)
        return {Leg.SPOT: hedge, Leg.PERP: hedge}
    cut = quantize_down(position.perp_amount * fraction, step) if step else ZERO
    return {Leg.SPOT: position.spot_amount - cut, Leg.PERP: position.perp_amount - cut}


async def _buy_back_collateral(
    deps: ExecutionDeps, client: VenueClient, position: PositionRecord, markets: LegMarkets, amount: Decimal, key: str
) -> None:
    """A negative-funding close buys ``amount`` coins back: move the USDT it needs into the spot wallet where spot and
    perpetual wallets are separate (keeping the long's initial margin in the perpetual wallet)."""
    if position.direction.short_perp or not client.separate_wallets or amount <= 0:
        return
    try:
        price = await fresh_limit_price(deps, client, markets.spot, Side.BUY)
        spot_need = amount * price * (1 + BUY_BACK_BUFFER)
        margin_need = position.perp_amount * price / max(position.leverage, 1)
        await ensure_collateral(deps, client, await venue_wallets(client), spot_need, margin_need, key)
    except VenueError as exc:  # the buy-back may still fit; its own answer tells
        log.warning("buy-back collateral not moved", extra={"position": position.id, "error": str(exc)})


def _spot_fee_rate(deps: ExecutionDeps, position: PositionRecord, markets: LegMarkets) -> Decimal:
    """The fee rate this account paid on the hedge's spot fills (the venue's own figure for this account and market,
    which ccxt's listed taker fee need not be); the listed one before any fill."""
    spot = book_of(deps.engine, position).spot
    traded = spot.sell_proceeds + spot.buy_cost
    return spot.fee_usdt / traded if traded > 0 else markets.spot.taker_fee or ZERO


async def close_locked(
    deps: ExecutionDeps, client: VenueClient, position_id: int, reason: str, fraction: Decimal, run_id: str | None
) -> CloseOutcome:
    position = get_position(deps.engine, position_id)
    if position.status == "closed":
        return CloseOutcome("noop", position_id, "already closed", position.realized_pnl)
    full = fraction >= 1
    kind = CLOSE_KIND if full else REDUCE_KIND
    key = next_key(deps, kind, position_id)
    # Recorded before anything can fail: a close that dies before its orders (a venue read failing) leaves an
    # unfinished execution that reconcile finishes, and the next attempt gets a new key (and so a new run key).
    execution = record_intent(
        deps.engine,
        key=key,
        kind=kind,
        venue=str(position.venue),
        symbol=position.symbol,
        planned={"reason": reason, "fraction": str(fraction)},
        intents=[],
        position_id=position_id,
        run_id=run_id,
    )
    crash_point("intent.committed")
    progress = _Progress()
    try:
        return await _close_recorded(deps, client, execution, position, reason, fraction, progress)
    except Exception as exc:
        if not progress.sending:
            raise  # nothing sent: the unfinished execution is reconcile's, and the caller may retry at once
        end_broken(deps, execution, exc)  # orders may be out: nothing escapes, reconcile finishes what is left
        return CloseOutcome("broken", position_id, f"interrupted: {exc}"[:200], None, key)


@dataclass
class _Progress:
    sending: bool = False  # the first order may have left


async def _close_recorded(
    deps: ExecutionDeps,
    client: VenueClient,
    execution: ExecutionRef,
    position: PositionRecord,
    reason: str,
    fraction: Decimal,
    progress: _Progress,
) -> CloseOutcome:
    position_id, key, kind, full = position.id, execution.key, execution.kind, fraction >= 1
    if full:
        set_status(deps.engine, position_id, "closing", close_reason=reason)
        crash_point("close.status_committed")
    markets = await markets_of(client, position)
    try:
        await collect_funding(deps, client, position_id)
    except VenueError as exc:  # funding can be collected later; the close must not wait for it
        log.warning("funding not collected before close", extra={"position": position_id, "error": str(exc)})
    position = await follow_venue(deps, client, refresh_from_fills(deps.engine, position_id), markets)
    step = max(lot(markets.spot.rules), lot(markets.perp.rules))
    targets = close_targets(position, fraction, step)
    await _buy_back_collateral(deps, client, position, markets, position.spot_amount - targets[Leg.SPOT], key)
    coin_fee = _spot_fee_rate(deps, position, markets) if client.spot_buy_fee_in_coin else ZERO
    sent_all: list[SentOrder] = []
    for round_number in range(1, deps.settings.correction_rounds + 1):
        position = refresh_from_fills(deps.engine, position_id)
        excess = {
            Leg.SPOT: position.spot_amount - targets[Leg.SPOT],
            Leg.PERP: position.perp_amount - targets[Leg.PERP],
        }
        prices = {
            leg: await fresh_limit_price(deps, client, markets.of(leg), position.direction.closing_side(leg))
            for leg in (Leg.SPOT, Leg.PERP)
        }
        suffix = "" if round_number == 1 else f"-close-{round_number}"
        intents = _closing_intents(key, position, markets, excess, suffix, prices, coin_fee)
        if not intents:
            break
        add_intents(deps.engine, execution.id, intents)
        crash_point("correction.intent_committed")
        progress.sending = True
        sent = await send_all(deps, client, intents, position_id)
        sent_all.extend(sent)
        if any(not s.known for s in sent):
            mark_broken(deps, get_position(deps.engine, position_id), execution, f"{kind} order outcome unknown")
            set_execution_status(deps.engine, execution.id, BROKEN, "order outcome unknown")  # reconcile finishes it
            return CloseOutcome("broken", position_id, "order outcome unknown", None, key, tuple(sent_all))
    return _finish(deps, execution, key, kind, position_id, markets, targets, reason, full, sent_all)


def _finish(
    deps: ExecutionDeps,
    execution: ExecutionRef,
    key: str,
    kind: str,
    position_id: int,
    markets: LegMarkets,
    targets: dict[Leg, Decimal],
    reason: str,
    full: bool,
    sent: list[SentOrder],
) -> CloseOutcome:
    position = refresh_from_fills(deps.engine, position_id)
    left_perp = position.perp_amount - targets[Leg.PERP]
    left_spot = position.spot_amount - targets[Leg.SPOT]
    perp_lot = max(lot(markets.perp.rules), Decimal("1e-12"))
    # a leg left over (its orders rejected or expired every round) is a naked one: the execution stays ``broken``,
    # the marker reconcile completes (to the hedge the venue holds), never ``failed`` with the leg left alone; spot
    # less than a perp lot over its target is within the hedge (and may be dust no order can sell)
    if abs(left_perp) >= perp_lot or abs(left_spot) >= max(perp_lot, lot(markets.spot.rules)):
        why = f"{kind}: legs {position.spot_amount} / {position.perp_amount} not at their targets"
        mark_broken(deps, position, execution, why)
        set_execution_status(deps.engine, execution.id, BROKEN, why)
        return CloseOutcome("broken", position_id, "legs not closed", None, key, tuple(sent))
    if not full:
        set_status(deps.engine, position_id, "open")
        crash_point("position.committed")
        set_execution_status(deps.engine, execution.id, "done")
        crash_point("execution.committed")
        return CloseOutcome("reduced", position_id, reason, None, key, tuple(sent))
    realized = book_realized(deps, position)
    # the position first: a run dying between the two leaves an unfinished execution reconcile completes
    set_status(deps.engine, position_id, "closed", close_reason=reason, realized_pnl=realized, closed=True)
    crash_point("position.committed")
    set_execution_status(deps.engine, execution.id, "done")
    crash_point("execution.committed")
    log.info("position closed", extra={"position": position_id, "realized_pnl": str(realized), "reason": reason})
    return CloseOutcome("closed", position_id, reason, realized, key, tuple(sent))
