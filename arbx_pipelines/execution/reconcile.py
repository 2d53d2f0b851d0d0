"""Reconcile one venue with the database, the venue being the truth (on start, on a schedule, ``arbx reconcile``;
DESIGN, "Execution protocol"; issue 10).

1. Every order the database has not seen settle (no final answer, or its trades not all stored: ``fills_pending``,
   or final with fewer stored fills than its filled amount) is looked up on the venue by its client order id: its
   answer and its trades are stored together; an intent the venue does not have is marked abandoned (never sent, or
   lost before arriving), so nothing is ever sent twice, but only once no request of it can still arrive (the
   protocol's in-flight window from its last send, waited out here), so no delayed request fills after it.
2. Only then is every unfinished execution (interrupted, or ``broken`` because an answer was missing) completed,
   under its symbol lock (a lock whose owner died is taken over at once): an open whose legs differ on the venue is
   corrected as a live open would be (each correction's client order id looked up first); an open whose legs match
   heals to ``open`` (item 4); an interrupted close is finished; an interrupted cut is completed to the hedge the
   venue holds (both legs to the smaller); a position an interrupted rebalance left ``broken`` is ``open`` again once
   its legs recorded equal the venue's. A leg is never traded to make a record balance:
   nothing is decided while an order of the execution is still unanswered. Spot arbitrages (venue ``cross``) are
   left to :mod:`arbx_pipelines.engine.repair`, which ``reconcile_all`` runs first.
3. Funding income of open positions is recorded.
4. Holdings are compared both ways (:mod:`arbx_pipelines.execution.holdings`): unknown exposure on the venue is
   reported, never adopted; open positions the venue does not hold are marked ``missing``.
5. The free spot inventory of every coin is recorded (:mod:`arbx_pipelines.execution.inventory`) for the sensor.

Alerts of both kinds repeat at most hourly while the amounts stay the same; the report lists them every time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from arbx_pipelines.core.venue_data import OrderState
from arbx_pipelines.execution.close_hedge import CLOSE_KIND, HEDGE_ONLY, REDUCE_KIND, close_locked, markets_of
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.funding_income import collect_funding
from arbx_pipelines.execution.holdings import compare_holdings, mark_missing_positions
from arbx_pipelines.execution.inventory import QUOTE
from arbx_pipelines.execution.legs import BalanceResult, LegMarkets, balance_open_legs
from arbx_pipelines.execution.locks import SymbolBusy, symbol_lock
from arbx_pipelines.execution.monitor import REBALANCE_KIND
from arbx_pipelines.execution.positions import PositionRecord, positions_with_status, refresh_from_fills, set_status
from arbx_pipelines.execution.risk_state import OPEN_KIND, record_execution_result
from arbx_pipelines.execution.sending import read_with_retry, sync_order_fills
from arbx_pipelines.execution.settle import finish_open, lot
from arbx_pipelines.execution.venue_view import legs_on_venue, venue_view
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import (
    FINAL_EXECUTION_STATUSES,
    ExecutionRef,
    get_execution,
    set_execution_status,
    unfinished_executions,
)
from arbx_pipelines.storage.orders import (
    DbOrderJournal,
    OrderRecord,
    orders_missing_fills,
    orders_of_execution,
    unfinished_orders,
)
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.reconcile")
#: the venue of spot arbitrage executions (engine.executor.CROSS_VENUE): they span two venues
CROSS_VENUE = "cross"
UNKNOWN_EXPOSURE_REPEAT_S = 3600


@dataclass
class ReconcileReport:
    venue: str
    orders_checked: int = 0
    orders_updated: int = 0
    orders_abandoned: int = 0
    executions_repaired: list[str] = field(default_factory=list)
    positions_broken: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # executions a live run was still holding
    pending: list[str] = field(default_factory=list)  # executions whose orders the venue has not answered yet
    funding_recorded: int = 0
    unknown_exposure: list[dict[str, str]] = field(default_factory=list)
    missing_inventory: list[dict[str, str]] = field(default_factory=list)  # declared coins the wallet lacks
    missing_positions: list[dict[str, str]] = field(default_factory=list)  # open positions the venue does not hold

    @property
    def agrees(self) -> bool:
        """Venue and records agree: no exposure left unexplained, no execution left waiting for the venue."""
        return not self.unknown_exposure and not self.pending


async def _look_up(deps: ExecutionDeps, client: VenueClient, order: OrderRecord) -> OrderState | None:
    """The venue's answer for one recorded order, by its client order id (``None``: the venue does not know it)."""
    crash_point("order.lookup_sent")
    state = await read_with_retry(
        deps, "order_by_client_id", lambda: client.order_by_client_id(order.symbol, order.client_order_id)
    )
    crash_point("order.lookup_answered")
    return state


