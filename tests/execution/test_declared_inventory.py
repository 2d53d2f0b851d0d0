"""Declared inventory on the simulated venues: a negative-funding hedge sells only coins declared in
``strategy.spot_inventory`` for that venue, never more than what is left of the declaration, whatever else the wallet
holds (the user's own coins)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import update

from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.open_hedge import OpenOutcome, OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import PositionRecord, get_position
from arbx_pipelines.execution.prepare import minimum_hedge_base
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.executions import find_execution
from arbx_pipelines.storage.models import Position
from arbx_pipelines.venues.sim.server import SimServer
from tests.execution.simkit import (
    Admin,
    ccxt_client,
    declared_inventory,
    make_deps,
    start_sim,
    usdt_and_coin,
    venue_client,
    venue_orders,
)

PERP, SPOT, COIN = "DOGE/USDT:USDT", "DOGE/USDT", "DOGE"
NEGATIVE_SPIKE = -0.003
WALLET = Decimal(1000)


@pytest.fixture
def server() -> Iterator[SimServer]:
    server = start_sim()
    admin = Admin(server.base_url)
    admin.set_balance("binance", "spot", COIN, WALLET)
    admin.set_funding("binance", PERP, NEGATIVE_SPIKE)
    yield server
    server.stop()


def open_doge(server: SimServer, deps: ExecutionDeps, key: str) -> OpenOutcome:
    async def scenario() -> OpenOutcome:
        async with venue_client(server) as client:
            return await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, key))

    return asyncio.run(scenario())


def opened_position(deps: ExecutionDeps, outcome: OpenOutcome) -> PositionRecord:
    assert outcome.status is OpenStatus.OPENED, outcome.reason
    assert outcome.position_id is not None
    return get_position(deps.engine, outcome.position_id)


def lot_and_smallest(server: SimServer) -> tuple[Decimal, Decimal]:
    """(the larger leg's lot, the smallest hedge the venue accepts) in DOGE at the current bid."""

    async def read() -> tuple[Decimal, Decimal]:
        async with venue_client(server) as client:
            spot, perp = await client.market(SPOT), await client.market(PERP)
            bid = (await client.order_book(SPOT, 5)).best_bid
            assert bid is not None
            step = max(spot.rules.base_step or ZERO, perp.rules.base_step or ZERO)
            return step, minimum_hedge_base(spot.rules, perp.rules, bid, bid)

    return asyncio.run(read())


def test_coins_in_the_wallet_but_not_declared_are_never_sold(server: SimServer, sqlite_url: str) -> None:
    """1000 DOGE in the Binance wallet; DOGE is declared on OKX only, XRP on Binance: nothing is sold."""
    admin = Admin(server.base_url)
    deps = make_deps(sqlite_url, strategy=declared_inventory({"okx": {COIN: "1000"}, "binance": {"XRP": "500"}}))
    before = usdt_and_coin(admin, "binance", COIN)
    outcome = open_doge(server, deps, "open:undeclared")
    assert outcome.status is OpenStatus.REJECTED and outcome.violations == ("no_inventory_for_negative_funding",)
    execution = find_execution(deps.engine, "open:undeclared")
    assert execution is not None and execution.status == "rejected"
    assert venue_orders(ccxt_client(server), [SPOT, PERP]) == []
    assert usdt_and_coin(admin, "binance", COIN) == before and before[1] == WALLET
    assert admin.account("binance")["positions"] == []


def test_declared_amount_caps_the_hedge_below_what_the_wallet_holds(server: SimServer, sqlite_url: str) -> None:
    declared = Decimal(100)
    step, smallest = lot_and_smallest(server)
    assert smallest <= declared  # the venue accepts a hedge of the declared size
    deps = make_deps(sqlite_url, strategy=declared_inventory({"binance": {COIN: str(declared)}}))
    position = opened_position(deps, open_doge(server, deps, "open:declared-100"))
    execution = find_execution(deps.engine, "open:declared-100")
    assert execution is not None and position.spot_entry_price is not None
    assert Decimal(execution.planned["wanted_notional"]) > 2 * declared * position.spot_entry_price  # wanted more
    assert Decimal(execution.planned["spot_inventory"]) == declared
    assert declared - step < position.spot_amount <= declared
    assert position.perp_amount == position.spot_amount
    assert usdt_and_coin(Admin(server.base_url), "binance", COIN)[1] == WALLET - position.spot_amount


def test_a_second_hedge_sells_only_what_is_left_of_the_declaration(server: SimServer, sqlite_url: str) -> None:
    """300 declared; a first hedge sells what a 200-DOGE wallet allows, then the user adds DOGE of their own to the
    wallet. A second hedge of DOGE may sell only the 300 - X left of the declaration.

    The simulated venues list one perpetual per coin, and one symbol holds one hedge at a time; on a real venue the
    first hedge could be on a USDC-margined DOGE perpetual. The first position is relabelled so, after its real sale."""
    admin = Admin(server.base_url)
    declared = Decimal(300)
    step, smallest = lot_and_smallest(server)
    deps = make_deps(sqlite_url, strategy=declared_inventory({"binance": {COIN: str(declared)}}))
    admin.set_balance("binance", "spot", COIN, Decimal(200))
    first = opened_position(deps, open_doge(server, deps, "open:first"))
    sold = first.spot_amount
    assert 200 - step < sold <= 200 and declared - sold >= smallest
    with transaction(deps.engine) as session:
        session.execute(
            update(Position).where(Position.id == first.id).values(symbol="DOGE/USDC:USDC", spot_symbol="DOGE/USDC")
        )
    admin.set_balance("binance", "spot", COIN, WALLET)  # the user's own coins arrive: not inventory

    second = opened_position(deps, open_doge(server, deps, "open:second"))
    assert declared - sold - step < second.spot_amount <= declared - sold
    assert usdt_and_coin(admin, "binance", COIN)[1] == WALLET - second.spot_amount
    left = find_execution(deps.engine, "open:second")
    assert left is not None and Decimal(left.planned["spot_inventory"]) == declared - sold
