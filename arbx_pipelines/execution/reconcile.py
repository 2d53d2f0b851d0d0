"""Reconcile one venue with the database (on start and on a schedule; DESIGN, "Execution protocol").

1. Every order the database has not seen settle is looked up by its client order id: its answer and fills are
   recorded; an intent the venue does not have is marked abandoned (it was never sent, or lost before arriving),
   so nothing is ever sent twice.
2. Every execution interrupted midway is completed: an open whose legs differ is corrected exactly as a live open
   would be (hedge, else unwind, each correction recorded first); an interrupted close is finished.
3. Funding income of open positions is recorded.
4. What the venue holds is compared with the active positions: a perpetual position or a spot coin balance the
   database cannot account for is reported as ``unknown_exposure`` (an alert with the details), never adopted,
   closed or sold. A positive-funding hedge accounts for the coins it holds; a negative-funding one for the coins it
   sold (so coins it sold from inventory do not hide others).
5. The free spot inventory of every coin is recorded (:mod:`arbx_pipelines.execution.inventory`) for the sensor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.execution.close_hedge import CLOSE_KIND, REDUCE_KIND, close_locked, markets_of
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.funding_income import collect_funding
from arbx_pipelines.execution.inventory import record_inventory
from arbx_pipelines.execution.legs import BalanceResult, balance_open_legs, read_with_retry, sync_order_fills
from arbx_pipelines.execution.locks import SymbolBusy, symbol_lock
from arbx_pipelines.execution.positions import ACTIVE_STATUSES, get_position, positions_with_status
from arbx_pipelines.execution.records import (
    FINAL_EXECUTION_STATUSES,
    DbOrderJournal,
    ExecutionRef,
    OrderRecord,
    get_execution,
    orders_of_execution,
    set_execution_status,
    unfinished_executions,
    unfinished_orders,
    utcnow,
)
from arbx_pipelines.execution.risk_state import OPEN_KIND
from arbx_pipelines.execution.settle import finish_open, lot
from arbx_pipelines.execution.venue_view import venue_view
from arbx_pipelines.logs import get_logger
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.reconcile")
UNKNOWN_EXPOSURE_REPEAT_S = 3600
#: a coin balance worth less than this (USDT) is dust, not exposure
DUST_USDT = Decimal("1")


@dataclass
class ReconcileReport:
    venue: str
    orders_checked: int = 0
    orders_updated: int = 0
    orders_abandoned: int = 0
    executions_repaired: list[str] = field(default_factory=list)
    positions_broken: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # executions a live run was still holding
    funding_recorded: int = 0
    unknown_exposure: list[dict[str, str]] = field(default_factory=list)


async def settle_orders(
    deps: ExecutionDeps, client: VenueClient, orders: list[OrderRecord], report: ReconcileReport
) -> None:
    journal = DbOrderJournal(deps.engine)
    for order in orders:
        report.orders_checked += 1
        state = await read_with_retry(
            deps,
            "order_by_client_id",
            lambda o=order: client.order_by_client_id(o.symbol, o.client_order_id),  # type: ignore[misc]
        )
        if state is None:
            journal.mark_abandoned(
                order.client_order_id, "not on the venue at reconcile: never sent, or lost on the way"
            )
            report.orders_abandoned += 1
            continue
        if not state.is_final:
            state = await client.cancel_order(order.symbol, order.client_order_id) or state
        journal.record_state(order.client_order_id, state)
        position_id = get_execution(deps.engine, order.execution_id).position_id if order.execution_id else None
        await sync_order_fills(deps, client, order.client_order_id, state, position_id)
        report.orders_updated += 1


async def _repair(deps: ExecutionDeps, client: VenueClient, execution: ExecutionRef, report: ReconcileReport) -> None:
    """Complete an interrupted execution; the caller holds the symbol lock."""
    orders = orders_of_execution(deps.engine, execution.id)
    if any(not o.is_final for o in orders):
        log.warning("execution still has orders of unknown outcome", extra={"execution": execution.key})
        return
    if execution.position_id is None:
        set_execution_status(deps.engine, execution.id, "repaired", "no position")
        return
    position = get_position(deps.engine, execution.position_id)
    markets = await markets_of(client, position)
    if execution.kind == OPEN_KIND:
        result = await balance_open_legs(deps, client, execution, position.id, markets, [])
        status = finish_open(deps, execution, result is BalanceResult.BALANCED, markets.perp.rules, markets.spot.rules)
        if status == "broken":
            report.positions_broken.append(position.id)
            return
    elif execution.kind in (CLOSE_KIND, REDUCE_KIND) and position.status in ("closing", "open", "broken"):
        full = execution.kind == CLOSE_KIND
        fraction = Decimal(1) if full else Decimal(str(execution.planned.get("fraction", "0.5")))
        set_execution_status(deps.engine, execution.id, "repaired", "interrupted; finished by a new execution")
        outcome = await close_locked(deps, client, position.id, position.close_reason or "reconcile", fraction, None)
        if outcome.status == "broken":
            report.positions_broken.append(position.id)
    set_execution_status(deps.engine, execution.id, "repaired", "completed by reconcile")
    report.executions_repaired.append(execution.key)
    deps.alerts.raise_alert(
        "execution_repaired",
        f"{execution.venue} {execution.symbol}: {execution.key} completed by reconcile",
        severity="warning",
        venue=execution.venue,
        symbol=execution.symbol,
        details={"execution": execution.key, "position_id": execution.position_id},
    )


async def _reconcile_execution(
    deps: ExecutionDeps, client: VenueClient, execution_id: int, report: ReconcileReport
) -> None:
    """Under the symbol lock (a live execution holds it: then it is skipped, not touched)."""
    execution = get_execution(deps.engine, execution_id)
    try:
        async with symbol_lock(deps, execution.venue, execution.symbol):
            pending = [o for o in orders_of_execution(deps.engine, execution_id) if not o.is_final]
            await settle_orders(deps, client, pending, report)
            execution = get_execution(deps.engine, execution_id)
            if execution.status not in FINAL_EXECUTION_STATUSES:
                await _repair(deps, client, execution, report)
    except SymbolBusy:
        report.skipped.append(execution.key)


async def find_unknown_exposure(deps: ExecutionDeps, client: VenueClient) -> list[dict[str, str]]:
    """Venue exposure the active positions do not account for (perp sizes, spot coins worth more than dust)."""
    active = positions_with_status(deps.engine, ACTIVE_STATUSES, venue=str(client.venue))
    view = await venue_view(deps, client)
    record_inventory(deps.engine, str(client.venue), {c: b.free for c, b in view.spot.items()}, active, utcnow())
    found: list[dict[str, str]] = []
    for symbol, info in sorted(view.perps.items()):
        mine = [p for p in active if p.symbol == symbol]
        recorded = sum((p.perp_amount for p in mine), ZERO)
        same_side = all((info.side == "short") == p.direction.short_perp for p in mine)
        step = lot((await client.market(symbol)).rules)
        excess = info.amount - recorded if same_side else info.amount
        if excess >= max(step, Decimal("1e-12")):
            found.append(
                {
                    "venue": str(client.venue),
                    "symbol": symbol,
                    "kind": "perp",
                    "side": info.side,
                    "venue_amount": str(info.amount),
                    "recorded_amount": str(recorded),
                    "unknown_amount": str(excess),
                }
            )
    markets = await client.markets()
    for coin, balance in sorted(view.spot.items()):
        spot_symbol = f"{coin}/USDT"
        if coin == "USDT" or spot_symbol not in markets or balance.total <= 0:
            continue
        recorded = sum((p.spot_amount * p.direction.sign for p in active if base_of(p.symbol) == coin), ZERO)
        excess = balance.total - recorded
        rules = markets[spot_symbol].rules
        if excess < max(lot(rules), Decimal("1e-12")):
            continue
        book = await read_with_retry(deps, "order_book", lambda s=spot_symbol: client.order_book(s, 5))  # type: ignore[misc]
        price = book.best_bid or ZERO
        if excess * price < max(rules.min_notional or ZERO, DUST_USDT):
            continue
        found.append(
            {
                "venue": str(client.venue),
                "symbol": spot_symbol,
                "kind": "spot",
                "side": "long",
                "venue_amount": str(balance.total),
                "recorded_amount": str(recorded),
                "unknown_amount": str(excess),
                "value_usdt": str(excess * price),
            }
        )
    return found


async def reconcile_venue(deps: ExecutionDeps, client: VenueClient) -> ReconcileReport:
    venue = str(client.venue)
    report = ReconcileReport(venue)
    orders = unfinished_orders(deps.engine, venue)
    await settle_orders(deps, client, [o for o in orders if o.execution_id is None], report)
    execution_ids = {o.execution_id for o in orders if o.execution_id is not None}
    execution_ids |= {e.id for e in unfinished_executions(deps.engine, venue)}
    for execution_id in sorted(execution_ids):
        try:
            await _reconcile_execution(deps, client, execution_id, report)
        except VenueError as exc:
            log.warning(
                "repair failed; the next reconcile retries", extra={"execution": execution_id, "error": str(exc)}
            )
    for position in positions_with_status(deps.engine, ("open",), venue=venue):
        try:
            report.funding_recorded += (await collect_funding(deps, client, position.id)).new_payments
        except VenueError as exc:
            log.warning("funding not collected", extra={"position": position.id, "error": str(exc)})
    report.unknown_exposure = await find_unknown_exposure(deps, client)
    for item in report.unknown_exposure:
        if deps.state.claim_idempotency_key(
            f"unknown-exposure:{venue}:{item['symbol']}:{item['unknown_amount']}", UNKNOWN_EXPOSURE_REPEAT_S
        ):
            deps.alerts.raise_alert(
                "unknown_exposure",
                f"{venue} {item['symbol']}: {item['unknown_amount']} {item['kind']} the database does not know "
                "(not adopted; check it by hand)",
                severity="critical",
                venue=venue,
                symbol=item["symbol"],
                details=item,
            )
    log.info(
        "reconciled",
        extra={
            "venue": venue,
            "orders": report.orders_checked,
            "repaired": len(report.executions_repaired),
            "unknown_exposure": len(report.unknown_exposure),
        },
    )
    return report
