"""Issue 10's seven cases on the simulated venues: whatever dies after the first order, reconcile converges to
hedged (or flat) with no duplicate order and records equal to the venue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.open_hedge import OpenOutcome, OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import get_position
from arbx_pipelines.execution.reconcile import reconcile_venue
from arbx_pipelines.execution.risk_state import FAILURES, load_risk_state
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.executions import find_execution
from arbx_pipelines.storage.models import Alert, Fill, Order
from arbx_pipelines.storage.orders import FILLS_PENDING
from arbx_pipelines.storage.state import DatabaseState, StateStore
from arbx_pipelines.venues.sim.server import SimServer
from tests.execution.crashkit import assert_records_equal_venue, run_killed, state_factory, venue_legs
from tests.execution.simkit import (
    FAULT_CLIENT_TIMEOUT_MS,
    FAULT_HANG_MS,
    ORDER_ENDPOINTS,
    Admin,
    ccxt_client,
    fast_settings,
    make_deps,
    start_sim,
    venue_client,
)

__all__ = ["state_factory"]  # the fixture, imported for pytest

PERP, SPOT = "ADA/USDT:USDT", "ADA/USDT"
TRADES = ("GET /api/v3/myTrades", "GET /fapi/v1/userTrades")


@pytest.fixture
def server() -> Iterator[SimServer]:
    server = start_sim(venues=("binance",))
    Admin(server.base_url).set_funding("binance", PERP, 0.003)
    yield server
    server.stop()


def _open(server: SimServer, deps: ExecutionDeps, key: str, venue: Venue = Venue.BINANCE) -> OpenOutcome:
    async def scenario() -> OpenOutcome:
        async with venue_client(server, venue, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            return await open_hedge(deps, client, OpenRequest(venue, PERP, key))

    return asyncio.run(scenario())


def _reconcile(server: SimServer, deps: ExecutionDeps, venue: Venue = Venue.BINANCE) -> list[Any]:
    """Reconcile twice: the first repairs, the second must find nothing to do."""

    async def scenario() -> list[Any]:
        async with venue_client(server, venue, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            return [await reconcile_venue(deps, client), await reconcile_venue(deps, client)]

    return asyncio.run(scenario())


def _alerts(deps: ExecutionDeps, kind: str) -> list[Alert]:
    with transaction(deps.engine) as session:
        return list(session.execute(select(Alert).where(Alert.kind == kind)).scalars())


def _assert_hedged(server: SimServer, deps: ExecutionDeps, position_id: int, venue: str = "binance") -> None:
    position = get_position(deps.engine, position_id)
    spot, perp = venue_legs(server, venue, SPOT, PERP)
    lot = Decimal(str(ccxt_client(server, venue).market(PERP)["precision"]["amount"]))
    assert position.status == "open", position
    assert position.perp_amount == perp and abs(perp - spot) <= lot, (position, spot, perp)
    assert_records_equal_venue(server, deps, venue, [SPOT, PERP])


def test_killed_between_an_answer_and_its_fills(
    server: SimServer, sqlite_url: str, state_factory: Callable[[Any], StateStore]
) -> None:
    """Case 1 (and 3): killed after an order's answer was stored but before its trades; the order says its fills are
    pending, and reconcile, right after the kill (taking over the dead run's lock), stores them from the venue
    instead of buying the leg again."""
    deps = make_deps(sqlite_url)
    deps.state = state_factory(deps.engine)
    run_killed(deps, "fills.trades_sent", lambda: _open_in_child(server, deps, "open:killed-before-fills"))
    with transaction(deps.engine) as session:
        statuses = [o.status for o in session.execute(select(Order)).scalars()]
        assert session.execute(select(Fill)).first() is None
    assert FILLS_PENDING in statuses and "closed" not in statuses, statuses
    first, again = _reconcile(server, deps)
    assert first.skipped == [] and first.executions_repaired == ["open:killed-before-fills"], first
    assert again.orders_checked == 0 and again.executions_repaired == [] and again.agrees, again
    execution = find_execution(deps.engine, "open:killed-before-fills")
    assert execution is not None and execution.position_id is not None
    _assert_hedged(server, deps, execution.position_id)


async def _open_in_child(server: SimServer, deps: ExecutionDeps, key: str) -> None:
    async with venue_client(server, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
        await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, key))


def test_venue_reads_failing_after_the_legs_end_broken_and_reconcile_heals(
    server: SimServer, sqlite_url: str, state_factory: Callable[[Any], StateStore]
) -> None:
    """Case 2: the trades read failing after every retry no longer escapes the open: it ends broken with a critical
    alert and an unfinished execution, which the next reconcile finishes once the venue answers."""
    admin = Admin(server.base_url)
    deps = make_deps(sqlite_url)
    deps.state = state_factory(deps.engine)
    for endpoint in TRADES:
        admin.add_fault(venue="binance", endpoint=endpoint, kind="rate_limit")
    outcome = _open(server, deps, "open:reads-fail")
    assert outcome.status is OpenStatus.BROKEN and outcome.position_id is not None
    assert get_position(deps.engine, outcome.position_id).status == "broken"
    assert [a.severity for a in _alerts(deps, "position_broken")] == ["critical"]
    execution = find_execution(deps.engine, "open:reads-fail")
    assert execution is not None and execution.status == "broken"
    admin.clear_faults()
    first, again = _reconcile(server, deps)
    assert first.executions_repaired == ["open:reads-fail"] and again.agrees
    _assert_hedged(server, deps, outcome.position_id)


def test_unknown_outcome_heals_when_the_venue_answers(server: SimServer, sqlite_url: str) -> None:
    """Case 4: a perp order whose answer and every look-up were lost leaves the position broken; once the venue
    answers, reconcile records the fill and the position is open with the venue's perp."""
    admin = Admin(server.base_url)
    deps = make_deps(sqlite_url, settings=fast_settings(order_timeout_s=2.0))
    admin.add_fault(venue="binance", endpoint=ORDER_ENDPOINTS[("binance", "perp")], kind="timeout_after_accept",
                    hang_ms=FAULT_HANG_MS, times=1)  # fmt: skip
    admin.add_fault(venue="binance", endpoint="GET /fapi/v1/order", kind="drop_connection")
    outcome = _open(server, deps, "open:perp-unknown")
    assert outcome.status is OpenStatus.BROKEN and outcome.position_id is not None
    assert get_position(deps.engine, outcome.position_id).perp_amount == 0
    admin.clear_faults()
    first, again = _reconcile(server, deps)
    assert first.executions_repaired == ["open:perp-unknown"] and again.agrees, first
    assert again.unknown_exposure == []
    _assert_hedged(server, deps, outcome.position_id)


def test_position_the_venue_no_longer_holds_is_marked_missing(server: SimServer, sqlite_url: str) -> None:
    """Case 5: reconcile compares both ways: a recorded open position closed by hand on the venue is reported with a
    critical alert and marked ``missing``, never left ``open``, never traded."""
    deps = make_deps(sqlite_url)
    outcome = _open(server, deps, "open:closed-by-hand")
    assert outcome.status is OpenStatus.OPENED and outcome.position_id is not None
    position = get_position(deps.engine, outcome.position_id)
    exchange = ccxt_client(server)
    exchange.create_order(PERP, "market", "buy", float(position.perp_amount), params={"reduceOnly": True})
    orders_before = len(exchange.fetch_orders(PERP)) + len(exchange.fetch_orders(SPOT))
    first, again = _reconcile(server, deps)
    assert [m["position_id"] for m in first.missing_positions] == [str(position.id)]
    assert again.missing_positions == []
    assert get_position(deps.engine, position.id).status == "missing"
    assert [a.severity for a in _alerts(deps, "position_missing")] == ["critical"]
    assert len(exchange.fetch_orders(PERP)) + len(exchange.fetch_orders(SPOT)) == orders_before  # nothing traded


def test_okx_order_rows_are_in_coins(tmp_path: Path) -> None:
    """Case 6: an OKX perpetual order's row records its amount in coins, like its fills and the position."""
    server = start_sim(venues=("okx",))
    try:
        Admin(server.base_url).set_funding("okx", PERP, 0.003)
        deps = make_deps(f"sqlite:///{tmp_path / 'arbx.db'}")
        outcome = _open(server, deps, "open:okx-units", Venue.OKX)
        assert outcome.status is OpenStatus.OPENED and outcome.position_id is not None
        position = get_position(deps.engine, outcome.position_id)
        with transaction(deps.engine) as session:
            (perp,) = session.execute(select(Order).where(Order.symbol == PERP)).scalars()
            perp_fills = sum(session.execute(select(Fill.amount).where(Fill.order_id == perp.id)).scalars(), Decimal(0))
        contract = Decimal(str(ccxt_client(server, "okx").market(PERP)["contractSize"]))
        assert contract != 1  # the case is about contracts
        assert perp.amount == perp.filled == perp_fills == position.perp_amount
        assert_records_equal_venue(server, deps, "okx", [SPOT, PERP])
    finally:
        server.stop()


def test_price_move_between_legs_ends_the_cheaper_way(server: SimServer, sqlite_url: str) -> None:
    """Case 7: the perp leg failed and the run died; the price fell 30 % before reconcile. Completing the hedge would
    lock in more than ``max_single_loss_usdt``: it ends hedged or flat, whichever loses less, with a critical alert,
    and the loss counts for the breaker (and the daily loss when flat)."""
    admin = Admin(server.base_url)
    deps = make_deps(sqlite_url)
    admin.add_fault(venue="binance", endpoint=ORDER_ENDPOINTS[("binance", "perp")], kind="reject", times=1)
    run_killed(deps, "fills.committed", lambda: _open_in_child(server, deps, "open:price-moved"))
    admin.set_price("binance", SPOT, 0.7)
    first, again = _reconcile(server, deps)
    assert first.executions_repaired == ["open:price-moved"] and again.agrees, first
    (alert,) = _alerts(deps, "price_moved_between_legs")
    assert alert.severity == "critical"
    details = dict(alert.details or {})
    assert Decimal(details["hedge_loss"]) > deps.limits.max_single_loss_usdt
    assert int(DatabaseState(deps.engine).get_flag(FAILURES) or 0) >= 1
    execution = find_execution(deps.engine, "open:price-moved")
    assert execution is not None and execution.position_id is not None
    position = get_position(deps.engine, execution.position_id)
    spot, perp = venue_legs(server, "binance", SPOT, PERP)
    if details["policy"] == "unwind":
        assert position.status == "closed" and position.realized_pnl is not None and position.realized_pnl < 0
        assert perp == 0 and spot < Decimal(str(ccxt_client(server).market(SPOT)["precision"]["amount"]))
        assert load_risk_state(deps.engine).realized_pnl_usdt == position.realized_pnl
    else:
        _assert_hedged(server, deps, position.id)
    assert_records_equal_venue(server, deps, "binance", [SPOT, PERP])
