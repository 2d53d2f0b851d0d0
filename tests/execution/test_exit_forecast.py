"""Live exit with the backtester's inputs: the position-risk assessment asks ``decide_exit`` with the forecast mean
annualized rate of the recent settled funding and the live rate (``core.funding_rules.forecast_mean``), the number
the backtester's ``threshold`` passes at a settlement with the same history. A hedge whose rate dips for one
settlement after a month of high funding is kept (the forecast is still far above the exit threshold), as the
backtest would keep it; a bare last-rate test would have closed it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from arbx_pipelines.core import decision
from arbx_pipelines.core.backtest import live_rules
from arbx_pipelines.core.backtest.data import make_series
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.core.backtest.strategies import forecast_mean_at
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import to_decimal
from arbx_pipelines.execution import monitor
from arbx_pipelines.execution.open_hedge import OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import FundingRateRow
from tests.execution.simkit import Admin, make_deps, start_sim, venue_client

PERP = "DOGE/USDT:USDT"
HOT, DIP = Decimal("0.003"), Decimal("0.00001")  # 329 % and 1.1 % a year; the exit threshold is 10 %
HISTORY = 30


def _spy(calls: list[dict[str, Any]], original: Callable[..., Any]) -> Callable[..., Any]:
    def spied(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    return spied


def test_live_exit_tests_the_backtesters_forecast_of_the_same_history(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_calls: list[dict[str, Any]] = []
    backtest_calls: list[dict[str, Any]] = []
    monkeypatch.setattr(monitor, "decide_exit", _spy(live_calls, decision.decide_exit))
    monkeypatch.setattr(live_rules, "decide_exit", _spy(backtest_calls, decision.decide_exit))
    server = start_sim(venues=("binance",))
    deps = make_deps(sqlite_url)
    admin = Admin(server.base_url)
    admin.set_funding("binance", PERP, float(HOT))

    async def scenario() -> list[monitor.PositionAction]:
        async with venue_client(server, Venue.BINANCE) as client:
            opened = await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:binance:DOGE:exit"))
            assert opened.status is OpenStatus.OPENED, opened.reason
            (live,) = await client.funding_rates([PERP])
            with transaction(deps.engine) as session:
                for i in range(HISTORY):  # a month of hot settlements before now
                    when = live.time - timedelta(hours=8 * (HISTORY - i))
                    session.add(FundingRateRow(venue="binance", symbol=PERP, funding_time=when, rate=HOT,
                                               interval_hours=8))  # fmt: skip
            admin.set_funding("binance", PERP, float(DIP))
            return await monitor.assess_positions(deps, client)

    try:
        (action,) = asyncio.run(scenario())
    finally:
        server.stop()
    assert action.action == "none", action.reason  # kept: the forecast of the month is far above the exit
    (live_call,) = live_calls
    live_forecast = live_call["forecast_annualized"]

    # the backtester's driver at the settlement of the dip, after the same month
    rates = [float(HOT)] * HISTORY + [float(DIP)]
    params = BacktestParams()
    forecast = forecast_mean_at(_annualized(rates), np.full(len(rates), 8.0), len(rates) - 1, params)
    view = live_rules.SettlementView("binance", PERP, 10**9, float(DIP), 8.0, 0.1)
    held = live_rules.HeldPosition(live_rules.SHORT_PERP, 10**9 - 86_400, 50.0, 0.5, 0.1)
    assert live_rules.LIVE_RULES.exit_reason(view, held, params, forecast) is None
    (backtest_call,) = backtest_calls
    assert isinstance(live_forecast, Decimal) and isinstance(backtest_call["forecast_annualized"], Decimal)
    assert live_forecast == backtest_call["forecast_annualized"] == to_decimal(forecast)
    assert live_forecast > 30 * Decimal(params.exit_annualized)


def test_a_dip_without_history_closes_on_the_forecast_of_the_live_rate(sqlite_url: str) -> None:
    """No settled funding stored: the forecast is the live rate alone, below the exit threshold: close."""
    server = start_sim(venues=("binance",))
    deps = make_deps(sqlite_url)
    admin = Admin(server.base_url)
    admin.set_funding("binance", PERP, float(HOT))

    async def scenario() -> list[monitor.PositionAction]:
        async with venue_client(server, Venue.BINANCE) as client:
            opened = await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:binance:DOGE:dip"))
            assert opened.status is OpenStatus.OPENED, opened.reason
            admin.set_funding("binance", PERP, float(DIP))
            return await monitor.assess_positions(deps, client)

    try:
        (action,) = asyncio.run(scenario())
    finally:
        server.stop()
    assert action.action == "close" and action.reason.startswith("rate_below_exit: forecast annualized")


def _annualized(rates: list[float]) -> np.ndarray:
    n = len(rates)
    item = make_series("binance", PERP, np.arange(n, dtype=np.int64) * 8 * 3600, np.array(rates), np.full(n, 8.0))
    return item.annualized
