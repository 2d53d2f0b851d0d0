"""The funding-opportunity sensor fires open_funding_position with a run key per (venue, symbol, settlement) and
the symbol tag; a repeated signal is a no-op; ``arbx halt`` stops new entries and ``arbx resume`` allows them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from arbx_pipelines.cli.main import main
from arbx_pipelines.execution.risk_state import halted
from arbx_pipelines.instance import SYMBOL_TAG
from arbx_pipelines.scenarios.harness import Harness, sim_harness
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Order, Position

PERP = "DOGE/USDT:USDT"


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with sim_harness({"strategy.symbols": [PERP, "XRP/USDT:USDT"]}, venues=["binance"]) as harness:
        yield harness


def count(harness: Harness, model: type) -> int:
    with transaction(harness.engine()) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_halt_skips_the_sensor_and_refuses_opens_then_resume_allows(harness: Harness) -> None:
    harness.admin.set_funding("binance", PERP, 0.003)
    harness.materialize("funding_snapshot")
    (request,) = harness.tick("funding_opportunity")

    assert main(["--config", str(harness.config_path), "halt", "--reason", "maintenance"]) == 0
    assert halted(harness.engine()) == "maintenance"
    assert harness.tick("funding_opportunity") == []
    result = harness.run(request, "open_funding_position")
    assert result.success and count(harness, Order) == 0 and count(harness, Position) == 0

    assert main(["--config", str(harness.config_path), "resume"]) == 0
    assert halted(harness.engine()) is None
    assert [r.run_key for r in harness.tick("funding_opportunity")] == [request.run_key]


def test_spike_fires_one_open_per_settlement_and_a_repeat_is_a_no_op(harness: Harness) -> None:
    harness.admin.set_funding("binance", "XRP/USDT:USDT", 0.004)
    harness.materialize("funding_snapshot")
    requests = {r.tags[SYMBOL_TAG]: r for r in harness.tick("funding_opportunity")}
    assert set(requests) == {PERP, "XRP/USDT:USDT"}  # only the configured symbols, both spiked
    xrp = requests["XRP/USDT:USDT"]
    assert xrp.run_key is not None and xrp.run_key.startswith("open:binance:XRP/USDT:USDT:")
    assert xrp.tags["arbx/execution"] == "open"

    first = harness.run(xrp, "open_funding_position")
    assert first.success and count(harness, Order) == 2
    again = harness.run(xrp, "open_funding_position")
    assert again.success and count(harness, Order) == 2  # same signal key: nothing new is sent

    harness.materialize("funding_snapshot")
    later = {r.tags[SYMBOL_TAG]: r for r in harness.tick("funding_opportunity")}
    assert "XRP/USDT:USDT" not in later  # a position is active on it now
    assert later[PERP].run_key == requests[PERP].run_key  # same settlement: same key, so Dagster runs it once


def test_an_opportunity_is_requested_once_while_it_lasts(harness: Harness) -> None:
    """The cursor remembers the run keys asked for, so a lasting opportunity costs the daemon no run-key lookup on
    every tick; keys of opportunities gone are forgotten, and an earlier cursor (anomaly keys only) still reads."""
    harness.admin.set_funding("binance", PERP, 0.003)
    harness.materialize("funding_snapshot")
    stale = json.dumps({"anomalies": [], "requested": ["open:binance:GONE/USDT:USDT:0"]})
    first = harness.evaluate("funding_opportunity", stale)
    keys = [str(r.run_key) for r in first.run_requests]
    assert keys and all(r.run_key for r in first.run_requests)
    assert first.cursor is not None and json.loads(first.cursor)["requested"] == sorted(keys)  # the stale key is gone

    repeat = harness.evaluate("funding_opportunity", first.cursor)
    assert repeat.run_requests == [] and repeat.skip_message is not None and "already requested" in repeat.skip_message
    assert repeat.cursor == first.cursor

    earlier_format = harness.evaluate("funding_opportunity", json.dumps([]))
    assert [r.run_key for r in earlier_format.run_requests] == keys
