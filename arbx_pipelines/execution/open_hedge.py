"""Open a funding hedge (DESIGN, "Execution protocol"): re-validate on live data, check risk, prepare the venue,
record the intent, send both legs at once, and correct any imbalance until the legs match within one lot.

Steps: kill switch -> symbol lock -> no open position on the symbol -> the signal key not seen before -> live
snapshot -> wanted notional (allocation, venue share, reserve) -> sellable spot inventory of the coin (the wallet's
free inventory recorded for the sensor when the rate is negative) -> ``decide_entry`` -> ``check_trade`` -> leverage
and cross margin -> collateral transfer where spot and perpetual wallets are separate -> intent (execution, position,
both orders) in one transaction -> both legs concurrently -> fills -> corrections -> position open, flat or broken.
Decisions that send nothing are recorded under the signal key too, so a repeated signal is a no-op. Once the legs
are sent nothing escapes: a venue, state-store or database failure ends the open ``broken`` (critical alert, the
execution left for reconcile to finish), and no open ends above the rebalance threshold (closed to flat instead).

Negative funding (long perp + sell spot) sells only declared inventory (``strategy.spot_inventory``) that is free in
the wallet and not sold by another active hedge (:mod:`arbx_pipelines.execution.inventory`): the hedge is sized down
to it, and without any (an undeclared coin has none) it is rejected as ``no_inventory_for_negative_funding``. Selling
more (borrowing the coin) needs ``allow_margin_borrow`` and a venue client that borrows; none does yet, so the flag is
ignored with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from arbx_pipelines.core.decision import EntrySignal, Rejection, RejectReason, StrategyParams, decide_entry
from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.models import Venue, spot_symbol_of
from arbx_pipelines.core.orders import plan_hedge_orders
from arbx_pipelines.core.position_risk import hedge_deviation
from arbx_pipelines.core.risk import AccountView, check_trade, trade_request_for_entry
from arbx_pipelines.execution.capital import (
    VenueWallets,
    account_view,
    opening_capital,
    venue_wallets,
    wanted_notional,
)
from arbx_pipelines.execution.close_hedge import close_locked
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.inventory import free_inventory, record_inventory, sellable_inventory
from arbx_pipelines.execution.legs import LegMarkets, balance_open_legs
from arbx_pipelines.execution.live_snapshot import LiveMarket, live_market
from arbx_pipelines.execution.locks import SymbolBusy, capital_lock, symbol_lock
from arbx_pipelines.execution.positions import (
    ACTIVE_STATUSES,
    PositionRecord,
    active_position,
    get_position,
    positions_with_status,
)
from arbx_pipelines.execution.prepare import minimum_hedge_base, prepare_venue
from arbx_pipelines.execution.protocol import SentOrder
from arbx_pipelines.execution.risk_state import OPEN_KIND, halted, load_risk_state, record_execution_result
from arbx_pipelines.execution.sending import send_all
from arbx_pipelines.execution.settle import end_broken, finish_open
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import NewPosition, find_execution, record_decision, record_intent
from arbx_pipelines.storage.orders import utcnow
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.open")


class OpenStatus(StrEnum):
    OPENED = "opened"
    FLAT = "flat"
    BROKEN = "broken"
    REJECTED = "rejected"
    BLOCKED = "blocked"
    REFUSED = "refused"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True)
class OpenRequest:
    venue: Venue
    symbol: str
    signal_key: str
    signal_time: datetime | None = None
    run_id: str | None = None
    #: leverage the signal decided (``core.funding_rules.choose_leverage``); None: ``strategy.max_leverage``
    leverage: int | None = None


@dataclass(frozen=True)
class OpenOutcome:
    status: OpenStatus
    execution_key: str
    reason: str = ""
    position_id: int | None = None
    orders: tuple[SentOrder, ...] = ()
    violations: tuple[str, ...] = field(default_factory=tuple)


def _strategy(deps: ExecutionDeps, client: VenueClient) -> StrategyParams:
    """The strategy as this venue client can trade it: no margin borrowing where the client cannot borrow."""
    if deps.strategy.allow_margin_borrow and not client.spot_margin_borrow:
        log.warning("margin borrowing is enabled but not supported here", extra={"venue": str(client.venue)})
        return replace(deps.strategy, allow_margin_borrow=False)
    return deps.strategy


def _decide(
    live: LiveMarket, strategy: StrategyParams, notional: Decimal, inventory: Decimal
) -> EntrySignal | Rejection:
    snap = live.snapshot
    decision = decide_entry(snap, strategy, notional, spot_inventory_base=inventory)
    if isinstance(decision, Rejection) and decision.reason in (RejectReason.MIN_AMOUNT, RejectReason.MIN_NOTIONAL):
        positive = snap.rate > 0
        spot_price, perp_price = (snap.spot_ask, snap.perp_bid) if positive else (snap.spot_bid, snap.perp_ask)
        base = minimum_hedge_base(snap.spot_rules, snap.perp_rules, spot_price, perp_price)
        smallest = base * spot_price * (1 + Decimal("1e-9"))
        if smallest > notional:  # the limits are then checked on the smallest hedge the venue accepts
            decision = decide_entry(snap, strategy, smallest, spot_inventory_base=inventory)
    return decision


def _inventory(
    deps: ExecutionDeps, live: LiveMarket, wallets: VenueWallets, positions: list[PositionRecord]
) -> Decimal:
    """Spot inventory of the coin a negative rate may sell (declared, free and not sold by another hedge); it also
    records every coin's free inventory (the sensor reads them). A positive rate sells nothing: the wallet's free
    coins are returned for the record only, without the write, which would only delay the orders."""
    venue, coin = str(live.snapshot.venue), base_of(live.snapshot.symbol)
    if live.snapshot.rate >= 0:
        return free_inventory(coin, venue, wallets.spot_coins, positions)
    record_inventory(deps.engine, venue, wallets.spot_coins, positions, utcnow())
    declared = deps.strategy.declared_inventory(venue, coin)
    return sellable_inventory(coin, venue, wallets.spot_coins, declared, positions)


def _planned(signal: EntrySignal, request: OpenRequest, live: LiveMarket) -> dict[str, Any]:
    return {
        "notional": str(signal.notional),
        "base_amount": str(signal.size.base_amount),
        "direction": str(signal.direction),
        "rate": str(signal.rate),
        "annualized": str(signal.annualized),
        "interval_hours": signal.interval_hours,
        "expected_net_rate": str(signal.expected_net_rate),
        "break_even_settlements": signal.break_even_settlements,
        "spot_price": str(signal.size.spot.price),
        "perp_price": str(signal.size.perp.price),
        "signal_key": request.signal_key,
        "signal_time": request.signal_time.isoformat() if request.signal_time else None,
        "next_funding_time": live.funding.next_funding_time.isoformat() if live.funding.next_funding_time else None,
    }


async def open_hedge(
    deps: ExecutionDeps,
    client: VenueClient,
    request: OpenRequest,
    other_wallets: Mapping[Venue, VenueWallets] | None = None,
) -> OpenOutcome:
    """Open the hedge a funding signal asks for, or say why not (see the module docstring)."""
    if request.leverage is not None:
        deps = replace(deps, settings=replace(deps.settings, leverage=request.leverage))
    key = request.signal_key
    reason = halted(deps.engine)
    if reason is not None:
        return OpenOutcome(OpenStatus.REFUSED, key, f"kill switch: {reason}", violations=("kill_switch",))
    existing = find_execution(deps.engine, key)
    if existing is not None:
        return OpenOutcome(OpenStatus.DUPLICATE, key, f"already {existing.status}", existing.position_id)
    try:
        async with symbol_lock(deps, request.venue, request.symbol):
            return await _open_locked(deps, client, request, other_wallets or {})
    except SymbolBusy as exc:
        return OpenOutcome(OpenStatus.REFUSED, key, str(exc))


async def _open_locked(
    deps: ExecutionDeps, client: VenueClient, request: OpenRequest, other_wallets: Mapping[Venue, VenueWallets]
) -> OpenOutcome:
    key, venue, symbol = request.signal_key, request.venue, request.symbol
    if active_position(deps.engine, str(venue), symbol) is not None:
        return OpenOutcome(OpenStatus.REFUSED, key, "a position on this symbol is already active")

    def decided(status: OpenStatus, why: str, planned: dict[str, Any], violations: tuple[str, ...] = ()) -> OpenOutcome:
        record_decision(
            deps.engine,
            key=key,
            kind=OPEN_KIND,
            venue=str(venue),
            symbol=symbol,
            status=status.value,
            planned=planned,
            error=why,
            run_id=request.run_id,
        )
        log.info("open not sent", extra={"key": key, "status": status.value, "why": why})
        return OpenOutcome(status, key, why, violations=violations)

    live = await live_market(client, symbol, deps.settings.max_slippage)
    wallets = dict(other_wallets)
    wallets[venue] = await venue_wallets(client)
    view, positions = _view(deps, wallets)
    notional, cap = wanted_notional(deps, venue, symbol, view, positions)
    inventory = _inventory(deps, live, wallets[venue], positions)
    base_plan: dict[str, Any] = {
        "notional": str(notional),
        "rate": str(live.snapshot.rate),
        "annualized": str(live.snapshot.annualized),
        "spot_inventory": str(inventory),
    }
    if cap is not None:
        return decided(OpenStatus.BLOCKED, f"allocation: {cap}", base_plan, (cap,))
    decision = _decide(live, _strategy(deps, client), notional, inventory)
    if isinstance(decision, Rejection):
        return decided(OpenStatus.REJECTED, f"{decision.reason}: {decision.detail}", base_plan, (decision.reason,))
    signal = decision
    planned = _planned(signal, request, live) | {"spot_inventory": str(inventory), "wanted_notional": str(notional)}
    blocked = _risk_block(deps, signal, view)
    if blocked is not None:
        return decided(OpenStatus.BLOCKED, blocked[1], planned, blocked[0])
    try:
        await prepare_venue(deps, client, symbol, wallets[venue], signal.notional, signal.direction.short_perp, key)
    except VenueError as exc:
        return decided(OpenStatus.FAILED, f"venue preparation failed: {exc}", planned)

    plan = plan_hedge_orders(
        key,
        venue,
        symbol,
        signal.direction,
        signal.size,
        live.snapshot.spot_rules,
        live.snapshot.perp_rules,
        max_slippage=deps.settings.max_slippage,
    )
    async with capital_lock(deps, venue):  # re-check against opens that recorded their intent meanwhile
        blocked = _risk_block(deps, signal, _view(deps, wallets)[0])
        if blocked is not None:
            return decided(OpenStatus.BLOCKED, blocked[1], planned, blocked[0])
        execution = record_intent(
            deps.engine,
            key=key,
            kind=OPEN_KIND,
            venue=str(venue),
            symbol=symbol,
            planned=planned,
            intents=[plan.spot, plan.perp],
            run_id=request.run_id,
            new_position=NewPosition(
                str(venue), symbol, spot_symbol_of(symbol), signal.direction, deps.settings.leverage
            ),
        )
        crash_point("intent.committed")
    assert execution.position_id is not None
    sent: list[SentOrder] = []
    try:  # from here an order may be on the venue: nothing escapes (reconcile finishes what is left)
        sent = await send_all(deps, client, [plan.spot, plan.perp], execution.position_id)
        result = await balance_open_legs(
            deps, client, execution, execution.position_id, LegMarkets(live.spot, live.perp), sent
        )
        status = finish_open(deps, execution, result, live.perp.rules, live.spot.rules)
        if status == "open":
            status = await _flat_if_deviating(deps, client, execution.position_id, request.run_id)
        record_execution_result(deps.engine, deps.limits, success=status == "open" and result.succeeded)
    except Exception as exc:
        status = end_broken(deps, execution, exc)
    outcome = {"open": OpenStatus.OPENED, "closed": OpenStatus.FLAT}.get(status, OpenStatus.BROKEN)
    return OpenOutcome(outcome, key, status, execution.position_id, tuple(sent))


async def _flat_if_deviating(deps: ExecutionDeps, client: VenueClient, position_id: int, run_id: str | None) -> str:
    """No open ends above the rebalance threshold: legs matched within a lot that still differ by more than
    ``hedge_rebalance`` (a lot too coarse for the size) are closed to flat, with an alert."""
    position = get_position(deps.engine, position_id)
    threshold = deps.strategy.position_risk.hedge_rebalance
    if position.perp_amount <= 0 or hedge_deviation(position.perp_amount, position.spot_amount) <= threshold:
        return "open"
    deviation = hedge_deviation(position.perp_amount, position.spot_amount)
    deps.alerts.raise_alert(
        "hedge_deviation_at_open",
        f"{position.venue} {position.symbol}: legs {position.spot_amount} spot / {position.perp_amount} perp differ by "
        f"{deviation:.2%} (> {threshold:.0%}) after the open; closed to flat",
        severity="warning",
        venue=str(position.venue),
        symbol=position.symbol,
        details={"position_id": position_id, "deviation": str(deviation)},
    )
    outcome = await close_locked(deps, client, position_id, "deviation_at_open", Decimal(1), run_id)
    return "closed" if outcome.status == "closed" else "broken"


def _view(deps: ExecutionDeps, wallets: Mapping[Venue, VenueWallets]) -> tuple[AccountView, list[PositionRecord]]:
    positions = positions_with_status(deps.engine, ACTIVE_STATUSES)
    return account_view(wallets, positions, opening_capital(deps.engine)), positions


def _risk_block(deps: ExecutionDeps, signal: EntrySignal, view: AccountView) -> tuple[tuple[str, ...], str] | None:
    """The limits this entry breaks (names, detail), or None when it may go."""
    request = trade_request_for_entry(signal, deps.settings.leverage)
    verdict = check_trade(request, deps.limits, load_risk_state(deps.engine), view)
    if verdict.allowed:
        return None
    names = tuple(sorted(str(v.limit) for v in verdict.violations))
    return names, "; ".join(f"{v.limit}: {v.detail}" for v in verdict.violations)
