"""Every fault kind of the simulator, injected on either leg of an open, ends hedged or flat within 30 s of
simulated time, with no duplicate order on the venue and every order the venue has recorded in the database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.open_hedge import OpenOutcome, OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import get_position
from arbx_pipelines.execution.risk_state import halt
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert, Order
from arbx_pipelines.venues.sim.server import SimServer
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
    venue_orders,
)

PERP, SPOT = "XRP/USDT:USDT", "XRP/USDT"
FAULTS: dict[str, dict[str, Any]] = {
    "timeout_after_accept": {"kind": "timeout_after_accept", "hang_ms": FAULT_HANG_MS},
    "reject": {"kind": "reject", "reason": "insufficient_balance"},
    "partial_fill": {"kind": "partial_fill", "fill_ratio": 0.5},
    "rate_limit_429": {"kind": "rate_limit"},
    "dropped_connection": {"kind": "drop_connection"},
    "dropped_after_accept": {"kind": "drop_connection", "after_accept": True},
}
SIM_SECONDS_ALLOWED = 30


#: (venue, leg): OKX takes both legs on one endpoint, so a fault there hits whichever leg arrives first
CASES = [(venue, leg) for venue in ("binance", "bitget") for leg in ("spot", "perp")] + [("okx", "either")]


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[SimServer]:
    callspec = getattr(request.node, "callspec", None)
    venue = callspec.params.get("case", ("binance",))[0] if callspec is not None else "binance"
    server = start_sim(venues=(venue,))
    Admin(server.base_url).set_funding(venue, PERP, 0.003)
    yield server
    server.stop()


#: a request the simulator dropped unanswered never reaches it: the resend waits this in-flight window (wall time)
#: instead of the default 6 s meant for a real venue's network
IN_FLIGHT_S = 1.0


def run_open(server: SimServer, sqlite_url: str, key: str) -> tuple[OpenOutcome, int, Any]:
    deps = make_deps(sqlite_url, settings=fast_settings(order_in_flight_s=IN_FLIGHT_S))
    admin = Admin(server.base_url)
    start = admin.time_ms()
    venue = Venue(next(iter(server.simulator.venues)))

    async def scenario() -> OpenOutcome:
        async with venue_client(server, venue, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            return await open_hedge(deps, client, OpenRequest(venue, PERP, key))

    outcome = asyncio.run(scenario())
    return outcome, admin.time_ms() - start, deps


def assert_hedged_or_flat_without_duplicates(server: SimServer, outcome: OpenOutcome, deps: Any) -> None:
    assert outcome.status in (OpenStatus.OPENED, OpenStatus.FLAT), outcome.reason
    assert outcome.position_id is not None
    position = get_position(deps.engine, outcome.position_id)
    venue = next(iter(server.simulator.venues))
    exchange = ccxt_client(server, venue)
    contract = Decimal(str(exchange.market(PERP).get("contractSize") or 1))
    spot_lot = Decimal(str(exchange.market(SPOT)["precision"]["amount"]))
    perp_lot = Decimal(str(exchange.market(PERP)["precision"]["amount"])) * contract
    assert abs(position.perp_amount - position.spot_amount) < max(spot_lot, perp_lot)
    venue_perp = sum(
        (Decimal(str(p["contracts"])) * contract for p in exchange.fetch_positions([PERP]) if p["contracts"]),
        Decimal(0),
    )
    assert venue_perp == position.perp_amount
    on_venue = venue_orders(exchange, [SPOT, PERP])
    client_ids = [o.client_order_id for o in on_venue]
    assert len(client_ids) == len(set(client_ids)), "an order was placed twice"
    with transaction(deps.engine) as session:
        recorded = {o.client_order_id: o for o in session.execute(select(Order)).scalars()}
    assert set(client_ids) <= set(recorded)
    for order in on_venue:
        assert recorded[order.client_order_id].filled == order.filled
        assert recorded[order.client_order_id].status not in ("intent", "sending", "unknown")


@pytest.mark.parametrize("case", CASES, ids=lambda case: "-".join(case))
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_on_one_leg_ends_hedged_or_flat(
    server: SimServer, sqlite_url: str, fault: str, case: tuple[str, str]
) -> None:
    venue, leg = case
    endpoint = ORDER_ENDPOINTS[(venue, "spot" if leg == "either" else leg)]
    Admin(server.base_url).add_fault(venue=venue, endpoint=endpoint, times=1, **FAULTS[fault])
    outcome, sim_ms, deps = run_open(server, sqlite_url, f"open:{fault}:{leg}")
    assert sim_ms <= SIM_SECONDS_ALLOWED * 1000
    assert_hedged_or_flat_without_duplicates(server, outcome, deps)
    with transaction(deps.engine) as session:
        kinds = {a.kind for a in session.execute(select(Alert)).scalars()}
    if fault in ("reject", "partial_fill"):
        assert "leg_imbalance" in kinds  # the imbalance was corrected and recorded
    if fault in ("timeout_after_accept", "dropped_after_accept"):
        assert outcome.status is OpenStatus.OPENED and "leg_imbalance" not in kinds  # found by lookup, not resent


def test_leg_that_keeps_failing_is_unwound_to_flat(server: SimServer, sqlite_url: str) -> None:
    Admin(server.base_url).add_fault(
        venue="binance", endpoint=ORDER_ENDPOINTS[("binance", "perp")], kind="reject", reason="insufficient_margin"
    )
    outcome, sim_ms, deps = run_open(server, sqlite_url, "open:perp-down")
    assert sim_ms <= SIM_SECONDS_ALLOWED * 1000
    assert outcome.status is OpenStatus.FLAT
    assert_hedged_or_flat_without_duplicates(server, outcome, deps)
    position = get_position(deps.engine, outcome.position_id or 0)
    assert position.status == "closed" and position.realized_pnl is not None and position.realized_pnl < 0
    spot_sides = [o.side for o in venue_orders(ccxt_client(server), [SPOT])]
    assert spot_sides == ["buy", "sell"]  # bought, then unwound


def test_halt_while_sending_still_finishes_both_legs(server: SimServer, sqlite_url: str) -> None:
    """The kill switch stops new executions; one already sending ends hedged, never with a single leg."""
    Admin(server.base_url).add_fault(
        venue="binance", endpoint=ORDER_ENDPOINTS[("binance", "perp")], times=1, kind="latency", latency_ms=1500
    )
    deps = make_deps(sqlite_url)

    async def scenario() -> OpenOutcome:
        async with venue_client(server, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            task = asyncio.create_task(open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:halted")))
            while True:  # wait until the legs are on their way, then halt
                await asyncio.sleep(0.05)
                with transaction(deps.engine) as session:
                    if session.execute(select(Order).where(Order.status != "intent")).first() is not None:
                        break
            halt(deps.engine, "halted mid-execution")
            outcome = await task
            refused = await open_hedge(deps, client, OpenRequest(Venue.BINANCE, "DOGE/USDT:USDT", "open:after"))
            assert refused.status is OpenStatus.REFUSED and refused.violations == ("kill_switch",)
            return outcome

    outcome = asyncio.run(scenario())
    assert outcome.status is OpenStatus.OPENED
    assert_hedged_or_flat_without_duplicates(server, outcome, deps)


def test_a_single_correction_that_balances_the_legs_is_enough(server: SimServer, sqlite_url: str) -> None:
    Admin(server.base_url).add_fault(
        venue="binance", endpoint=ORDER_ENDPOINTS[("binance", "perp")], times=1, kind="partial_fill", fill_ratio=0.5
    )
    deps = make_deps(sqlite_url, settings=fast_settings(correction_rounds=1))

    async def scenario() -> OpenOutcome:
        async with venue_client(server, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            return await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:one-correction"))

    outcome = asyncio.run(scenario())
    assert outcome.status is OpenStatus.OPENED, outcome.reason
    assert_hedged_or_flat_without_duplicates(server, outcome, deps)