async def settle_orders(
    deps: ExecutionDeps, client: VenueClient, orders: list[OrderRecord], report: ReconcileReport
) -> None:
    """The venue's answer and trades of each order, stored together (the order stays ``fills_pending`` while the
    venue does not list all its trades yet)."""
    journal = DbOrderJournal(deps.engine)
    for order in orders:
        report.orders_checked += 1
        state = await _look_up(deps, client, order)
        in_flight = in_flight_left(order, deps.settings.order_in_flight_s, datetime.now(UTC))
        if state is None and in_flight > 0:  # a request of it may still arrive: absent only once none can
            log.info("order not on the venue yet; waiting out its in-flight window", extra={"order": order.id})
            await asyncio.sleep(in_flight)
            state = await _look_up(deps, client, order)
        if state is None:
            if order.status != "abandoned":
                journal.mark_abandoned(
                    order.client_order_id, "not on the venue at reconcile: never sent, or lost on the way"
                )
                report.orders_abandoned += 1
            continue
        if not state.is_final:
            crash_point("order.cancel_sent")
            state = await client.cancel_order(order.symbol, order.client_order_id) or state
            crash_point("order.cancel_answered")
        journal.record_state(order.client_order_id, state)
        crash_point("order.state_committed")
        position_id = get_execution(deps.engine, order.execution_id).position_id if order.execution_id else None
        await sync_order_fills(deps, client, order.client_order_id, state, position_id)
        report.orders_updated += 1


def in_flight_left(order: OrderRecord, window_s: float, now: datetime) -> float:
    """Seconds until no request of ``order`` can still reach the venue (0 when none was sent or the window passed):
    the protocol's rule (DESIGN, "Execution protocol"), so reconcile never abandons, then re-sends, an order whose
    delayed request fills afterwards."""
    if order.sent_at is None or order.status == "abandoned":
        return 0.0
    return max(0.0, window_s - (now - order.sent_at).total_seconds())


def _orders_to_settle(deps: ExecutionDeps, execution_id: int, venue: str) -> list[OrderRecord]:
    missing = {o.id for o in orders_missing_fills(deps.engine, venue) if o.execution_id == execution_id}
    return [o for o in orders_of_execution(deps.engine, execution_id) if not o.is_final or o.id in missing]


async def _repair(deps: ExecutionDeps, client: VenueClient, execution: ExecutionRef, report: ReconcileReport) -> None:
    """Complete an interrupted execution; the caller holds the symbol lock and has settled its orders."""
    orders = orders_of_execution(deps.engine, execution.id)
    if any(not o.is_final for o in orders):
        log.warning("execution still has orders the venue has not answered", extra={"execution": execution.key})
        report.pending.append(execution.key)
        return
    if execution.position_id is None:
        set_execution_status(deps.engine, execution.id, "repaired", "no position")
        return
    position = refresh_from_fills(deps.engine, execution.position_id)
    markets = await markets_of(client, position)
    if execution.kind == OPEN_KIND and position.status in ("opening", "broken"):
        result = await balance_open_legs(deps, client, execution, position.id, markets, [])
        status = finish_open(deps, execution, result, markets.perp.rules, markets.spot.rules)
        if result is not BalanceResult.PENDING:  # the open's outcome, known at last, counts for the breaker
            record_execution_result(deps.engine, deps.limits, success=status == "open" and result.succeeded)
        if status == "broken":
            report.positions_broken.append(position.id)
            if result is BalanceResult.PENDING:
                report.pending.append(execution.key)
                return
    elif execution.kind in (CLOSE_KIND, REDUCE_KIND) and position.status in ("closing", "open", "broken"):
        # a close is finished (both legs to 0); a cut is completed to a hedge of what the venue holds now (both legs
        # to the smaller one), never cut again by its fraction: that would re-apply it to legs already half cut
        fraction = Decimal(1) if execution.kind == CLOSE_KIND else HEDGE_ONLY
        set_execution_status(deps.engine, execution.id, "repaired", "interrupted; finished by a new execution")
        outcome = await close_locked(deps, client, position.id, position.close_reason or "reconcile", fraction, None)
        if outcome.status == "broken":
            report.positions_broken.append(position.id)
    elif (
        execution.kind == REBALANCE_KIND
        and position.status == "broken"
        and not await heal_if_venue_agrees(deps, client, position, markets)
    ):
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


