"""One decision function, two drivers: the funding sensor's selection and the backtester's ``threshold`` strategy call
the same score, leverage and entry-assessment functions (``core.funding_rules``), and both exit through
``core.decision.decide_exit``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine

from arbx_pipelines.core import decision, funding_rules, liquidity, scoring
from arbx_pipelines.core.backtest import live_rules, strategies
from arbx_pipelines.core.backtest.data import build_series
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.core.decision import StrategyParams
from arbx_pipelines.core.funding import annualize
from arbx_pipelines.core.liquidity import LegLiquidity
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.scoring import ScoringParams
from arbx_pipelines.execution import monitor
from arbx_pipelines.execution.signals import DEFAULT_SLIPPAGE, scan_funding
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import FundingRateRow, FundingSnapshotRow
from arbx_pipelines.storage.quotes import record_quotes
from tests.analytics.synthetic import ar_rates, prices, settlements
from tests.execution.simkit import make_deps

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SYMBOL = "XRP/USDT:USDT"


class Spy:
    """Counts the calls of each driver to a wrapped function."""

    def __init__(self) -> None:
        self.calls: dict[str, list[str]] = {}
        self.driver = ""

    def wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def spied(*args: Any, **kwargs: Any) -> Any:
            self.calls.setdefault(name, []).append(self.driver)
            return original(*args, **kwargs)

        return spied


@pytest.fixture
def engine(db_url: str) -> Engine:
    """A hot XRP perpetual: a month of settled funding at 0.2 % per 8h with marks, and a fresh snapshot."""
    engine = make_deps(db_url).engine
    rng = np.random.default_rng(5)
    with transaction(engine) as session:
        for i in range(90):
            session.add(
                FundingRateRow(venue="binance", symbol=SYMBOL, funding_time=NOW - timedelta(hours=8 * (90 - i)),
                               rate=Decimal("0.002"), interval_hours=8,
                               mark_price=Decimal(repr(round(0.5 * float(np.exp(rng.normal(0, 0.01))), 6))))
            )  # fmt: skip
        session.add(
            FundingSnapshotRow(venue="binance", symbol=SYMBOL, time=NOW - timedelta(minutes=1), rate=Decimal("0.002"),
                               interval_hours=8, annualized=annualize(Decimal("0.002"), 8),
                               next_funding_time=NOW + timedelta(hours=2), mark_price=Decimal("0.5"))
        )  # fmt: skip
    return engine


def test_live_and_backtest_call_the_same_score_leverage_and_exit_functions(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert live_rules.decide_exit is decision.decide_exit is monitor.decide_exit  # one exit function
    spy = Spy()
    for name in ("opportunity_score", "choose_leverage", "assess_entry"):
        monkeypatch.setattr(funding_rules, name, spy.wrap(name, getattr(funding_rules, name)))
    monkeypatch.setattr(live_rules, "decide_exit", spy.wrap("decide_exit", decision.decide_exit))
    monkeypatch.setattr(liquidity, "expected_slippage_rate", spy.wrap("liquidity", liquidity.expected_slippage_rate))
    strategies.stated_slippage_rate.cache_clear()  # asked once per (spread, slippage): ask it again here
    _record_books(engine, spread=Decimal("0.0002"), depth=Decimal(50_000))

    spy.driver = "backtest"
    rates = ar_rates(600, seed=8, mean=0.0004, phi=0.95, noise=0.0002)
    series = build_series(settlements(rates), prices((50 * np.exp(np.linspace(0, 0.3, 600))).tolist()))
    result = run_backtest(series, "threshold", BacktestParams())
    assert result.total()["round_trips"] > 0

    spy.driver = "live"
    scan = scan_funding(engine, StrategyParams(max_leverage=3), venues=[Venue.BINANCE], now=NOW)
    (found,) = scan.opportunities
    assert found.symbol == SYMBOL and 1 <= (found.leverage or 0) <= 3 and found.score > 0

    for name in ("opportunity_score", "choose_leverage", "assess_entry", "liquidity"):
        assert {"backtest", "live"} <= set(spy.calls[name]), name
    assert "backtest" in spy.calls["decide_exit"]


def test_the_scan_says_why_the_users_rules_refuse_a_candidate(engine: Engine) -> None:
    """Held for one settlement, 0.2 % of funding does not pay the round trip: the scan names the forecast's veto."""
    scan = scan_funding(engine, StrategyParams(planned_holding_hours=8), venues=[Venue.BINANCE], now=NOW)
    assert scan.opportunities == []
    assert scan.refused[("binance", SYMBOL)].startswith("forecast_below_costs")
    kept = scan_funding(engine, StrategyParams(), venues=[Venue.BINANCE], now=NOW)
    assert [o.symbol for o in kept.opportunities] == [SYMBOL] and kept.refused == {}


def _record_books(engine: Engine, *, spread: Decimal, depth: Decimal) -> None:
    """Both books of the XRP hedge as the quotes monitor records them: a touch around 0.5 and the depth per side."""
    half = Decimal("0.5") * spread / 2
    rows = [
        {"venue": "binance", "symbol": symbol, "time": NOW - timedelta(minutes=2), "bid": Decimal("0.5") - half,
         "ask": Decimal("0.5") + half, "bid_size": Decimal(1000), "ask_size": Decimal(1000),
         "bid_depth_usdt": depth, "ask_depth_usdt": depth}
        for symbol in (SYMBOL, "XRP/USDT")
    ]  # fmt: skip
    record_quotes(engine, rows)


def test_the_scan_scores_liquidity_from_the_recorded_books(engine: Engine) -> None:
    """The liquidity part of the score comes from the recorded spread and depth against the trade's notional; a
    candidate without recorded books falls back to the stated 5 bp."""
    strategy, notional = StrategyParams(), Decimal(150)

    def score() -> Decimal:
        (found,) = scan_funding(engine, strategy, venues=[Venue.BINANCE], now=NOW, notional=notional).opportunities
        return found.score

    unbooked = score()
    _record_books(engine, spread=Decimal("0.004"), depth=Decimal(300))  # wide and thin
    thin = score()
    _record_books(engine, spread=Decimal("0.0002"), depth=Decimal(50_000))  # newer: tight and deep
    deep = score()
    assert thin < unbooked < deep
    legs = [LegLiquidity.from_quote(Decimal("0.49995"), Decimal("0.50005"), Decimal(50_000))] * 2
    expected = ScoringParams().liquidity_weight * (
        scoring.liquidity_score(liquidity.expected_slippage_rate(legs, notional), ScoringParams().max_slippage)
        - scoring.liquidity_score(DEFAULT_SLIPPAGE, ScoringParams().max_slippage)
    )
    assert deep - unbooked == expected
