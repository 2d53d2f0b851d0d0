"""The shared story of the ops tests on the simulated Binance: a funding spike opens a hedge through the sensor and
the open job, one settlement pays funding, and failed opens (the perp leg rejected, the spot leg unwound) trip the
circuit breaker."""

from __future__ import annotations

from arbx_pipelines.execution.positions import positions_with_status
from arbx_pipelines.scenarios.harness import Harness

PERP = "DOGE/USDT:USDT"
SPIKE = 0.003
PERP_ORDERS = "POST /fapi/v1/order"
#: the breaker trips after 2 failed opens (default 3): one failing open less per test
HARNESS_KEYS = {"strategy.symbols": [PERP], "risk.circuit_breaker_failures": 2}
BREAKER_FAILURES = 2


def open_position(harness: Harness) -> int:
    """Spike the funding, let the sensor ask for the open, run it, then let one settlement pay; the position id."""
    harness.admin.set_funding("binance", PERP, SPIKE)
    harness.materialize("funding_snapshot")
    requests = harness.tick("funding_opportunity")
    assert requests, "the funding-opportunity sensor saw no opportunity"
    assert all(harness.run(request, "open_funding_position").success for request in requests)
    (opened,) = positions_with_status(harness.engine(), ("open",))
    harness.admin.advance_hours(8)
    harness.materialize("funding_payments", "positions", "funding_snapshot")
    return opened.id


def trip_breaker(harness: Harness, failures: int) -> None:
    """``failures`` opens whose perp leg the venue rejects: each unwinds its spot leg and counts as a failure."""
    harness.admin.add_fault(venue="binance", endpoint=PERP_ORDERS, kind="reject", reason="insufficient_margin")
    job = harness.defs.resolve_job_def("open_funding_position")
    try:
        for attempt in range(failures):
            config = {"venue": "binance", "symbol": PERP, "signal_key": f"open:ops-breaker:{attempt}"}
            job.execute_in_process(
                run_config={"ops": {"open_funding_position_op": {"config": config}}},
                instance=harness.instance,
                raise_on_error=False,
            )
    finally:
        harness.admin.clear_faults()
