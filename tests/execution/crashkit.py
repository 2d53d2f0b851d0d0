"""Killing an execution where issue 10 says it may die, and checking from outside that the venue and the records
agree: a forked child runs the real path against the simulator and SIGKILLs itself at a named crash point
(:mod:`arbx_pipelines.execution.crashpoints`); the test then reconciles in its own process."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Callable, Coroutine, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import ENV, reset_hits
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Fill, Order
from arbx_pipelines.storage.redis_state import RedisState
from arbx_pipelines.storage.state import DatabaseState, StateStore
from tests.execution.simkit import ccxt_client, venue_orders


def run_killed(deps: ExecutionDeps, crash_at: str, work: Callable[[], Coroutine[Any, Any, Any]]) -> None:
    """Run ``work`` in a forked child that dies by SIGKILL at ``crash_at``; return once it is dead (and reaped)."""
    pid = os.fork()
    if pid == 0:  # the child: its own connections, killed at the point (or exit 1 if the point is never reached)
        try:
            deps.engine.dispose(close=False)
            os.environ[ENV] = crash_at
            reset_hits()
            asyncio.run(work())
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"the run did not die at {crash_at}"


@pytest.fixture(params=["database", "redis"])
def state_factory(request: pytest.FixtureRequest) -> Iterator[Callable[[Any], StateStore]]:
    """The state store an execution uses, on the database and on Redis (the ``prod`` overlay's setting)."""
    if request.param == "database":
        yield DatabaseState
        return
    url = str(request.getfixturevalue("redis_url"))
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    store = RedisState.from_url(url, prefix)
    yield lambda _engine: store
    client = store._redis
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def assert_records_equal_venue(server: Any, deps: ExecutionDeps, venue: str, symbols: list[str]) -> None:
    """No client order id twice on the venue; every venue order recorded with its filled amount and final status;
    the stored fills of each order add up to it."""
    exchange = ccxt_client(server, venue)
    on_venue = venue_orders(exchange, symbols)
    ids = [o.client_order_id for o in on_venue]
    assert len(ids) == len(set(ids)), f"an order was placed twice: {ids}"
    with transaction(deps.engine) as session:
        recorded = {o.client_order_id: o for o in session.execute(select(Order)).scalars()}
        stored: dict[int, Decimal] = {}
        for order_id, amount in session.execute(select(Fill.order_id, Fill.amount)):
            stored[order_id] = stored.get(order_id, Decimal(0)) + amount
    assert set(ids) <= set(recorded), "an order on the venue is not recorded"
    for order in on_venue:
        row = recorded[order.client_order_id]
        assert row.filled == order.filled, (order, row.filled)
        assert row.status in ("closed", "canceled", "expired"), (order.client_order_id, row.status)
        assert stored.get(row.id, Decimal(0)) == order.filled, (order.client_order_id, stored.get(row.id))


def venue_legs(server: Any, venue: str, spot: str, perp: str) -> tuple[Decimal, Decimal]:
    """(spot coins, perp coins) the venue holds for the symbol."""
    exchange = ccxt_client(server, venue)
    contract = Decimal(str(exchange.market(perp).get("contractSize") or 1))
    perp_amount = sum(
        (Decimal(str(p["contracts"])) * contract for p in exchange.fetch_positions([perp]) if p["contracts"]),
        Decimal(0),
    )
    coin = spot.split("/")[0]
    balance = exchange.fetch_balance()
    return Decimal(str(balance.get(coin, {}).get("total") or 0)), perp_amount
