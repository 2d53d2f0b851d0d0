"""Each risk limit blocks an open that breaks it, on live data from the simulated venue, and nothing is sent.

Every case changes exactly one limit (or the state it reads) from a baseline that opens, and expects exactly that
limit to be named."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal

import pytest

from arbx_pipelines.core.allocation import AllocationParams
from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.risk import RiskLimits
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.open_hedge import OpenOutcome, OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import set_status
from arbx_pipelines.execution.risk_state import halt, load_risk_state, record_execution_result
from arbx_pipelines.storage.executions import NewPosition, record_decision, record_intent
from arbx_pipelines.venues.sim.server import SimServer
from tests.execution.simkit import Admin, ccxt_client, make_deps, start_sim, venue_client, venue_orders

PERP, SPOT = "DOGE/USDT:USDT", "DOGE/USDT"
BASE = RiskLimits()


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    server = start_sim()
    Admin(server.base_url).set_funding("binance", PERP, 0.003)
    yield server
    server.stop()


def with_limits(**changes: object) -> Callable[[ExecutionDeps], None]:
    def apply(deps: ExecutionDeps) -> None:
        deps.limits = replace(deps.limits, **changes)  # type: ignore[arg-type]

    return apply


def small_trades(low: str, high: str) -> Callable[[ExecutionDeps], None]:
    def apply(deps: ExecutionDeps) -> None:
        deps.limits = replace(deps.limits, min_trade_usdt=Decimal(low), max_trade_usdt=Decimal(high))
        deps.allocation = AllocationParams(min_trade_usdt=Decimal(low), max_trade_usdt=Decimal(high))

    return apply


def traded_once_today(deps: ExecutionDeps) -> None:
    deps.limits = replace(deps.limits, daily_trade_count=1)
    record_decision(deps.engine, key="earlier", kind="open_funding", venue="binance", symbol="BTC/USDT:USDT",
                    status="done", planned={"notional": "20"})  # fmt: skip


def lost_today(deps: ExecutionDeps) -> None:
    earlier = record_intent(deps.engine, key="earlier-loss", kind="open_funding", venue="binance",
                            symbol="ETH/USDT:USDT", planned={}, intents=[],
                            new_position=NewPosition("binance", "ETH/USDT:USDT", "ETH/USDT",
                                                     FundingDirection.POSITIVE, 5))  # fmt: skip
    assert earlier.position_id is not None
    set_status(deps.engine, earlier.position_id, "closed", realized_pnl=Decimal("-24"), closed=True)
    assert load_risk_state(deps.engine).daily_loss_usdt == Decimal(24)


def failed_three_times(deps: ExecutionDeps) -> None:
    for _ in range(deps.limits.circuit_breaker_failures):
        record_execution_result(deps.engine, deps.limits, success=False)
    assert load_risk_state(deps.engine).breaker_open


CASES: dict[str, tuple[Callable[[ExecutionDeps], None], str]] = {
    "kill_switch": (lambda deps: halt(deps.engine, "test"), "kill_switch"),
    "circuit_breaker": (failed_three_times, "circuit_breaker"),
    "min_trade": (small_trades("20", "20"), "min_trade"),
    "max_trade": (small_trades("5", "12"), "max_trade"),
    "daily_amount": (with_limits(daily_amount_usdt=Decimal(100)), "daily_amount"),
    "daily_count": (traded_once_today, "daily_count"),
    "max_single_loss": (with_limits(max_single_loss_usdt=Decimal("0.5")), "max_single_loss"),
    "max_daily_loss": (lost_today, "max_daily_loss"),
    "min_profit_rate": (with_limits(min_profit_rate=Decimal("0.9")), "min_profit_rate"),
    "venue_capital_share": (with_limits(venue_capital_share={Venue.BINANCE: Decimal("0.01")}), "venue_capital_share"),
    "venue_reserve": (with_limits(venue_reserve_usdt={Venue.BINANCE: Decimal(495)}), "venue_reserve"),
}


def attempt(server: SimServer, deps: ExecutionDeps, key: str) -> OpenOutcome:
    async def scenario() -> OpenOutcome:
        async with venue_client(server) as client:
            return await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, key))

    return asyncio.run(scenario())


@pytest.mark.parametrize("case", sorted(CASES))
def test_limit_blocks_the_trade_that_breaks_it(server: SimServer, sqlite_url: str, case: str) -> None:
    deps = make_deps(sqlite_url)
    setup, limit = CASES[case]
    orders_before = len(venue_orders(ccxt_client(server), [SPOT, PERP]))
    setup(deps)
    outcome = attempt(server, deps, f"open:{case}")
    expected = OpenStatus.REFUSED if limit == "kill_switch" else OpenStatus.BLOCKED
    assert outcome.status is expected, outcome.reason
    assert outcome.violations == (limit,), outcome.reason
    assert len(venue_orders(ccxt_client(server), [SPOT, PERP])) == orders_before


def test_baseline_opens_then_the_second_open_on_the_symbol_is_refused(server: SimServer, sqlite_url: str) -> None:
    deps = make_deps(sqlite_url)
    assert attempt(server, deps, "open:baseline").status is OpenStatus.OPENED
    assert attempt(server, deps, "open:baseline-again").status is OpenStatus.REFUSED