async def heal_if_venue_agrees(
    deps: ExecutionDeps, client: VenueClient, position: PositionRecord, markets: LegMarkets
) -> bool:
    """A position an interrupted rebalance left ``broken``, its orders all settled: back to ``open`` when each leg
    recorded equals the venue's within one lot (a hedge drifted apart is then the normal rebalance's to correct);
    otherwise it stays broken for a human. Nothing is traded."""
    spot, perp = legs_on_venue(position, await venue_view(deps, client, [position.symbol]))
    spot_lot, perp_lot = (max(lot(m.rules), Decimal("1e-12")) for m in (markets.spot, markets.perp))
    if abs(position.spot_amount - spot) >= spot_lot or abs(position.perp_amount - perp) >= perp_lot:
        log.warning("broken position differs from the venue", extra={"position": position.id})
        return False
    set_status(deps.engine, position.id, "open")
    crash_point("position.committed")
    return True


async def _reconcile_execution(
    deps: ExecutionDeps, client: VenueClient, execution_id: int, report: ReconcileReport
) -> None:
    """Under the symbol lock (a live execution holds it: then it is skipped, not touched)."""
    execution = get_execution(deps.engine, execution_id)
    try:
        async with symbol_lock(deps, execution.venue, execution.symbol):
            await settle_orders(deps, client, _orders_to_settle(deps, execution_id, execution.venue), report)
            execution = get_execution(deps.engine, execution_id)
            if execution.status not in FINAL_EXECUTION_STATUSES:
                await _repair(deps, client, execution, report)
    except SymbolBusy:
        report.skipped.append(execution.key)


async def reconcile_venue(deps: ExecutionDeps, client: VenueClient) -> ReconcileReport:
    venue = str(client.venue)
    report = ReconcileReport(venue)
    orders = unfinished_orders(deps.engine, venue) + orders_missing_fills(deps.engine, venue)
    await settle_orders(deps, client, [o for o in orders if o.execution_id is None], report)
    execution_ids = {o.execution_id for o in orders if o.execution_id is not None}
    # spot arbitrages (venue ``cross``) are finished, orders and all, by engine.repair (a live engine may own them)
    execution_ids = {i for i in execution_ids if get_execution(deps.engine, i).venue != CROSS_VENUE}
    execution_ids |= {e.id for e in unfinished_executions(deps.engine, venue)}
    for execution_id in sorted(execution_ids):
        try:
            await _reconcile_execution(deps, client, execution_id, report)
        except VenueError as exc:
            report.pending.append(get_execution(deps.engine, execution_id).key)
            log.warning(
                "repair failed; the next reconcile retries", extra={"execution": execution_id, "error": str(exc)}
            )
    for position in positions_with_status(deps.engine, ("open",), venue=venue):
        try:
            report.funding_recorded += (await collect_funding(deps, client, position.id)).new_payments
        except VenueError as exc:
            log.warning("funding not collected", extra={"position": position.id, "error": str(exc)})
    view = await venue_view(deps, client)
    busy = {e.symbol for e in unfinished_executions(deps.engine, venue)}
    report.missing_positions = await mark_missing_positions(deps, client, view, busy)
    report.unknown_exposure, report.missing_inventory = await compare_holdings(deps, client, view)
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
    for item in report.missing_inventory:
        if deps.state.claim_idempotency_key(
            f"inventory-missing:{venue}:{item['coin']}:{item['expected_amount']}:{item['venue_amount']}",
            UNKNOWN_EXPOSURE_REPEAT_S,
        ):
            deps.alerts.raise_alert(
                "inventory_missing",
                f"{venue} {item['coin']}: the spot wallet holds {item['venue_amount']}, expected "
                f"{item['expected_amount']} (declared inventory {item['declared_amount']}); negative-funding hedges "
                "will sell less",
                severity="warning",
                venue=venue,
                symbol=f"{item['coin']}/{QUOTE}",
                details=item,
            )
    log.info(
        "reconciled",
        extra={
            "venue": venue,
            "orders": report.orders_checked,
            "repaired": len(report.executions_repaired),
            "unknown_exposure": len(report.unknown_exposure),
            "missing_positions": len(report.missing_positions),
            "missing_inventory": len(report.missing_inventory),
        },
    )
    return report
