"""The user's algorithms as pure functions: dynamic leverage, the AR(1) forecast, the entry assessment, the composite
risk score with its check intervals, and the typed anomalies."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from arbx_pipelines.core import funding_rules
from arbx_pipelines.core.anomaly import RESPONSES, AnomalyKind, classify, depth_ratio
from arbx_pipelines.core.decision import PositionState, StrategyParams, decide_exit
from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.position_risk import RiskLevel, composite_risk, multi_period_volatility
from arbx_pipelines.core.scoring import ScoringParams, score
from tests.core.builders import T0, snapshot

SCORING = ScoringParams()


def test_leverage_is_dynamic_within_the_configured_bounds() -> None:
    assert funding_rules.choose_leverage(None, 72, 2, 5) == 2  # unknown volatility: the minimum
    calm, wild = funding_rules.choose_leverage(0.005, 72, 1, 5), funding_rules.choose_leverage(0.08, 72, 1, 5)
    assert calm > wild >= 1
    assert funding_rules.choose_leverage(0.001, 72, 1, 3) == 3  # never above the maximum
    assert funding_rules.choose_leverage(0.5, 72, 2, 5) == 2  # never below the minimum
    with pytest.raises(ValueError, match="leverage bounds"):
        funding_rules.choose_leverage(0.01, 72, 4, 3)


def test_forecast_reverts_to_the_recent_mean_at_the_window_autocorrelation() -> None:
    flat = funding_rules.forecast_path([0.2] * 30, 5)
    assert flat.tolist() == pytest.approx([0.2] * 5)
    # alternating values have negative autocorrelation: clipped to 0, the forecast is the mean at once
    assert funding_rules.forecast_path([0.1, 0.3] * 20, 3).tolist() == pytest.approx([0.2] * 3)
    trend = np.linspace(0.0, 1.0, 50)
    path = funding_rules.forecast_path(trend, 10)
    assert 0.5 < path[-1] < path[0] < 1.0  # decays from the last value toward the window mean


def test_entry_assessment_needs_forecast_funding_above_costs_and_persistence() -> None:
    def assess(rates: list[float], cost: float, persistence: str = "0.5") -> funding_rules.EntryAssessment:
        annualized = [r * 1095 for r in rates]
        return funding_rules.assess_entry(
            rates, annualized, 1, 8, planned_hours=72, round_trip_cost_rate=cost, min_persistence=D(persistence),
            expected_slippage_rate=D("0.0005"), venue=Venue.BINANCE, scoring=SCORING,
        )  # fmt: skip

    hot = [0.001] * 30
    ok = assess(hot, 0.004)
    assert ok.allowed and ok.outlook.expected_funding_rate == pytest.approx(0.009)
    assert ok.score == score(D(repr(1.095)), D(1), D("0.0005"), Venue.BINANCE, SCORING)
    assert (assess(hot, 0.01).veto or "").startswith("forecast_below_costs")
    mixed = [-0.001] * 20 + [0.003] * 3  # paid our side 3 times in the last 21
    assert (assess(mixed, 0.001).veto or "").startswith("not_persistent")
    assert assess(mixed, 0.001, persistence="0.1").allowed


def test_exit_with_a_forecast_keeps_a_hedge_through_one_low_settlement() -> None:
    params = StrategyParams()
    low_now = snapshot(rate="0.00005")  # 5.5 % a year: below the 10 % exit
    held = PositionState(Venue.BINANCE, "BTC/USDT:USDT", FundingDirection.POSITIVE, T0, D(1), D(100))
    assert decide_exit(held, low_now, params, low_now.time) is not None
    assert decide_exit(held, low_now, params, low_now.time, forecast_annualized=D("0.4")) is None
    assert decide_exit(held, snapshot(), params, low_now.time, forecast_annualized=D("0.05")) is not None


def test_composite_risk_score_by_hand_and_the_check_interval_per_level() -> None:
    # liquidation 1 - 0.2/0.4 = 0.5; volatility 0.5 x 1 + 0.3 x 0.5 + 0.2 x 0.2 = 0.69; liquidity 0.2; venue 0.1
    risk = composite_risk(D("0.2"), (0.2, 0.05, 0.02), D("0.8"), D("0.9"))
    expected = D("0.4") * D("0.5") + D("0.3") * D("0.69") + D("0.2") * D("0.2") + D("0.1") * D("0.1")
    assert risk.score == expected and risk.level is RiskLevel.MEDIUM
    assert risk.check_seconds() == 180
    calm = composite_risk(None, (0.01, 0.01, 0.01), D(1), D(1))
    assert calm.level is RiskLevel.LOW and calm.check_seconds() == 300
    near = composite_risk(D("0.02"), (0.2, 0.2, 0.2), D("0.2"), D("0.5"))
    assert near.level is RiskLevel.CRITICAL and near.check_seconds() == 30


def test_volatility_is_measured_over_three_periods() -> None:
    times = [i * 600.0 for i in range(7 * 144)]  # a week of 10-minute marks
    rng = np.random.default_rng(3)
    prices = (100 * np.exp(np.cumsum(rng.normal(0, 0.001, len(times))))).tolist()
    four_hours, day, week = multi_period_volatility(times, prices, times[-1])
    assert four_hours is not None and day is not None and week is not None
    assert day == pytest.approx(0.001 * 12, rel=0.2)  # sqrt(144) ten-minute returns a day
    assert multi_period_volatility(times[:2], prices[:2], times[1]) == (None, None, None)


def test_anomalies_are_typed_with_their_handling() -> None:
    assert classify(4.0, 1.0, None) == (AnomalyKind.FUNDING_SPIKE,)
    assert classify(4.0, 3.5, None) == (AnomalyKind.SUSPECTED_MANIPULATION,)
    assert classify(None, 7.0, None) == (AnomalyKind.SUSPECTED_MANIPULATION,)
    assert classify(None, 3.5, None) == (AnomalyKind.PRICE_JUMP,)
    assert classify(1.0, 1.0, 0.2) == (AnomalyKind.LIQUIDITY_DRYING,)
    assert classify(2.9, -2.9, 0.5) == ()
    spike, manipulation = RESPONSES[AnomalyKind.FUNDING_SPIKE], RESPONSES[AnomalyKind.SUSPECTED_MANIPULATION]
    assert spike.pause_symbol and not spike.pause_all and spike.check_seconds == 60
    assert manipulation.pause_all and manipulation.severity == "critical"
    assert RESPONSES[AnomalyKind.LIQUIDITY_DRYING].close_batches == 3
    assert depth_ratio([D(100), D(100), D(20)]) == pytest.approx(0.2)
    assert depth_ratio([D(100)]) is None


def test_the_float_persistence_share_is_the_scorers_persistence() -> None:
    from arbx_pipelines.core.scoring import persistence

    rates = [0.0001, -0.0002, 0.0, 0.0003, -0.00001] * 5
    for direction, side in ((1, FundingDirection.POSITIVE), (-1, FundingDirection.NEGATIVE)):
        expected = persistence([D(repr(r)) for r in rates[-funding_rules.RECENT_SETTLEMENTS :]], side)
        assert funding_rules.persistence_share(rates, direction) == expected
