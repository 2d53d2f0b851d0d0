"""Reconcile's reporting boundary: a venue/record difference counts from one lot (the market's base step) on."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from arbx_pipelines.core.sizing import SMALLEST_DIFFERENCE, MarketRules, at_least_one_lot

DOGE = MarketRules(amount_step=D("1"))  # spot: whole coins
OKX_SWAP = MarketRules(amount_step=D("0.1"), contract_size=D("10"))  # 0.1 contract of 10 coins: a lot is 1 coin


@pytest.mark.parametrize(
    ("difference", "rules", "reported"),
    [
        (D("1"), DOGE, True),  # exactly one lot
        (D("0.999999"), DOGE, False),  # just under
        (D("2.5"), DOGE, True),
        (D("1"), OKX_SWAP, True),  # the lot is in base units: amount step x contract size
        (D("0.99"), OKX_SWAP, False),
        (D("0"), DOGE, False),
        (D("-1"), DOGE, False),  # the caller passes venue minus records: fewer on the venue is not excess
    ],
)
def test_one_lot_is_the_boundary(difference: D, rules: MarketRules, reported: bool) -> None:
    assert at_least_one_lot(difference, rules) is reported


def test_a_market_without_a_step_reports_any_real_difference() -> None:
    free = MarketRules()
    assert at_least_one_lot(SMALLEST_DIFFERENCE, free) and at_least_one_lot(D("0.0001"), free)
    assert not at_least_one_lot(SMALLEST_DIFFERENCE / 2, free)
