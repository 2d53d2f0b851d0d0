"""Reconcile repairs runs killed between their legs without placing any order twice, and reports exposure the
database does not know without adopting or closing it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from arbx_pipelines.core.decision import EntrySignal, StrategyParams, decide_entry
from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.orders import HedgePlan, plan_hedge_orders
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.live_snapshot import live_market
from arbx_pipelines.execution.positions import get_position
from arbx_pipelines.execution.reconcile import reconcile_venue
from arbx_pipelines.execution.sending import send_all
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.executions import ExecutionRef, NewPosition, record_intent
from arbx_pipelines.storage.models import Alert, Order
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.sim.server import SimServer
from tests.execution.simkit import (
    Admin,
    ccxt_client,
    declared_inventory,
    fast_settings,
    make_deps,
    start_sim,
    venue_client,
    venue_orders,
)

PERP, SPOT = "ADA/USDT:USDT", "ADA/USDT"
SLIPPAGE = Decimal("0.003")


@pytest.fixture
def server() -> Iterator[SimServer]:
    server = start_sim()
    Admin(server.base_url).set_funding("binance", PERP, 0.003)
    yield server
    server.stop()


async def intent_recorded(deps: ExecutionDeps, client: VenueClient, key: str) -> tuple[ExecutionRef, HedgePlan]:
    """What open_hedge writes before sending: execution, position and both order intents."""
    live = await live_market(client, PERP, SLIPPAGE)
    signal = decide_entry(live.snapshot, StrategyParams(), Decimal(100))
    assert isinstance(signal, EntrySignal)
    plan = plan_hedge_orders(key, Venue.BINANCE, PERP, FundingDirection.POSITIVE, signal.size, live.spot.rules,
                             live.perp.rules, max_slippage=SLIPPAGE)  # fmt: skip
    execution = record_intent(
        deps.engine, key=key, kind="open_funding", venue="binance", symbol=PERP,
        planned={"notional": str(signal.notional)}, intents=[plan.spot, plan.perp],
        new_position=NewPosition("binance", PERP, SPOT, FundingDirection.POSITIVE, 5),
    )  # fmt: skip
    return execution, plan


def order_status(deps: ExecutionDeps, client_order_id: str) -> str:
    with transaction(deps.engine) as session:
        return str(session.execute(select(Order.status).where(Order.client_order_id == client_order_id)).scalar_one())


def test_run_killed_after_its_first_leg_is_hedged_by_reconcile(server: SimServer, db_url: str) -> None:
    deps = make_deps(db_url)

    async def scenario() -> tuple[ExecutionRef, HedgePlan]:
        async with venue_client(server) as client:
            execution, plan = await intent_recorded(deps, client, "open:killed-between-legs")
            await send_all(deps, client, [plan.spot], execution.position_id)  # the run dies here
            report = await reconcile_venue(deps, client)
            assert report.executions_repaired == [execution.key] and report.unknown_exposure == []
            again = await reconcile_venue(deps, client)
            assert again.executions_repaired == [] and again.orders_checked == 0
            return execution, plan

    execution, plan = asyncio.run(scenario())
    assert execution.position_id is not None
    position = get_position(deps.engine, execution.position_id)
    assert position.status == "open"
    exchange = ccxt_client(server)
    perp_lot = Decimal(str(exchange.market(PERP)["precision"]["amount"]))
    assert abs(position.perp_amount - position.spot_amount) < perp_lot
    orders = venue_orders(exchange, [SPOT, PERP])
    ids = [o.client_order_id for o in orders]
    assert len(ids) == len(set(ids)) == 2
    assert ids.count(plan.spot.client_order_id) == 1
    assert plan.perp.client_order_id not in ids  # the unsent intent was abandoned, its replacement is new
    assert order_status(deps, plan.perp.client_order_id) == "abandoned"


def test_run_killed_before_recording_answers_places_nothing_more(server: SimServer, sqlite_url: str) -> None:
    deps = make_deps(sqlite_url)

    async def scenario() -> tuple[ExecutionRef, HedgePlan]:
        async with venue_client(server) as client:
            execution, plan = await intent_recorded(deps, client, "open:killed-before-answers")
            await asyncio.gather(client.create_order(plan.spot), client.create_order(plan.perp))  # not journaled
            report = await reconcile_venue(deps, client)
            assert report.orders_updated == 2 and report.executions_repaired == [execution.key]
            return execution, plan

    execution, plan = asyncio.run(scenario())
    orders = venue_orders(ccxt_client(server), [SPOT, PERP])
    assert sorted(o.client_order_id for o in orders) == sorted([plan.spot.client_order_id, plan.perp.client_order_id])
    assert execution.position_id is not None
    position = get_position(deps.engine, execution.position_id)
    assert position.status == "open" and position.perp_amount == plan.perp.base_amount
    assert order_status(deps, plan.perp.client_order_id) == "closed"


def test_exposure_the_database_does_not_know_is_reported_never_adopted(server: SimServer, sqlite_url: str) -> None:
    deps = make_deps(sqlite_url)
    exchange = ccxt_client(server)
    exchange.create_order("SOL/USDT:USDT", "market", "sell", 0.5)  # someone traded by hand
    exchange.create_order("LINK/USDT", "market", "buy", 3)

    async def scenario() -> None:
        async with venue_client(server) as client:
            report = await reconcile_venue(deps, client)
            found = {(item["symbol"], item["kind"]) for item in report.unknown_exposure}
            assert found == {("SOL/USDT:USDT", "perp"), ("LINK/USDT", "spot")}
            sol = next(i for i in report.unknown_exposure if i["kind"] == "perp")
            assert sol["side"] == "short" and Decimal(sol["unknown_amount"]) == Decimal("0.5")
            repeat = await reconcile_venue(deps, client)
            assert len(repeat.unknown_exposure) == 2  # still reported, ...

    asyncio.run(scenario())
    with transaction(deps.engine) as session:
        alerts = session.execute(select(Alert).where(Alert.kind == "unknown_exposure")).scalars().all()
        orders = session.execute(select(Order)).scalars().all()
    assert len(alerts) == 2  # ... but alerted once per hour, not on every run
    assert {a.symbol for a in alerts} == {"SOL/USDT:USDT", "LINK/USDT"} and all(a.details for a in alerts)
    assert orders == []  # nothing was sent to close or adopt it
    positions = {p["symbol"]: p for p in exchange.fetch_positions() if p["contracts"]}
    assert Decimal(str(positions["SOL/USDT:USDT"]["contracts"])) == Decimal("0.5")


def test_declared_inventory_is_known_exposure_and_only_coins_beyond_it_are_unknown(
    server: SimServer, sqlite_url: str
) -> None:
    admin = Admin(server.base_url)
    deps = make_deps(sqlite_url, strategy=declared_inventory({"binance": {"DOGE": "1000"}}))
    admin.set_balance("binance", "spot", "DOGE", 1000)

    async def scenario() -> list[dict[str, str]]:
        async with venue_client(server) as client:
            report = await reconcile_venue(deps, client)
            assert (report.unknown_exposure, report.missing_inventory) == ([], [])
            admin.set_balance("binance", "spot", "DOGE", 1300)  # the user's own 300 DOGE beside the inventory
            return (await reconcile_venue(deps, client)).unknown_exposure

    (item,) = asyncio.run(scenario())
    assert (item["symbol"], item["kind"]) == ("DOGE/USDT", "spot")
    assert Decimal(item["unknown_amount"]) == 300 and Decimal(item["recorded_amount"]) == 1000
    with transaction(deps.engine) as session:
        alerts = session.execute(select(Alert)).scalars().all()
    assert [(a.kind, a.severity, a.symbol) for a in alerts] == [("unknown_exposure", "critical", "DOGE/USDT")]


def test_the_spot_engines_coins_are_its_inventory_not_unknown_exposure(server: SimServer, sqlite_url: str) -> None:
    """Coins the spot engine trades (``spread.symbols`` while spread is active) are its working inventory; any other
    coin beyond the records is still unknown."""
    admin = Admin(server.base_url)
    deps = make_deps(sqlite_url, settings=replace(fast_settings(), spot_engine_coins=frozenset({"DOGE"})))
    admin.set_balance("binance", "spot", "DOGE", 1300)
    admin.set_balance("binance", "spot", "LINK", 30)

    async def scenario() -> list[dict[str, str]]:
        async with venue_client(server) as client:
            return (await reconcile_venue(deps, client)).unknown_exposure

    assert [item["symbol"] for item in asyncio.run(scenario())] == ["LINK/USDT"]


def test_declared_coins_missing_from_the_wallet_are_a_warning(server: SimServer, sqlite_url: str) -> None:
    admin = Admin(server.base_url)
    deps = make_deps(sqlite_url, strategy=declared_inventory({"binance": {"DOGE": "1000"}}))
    admin.set_balance("binance", "spot", "DOGE", 990)  # 10 DOGE (1.5 USDT, e.g. fees) short: not worth a word

    async def scenario() -> list[dict[str, str]]:
        async with venue_client(server) as client:
            report = await reconcile_venue(deps, client)
            assert (report.unknown_exposure, report.missing_inventory) == ([], [])
            admin.set_balance("binance", "spot", "DOGE", 400)  # the user moved 600 away
            first = await reconcile_venue(deps, client)
            again = await reconcile_venue(deps, client)
            assert first.unknown_exposure == again.unknown_exposure == []
            # still reported (its value follows the price, which may tick between the two), alerted once
            assert [m | {"value_usdt": ""} for m in again.missing_inventory] == [
                m | {"value_usdt": ""} for m in first.missing_inventory
            ]
            return first.missing_inventory

    (item,) = asyncio.run(scenario())
    assert item["venue"] == "binance" and item["coin"] == "DOGE"
    assert Decimal(item["expected_amount"]) == 1000 and Decimal(item["venue_amount"]) == 400
    assert Decimal(item["missing_amount"]) == 600
    with transaction(deps.engine) as session:
        (alert,) = session.execute(select(Alert)).scalars().all()
    assert (alert.kind, alert.severity, alert.venue, alert.symbol) == (
        "inventory_missing",
        "warning",
        "binance",
        "DOGE/USDT",
    )
    assert "holds 400" in alert.message and "expected 1000" in alert.message
