"""``arbx scenario funding-spike``: the whole funding path on the simulated venues, through Dagster.

Funding spike on one symbol -> funding_snapshot asset -> funding_opportunity sensor tick -> open_funding_position
run (in process) -> simulated time across settlements -> funding_payments asset records the funding -> the rate
falls below the exit threshold -> position_risk sensor tick -> close_position run. Returns a summary: every order
(venue, symbol, side, amount, client order id, status), the position, funding received and realized P&L, plus the
account's own change as an independent check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.execution.positions import PositionRecord, get_position, positions_with_status
from arbx_pipelines.scenarios.harness import Harness, SimAdmin, sim_harness
from arbx_pipelines.storage.alerts import alerts_in_order
from arbx_pipelines.storage.funding import latest_interval_hours
from arbx_pipelines.storage.orders import all_orders

SPIKE_RATE = 0.003
CALM_RATE = 0.00001
SETTLEMENTS = 3


@dataclass(frozen=True)
class ScenarioSettings:
    venue: str = "binance"
    symbol: str = "DOGE/USDT:USDT"
    settlements: int = SETTLEMENTS
    seed: int = 7
    #: Dagster's console log in the scenario's runs (the CLI keeps only warnings: the summary is the output)
    log_level: str = "DEBUG"


def _wallets(admin: SimAdmin, venue: str, coin: str) -> tuple[Decimal, Decimal]:
    wallets = admin.account(venue)["wallets"]
    usdt = sum((Decimal(assets["USDT"]["free"]) for assets in wallets.values() if "USDT" in assets), ZERO)
    held = sum((Decimal(assets[coin]["free"]) for assets in wallets.values() if coin in assets), ZERO)
    return usdt, held


def _position_view(position: PositionRecord) -> dict[str, Any]:
    return {
        "id": position.id,
        "venue": str(position.venue),
        "symbol": position.symbol,
        "status": position.status,
        "direction": str(position.direction),
        "perp_amount": str(position.perp_amount),
        "spot_amount": str(position.spot_amount),
        "perp_entry_price": str(position.perp_entry_price),
        "spot_entry_price": str(position.spot_entry_price),
        "leverage": position.leverage,
        "fees_paid": str(position.fees_paid),
        "funding_received": str(position.funding_received),
        "realized_pnl": None if position.realized_pnl is None else str(position.realized_pnl),
        "close_reason": position.close_reason,
    }


def _orders(harness: Harness) -> list[dict[str, Any]]:
    return [
        {
            "venue": o.venue,
            "symbol": o.symbol,
            "side": str(o.side),
            "amount": str(o.amount),
            "client_order_id": o.client_order_id,
            "status": o.status,
            "leg": o.leg,
            "filled": str(o.filled),
            "average_price": None if o.average_price is None else str(o.average_price),
            "fee": None if o.fee is None else str(o.fee),
            "fee_currency": o.fee_currency,
        }
        for o in all_orders(harness.engine())
    ]


def _alerts(harness: Harness) -> list[dict[str, str]]:
    return [{"kind": a.kind, "severity": a.severity, "message": a.message} for a in alerts_in_order(harness.engine())]


def run_funding_spike(settings: ScenarioSettings = ScenarioSettings()) -> dict[str, Any]:
    started = time.monotonic()
    steps: dict[str, float] = {}
    overrides = {"strategy.symbols": [settings.symbol]}
    with sim_harness(overrides, seed=settings.seed, venues=[settings.venue], log_level=settings.log_level) as harness:
        admin, coin = harness.admin, base_of(settings.symbol)
        if settings.venue not in harness.venues:
            raise ValueError(f"venue {settings.venue} is not simulated yet; served: {', '.join(harness.venues)}")
        usdt_before, coin_before = _wallets(admin, settings.venue, coin)
        sim_start = admin.time_ms()
        admin.set_funding(settings.venue, settings.symbol, SPIKE_RATE)

        t = time.monotonic()
        harness.materialize("funding_snapshot")
        requests = harness.tick("funding_opportunity")
        if not requests:
            raise RuntimeError("the funding-opportunity sensor saw no opportunity")
        open_results = [harness.run(request, "open_funding_position") for request in requests]
        steps["signal_to_open_s"] = time.monotonic() - t
        if not all(r.success for r in open_results):
            raise RuntimeError("the open_funding_position run failed")
        (opened,) = positions_with_status(harness.engine(), ("open",))
        position_open = _position_view(opened)

        t = time.monotonic()
        interval = latest_interval_hours(harness.engine(), settings.venue, settings.symbol) or 8
        for _ in range(settings.settlements):
            admin.advance_hours(interval)
        harness.materialize("funding_payments", "positions")
        steps["funding_s"] = time.monotonic() - t

        t = time.monotonic()
        admin.set_funding(settings.venue, settings.symbol, CALM_RATE)
        harness.materialize("funding_snapshot")
        close_requests = harness.tick("position_risk")
        close_results = [harness.run(request, "close_position") for request in close_requests]
        steps["close_s"] = time.monotonic() - t
        closed = get_position(harness.engine(), opened.id)
        usdt_after, coin_after = _wallets(admin, settings.venue, coin)
        dust_value = (coin_after - coin_before) * (closed.spot_entry_price or ZERO)
        summary: dict[str, Any] = {
            "scenario": "funding-spike",
            "venue": settings.venue,
            "symbol": settings.symbol,
            "spike_rate": str(SPIKE_RATE),
            "exit_rate": str(CALM_RATE),
            "runs": {
                "open": [
                    {"run_key": q.run_key, "success": r.success} for q, r in zip(requests, open_results, strict=True)
                ],
                "close": [
                    {"run_key": q.run_key, "job": q.job_name, "success": r.success}
                    for q, r in zip(close_requests, close_results, strict=True)
                ],
            },
            "orders": _orders(harness),
            "position": position_open,  # as opened; the final state is position_after_close
            "position_after_close": _position_view(closed),
            "settlements": settings.settlements,
            "funding_received": str(closed.funding_received),
            "fees": str(closed.fees_paid),
            "pnl": None if closed.realized_pnl is None else str(closed.realized_pnl),
            "account_change": str(usdt_after - usdt_before + dust_value),
            "alerts": _alerts(harness),
            "simulated_hours": round((admin.time_ms() - sim_start) / 3_600_000, 3),
            "timings_s": {k: round(v, 3) for k, v in steps.items()} | {"total": round(time.monotonic() - started, 3)},
        }
    return summary
