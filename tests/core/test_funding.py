"""Funding maths: annualization per interval, settlement counts, round-trip cost, break-even."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from arbx_pipelines.core.funding import (
    FundingMathError,
    annualize,
    break_even_settlements,
    funding_payment,
    round_trip_cost_rate,
    settlements_within,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("interval", "annualized"),
    [
        # 0.01 % per settlement: 8h -> 3 a day x 365; 4h -> 6 x 365; 1h -> 24 x 365
        (8, D("0.1095")),
        (4, D("0.2190")),
        (2, D("0.4380")),
        (1, D("0.8760")),
    ],
)
def test_annualize_uses_the_symbols_interval(interval: int, annualized: D) -> None:
    assert annualize(D("0.0001"), interval) == annualized


def test_annualize_keeps_sign_and_rejects_bad_interval() -> None:
    assert annualize(D("-0.0005"), 8) == D("-0.5475")
    with pytest.raises(FundingMathError, match="interval_hours"):
        annualize(D("0.0001"), 0)


def test_settlements_within_horizon() -> None:
    # no next time known: floor(72 / 8)
    assert settlements_within(72, 8) == 9
    # next settlement 30 min away: 00:30, 08:30, ..., 64:30 -> 9 within 72h
    assert settlements_within(72, 8, now=T0, next_funding_time=T0 + timedelta(minutes=30)) == 9
    # 4h interval, next in 1h, horizon 10h: settlements at 1h, 5h, 9h
    assert settlements_within(10, 4, now=T0, next_funding_time=T0 + timedelta(hours=1)) == 3
    # horizon shorter than the wait for the next settlement: none collected
    assert settlements_within(D("0.25"), 8, now=T0, next_funding_time=T0 + timedelta(minutes=30)) == 0
    # a settlement exactly now is not collected: the next one is 8h away
    assert settlements_within(8, 8, now=T0, next_funding_time=T0) == 1
    assert settlements_within(D("7.9"), 8, now=T0, next_funding_time=T0) == 0
    # a venue time one minute stale rolls to 07:59
    assert settlements_within(8, 8, now=T0, next_funding_time=T0 - timedelta(minutes=1)) == 1
    with pytest.raises(FundingMathError, match="more than one interval before"):
        settlements_within(8, 8, now=T0, next_funding_time=T0 - timedelta(hours=9))


def test_round_trip_cost_counts_both_legs_in_and_out() -> None:
    # 2 x (0.001 + 0.0005) + 0.0004 spread
    assert round_trip_cost_rate(D("0.001"), D("0.0005"), D("0.0004")) == D("0.0034")
    with pytest.raises(FundingMathError):
        round_trip_cost_rate(D("-0.001"), D("0.0005"))


def test_break_even_settlements() -> None:
    # cost 0.0034 at 0.1 % a settlement: 3 settlements give 0.003 (< cost), 4 give 0.004 (> cost)
    assert break_even_settlements(D("0.001"), D("0.0034")) == 4
    assert break_even_settlements(D("-0.001"), D("0.0034")) == 4
    # exactly at cost after 3 is not yet a profit: the 4th makes it strictly positive
    assert break_even_settlements(D("0.001"), D("0.003")) == 4
    # borrow carry 0.0005 per settlement halves the net: 0.003 / 0.0005 = 6 -> 7th settlement
    assert break_even_settlements(D("0.001"), D("0.003"), carry_cost_per_settlement=D("0.0005")) == 7
    assert break_even_settlements(D("0"), D("0.003")) is None
    assert break_even_settlements(D("0.0005"), D("0.003"), carry_cost_per_settlement=D("0.0005")) is None


def test_funding_payment_sign() -> None:
    # short perp receives positive funding
    assert funding_payment(D("0.001"), D("1000"), short_perp=True) == D("1")
    assert funding_payment(D("0.001"), D("1000"), short_perp=False) == D("-1")
    # long perp receives negative funding
    assert funding_payment(D("-0.0002"), D("500"), short_perp=False) == D("0.1")
    assert funding_payment(D("-0.0002"), D("500"), short_perp=True) == D("-0.1")
