"""Each liquidation tier makes the position-risk sensor do the right thing (nothing, an alert, reduce_leverage,
close_position), a drifted hedge fires rebalance_hedge, and each job it fires does its work on the venue.

One hedge is opened on the simulated Binance; its cross-margin collateral (the futures wallet) is then set so the
liquidation distance falls inside each tier in turn: short perp liquidation = (C + q E) / (q (1 + mmr)).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import ccxt
import pytest
from sqlalchemy import select

from arbx_pipelines.cli.main import main
from arbx_pipelines.execution.positions import get_position, positions_with_status
from arbx_pipelines.scenarios.harness import Harness, sim_harness
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert
from arbx_pipelines.venues.sim.ccxt_wiring import wire

PERP, SPOT = "DOGE/USDT:USDT", "DOGE/USDT"
MMR = Decimal("0.01")  # the simulated DOGE perpetual's maintenance margin rate


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with sim_harness({"strategy.symbols": [PERP]}, venues=["binance"]) as harness:
        harness.admin.set_funding("binance", PERP, 0.003)
        harness.materialize("funding_snapshot")
        (request,) = harness.tick("funding_opportunity")
        assert harness.run(request, "open_funding_position").success
        yield harness


def position_id(harness: Harness) -> int:
    (position,) = positions_with_status(harness.engine(), ("open",))
    return position.id


def put_at_distance(harness: Harness, distance: str) -> None:
    """Set the futures wallet so the short's liquidation price sits ``distance`` above the mark."""
    (venue_position,) = harness.admin.account("binance")["positions"]
    qty = abs(Decimal(str(venue_position["qty"])))
    entry, mark = Decimal(str(venue_position["entry_price"])), Decimal(str(venue_position["mark_price"]))
    collateral = mark * (1 + Decimal(distance)) * qty * (1 + MMR) - qty * entry
    body = {"wallet": "futures", "asset": "USDT", "amount": str(collateral.quantize(Decimal("0.01")))}
    harness.admin.call("POST", "/venues/binance/balance", body)


def alerts(harness: Harness, kind: str) -> int:
    with transaction(harness.engine()) as session:
        return len(session.execute(select(Alert).where(Alert.kind == kind)).scalars().all())


@pytest.mark.parametrize(
    ("distance", "alerted"), [("1.5", False), ("0.35", False), ("0.27", True), ("0.22", True)], ids=str
)
def test_tiers_without_a_job(harness: Harness, distance: str, alerted: bool) -> None:
    """none and medium: nothing; warn and high: an alert record, no job."""
    before = alerts(harness, "liquidation_risk")
    put_at_distance(harness, distance)
    assert harness.tick("position_risk") == []
    assert (alerts(harness, "liquidation_risk") > before) is alerted


def test_a_risk_run_that_failed_before_recording_is_retried_under_a_new_run_key(harness: Harness) -> None:
    put_at_distance(harness, "0.15")
    (request,) = harness.tick("position_risk")
    for endpoint in ("GET /fapi/v2/positionRisk", "GET /fapi/v3/positionRisk"):
        harness.admin.add_fault(venue="binance", endpoint=endpoint, times=100, kind="rate_limit")
    try:
        assert not harness.run(request, "reduce_leverage").success  # the venue never answered its reads
    finally:
        harness.admin.clear_faults()
    (retry,) = harness.tick("position_risk")
    assert retry.job_name == "reduce_leverage" and retry.run_key != request.run_key
    assert harness.run(retry, "reduce_leverage").success


def test_reduce_leverage_tier_fires_reduce_leverage_which_adds_margin(harness: Harness) -> None:
    put_at_distance(harness, "0.15")
    (request,) = harness.tick("position_risk")
    assert request.job_name == "reduce_leverage" and request.tags["arbx/symbol"] == PERP
    assert harness.run(request, "reduce_leverage").success
    (venue_position,) = harness.admin.account("binance")["positions"]
    mark, liquidation = Decimal(str(venue_position["mark_price"])), Decimal(str(venue_position["liquidation_price"]))
    assert (liquidation - mark) / mark > Decimal("0.25")  # margin moved in from the spot wallet
    assert harness.tick("position_risk") == []


def test_drifted_hedge_fires_rebalance_which_matches_the_legs(harness: Harness) -> None:
    put_at_distance(harness, "1.5")
    exchange = wire(ccxt.binance(), harness.server.base_url)
    exchange.create_order(SPOT, "market", "sell", 300)  # a hand trade takes a third of the spot leg away
    (request,) = harness.tick("position_risk")
    assert request.job_name == "rebalance_hedge"
    assert harness.run(request, "rebalance_hedge").success
    position = get_position(harness.engine(), position_id(harness))
    assert abs(position.perp_amount - position.spot_amount) < Decimal(100)  # one perp lot
    (venue_position,) = harness.admin.account("binance")["positions"]
    assert abs(Decimal(str(venue_position["qty"]))) == position.perp_amount
    assert alerts(harness, "position_drift") == 1
    assert harness.tick("position_risk") == []


def test_emergency_tier_fires_close_even_while_halted(harness: Harness) -> None:
    pid = position_id(harness)
    put_at_distance(harness, "0.05")
    assert main(["--config", str(harness.config_path), "halt", "--reason", "test"]) == 0
    try:
        (request,) = harness.tick("position_risk")
    finally:
        assert main(["--config", str(harness.config_path), "resume"]) == 0
    assert request.job_name == "close_position" and "liquidation" in str(request.run_config)
    assert harness.run(request, "close_position").success
    assert get_position(harness.engine(), pid).status == "closed"
    assert harness.admin.account("binance")["positions"] == []
