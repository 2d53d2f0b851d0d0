"""The liquidity input of the user's score: expected slippage of a hedge's fills from its books' spread and depth
(``core.liquidity``), and the score it gives (``core.scoring.liquidity_score``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arbx_pipelines.core.liquidity import NO_FILL, LegLiquidity, expected_slippage_rate
from arbx_pipelines.core.scoring import liquidity_score

D = Decimal
MAX_SLIPPAGE = D("0.005")


def test_half_spread_from_the_touch_around_the_mid() -> None:
    leg = LegLiquidity.from_quote(D("99.9"), D("100.1"), None)
    assert leg.half_spread_rate == D("0.001")
    assert leg.slippage_rate(D(1000)) == D("0.001")  # no depth known: the spread alone


def test_impact_grows_with_the_share_of_the_visible_depth_taken() -> None:
    leg = LegLiquidity.from_quote(D("99.9"), D("100.1"), D(10_000))
    assert leg.slippage_rate(D(0)) == D("0.001")
    assert leg.slippage_rate(D(5_000)) == D("0.002")  # half the depth: half a spread beyond the touch
    assert leg.slippage_rate(D(10_000)) == D("0.003")  # all of it: a whole spread beyond


def test_an_empty_side_cannot_fill() -> None:
    assert LegLiquidity.from_quote(D(1), D("1.001"), D(0)).slippage_rate(D(10)) == NO_FILL


def test_a_stated_impact_replaces_the_depth_estimate() -> None:
    leg = LegLiquidity(D("0.0001"), depth=D(1), impact_rate=D("0.0001"))
    assert leg.slippage_rate(D(1_000_000)) == D("0.0002")


def test_the_hedge_pays_the_mean_of_its_legs() -> None:
    spot = LegLiquidity.from_quote(D("99.9"), D("100.1"), D(10_000))
    perp = LegLiquidity.from_quote(D("99.99"), D("100.01"), D(100_000))
    assert expected_slippage_rate([spot, perp], D(5_000)) == (D("0.002") + D("0.00011")) / 2


def test_deep_tight_books_score_higher_than_thin_wide_ones() -> None:
    deep = [LegLiquidity.from_quote(D("99.99"), D("100.01"), D(1_000_000))] * 2
    thin = [LegLiquidity.from_quote(D("99.8"), D("100.2"), D(2_000))] * 2
    deep_score = liquidity_score(expected_slippage_rate(deep, D(150)), MAX_SLIPPAGE)
    thin_score = liquidity_score(expected_slippage_rate(thin, D(150)), MAX_SLIPPAGE)
    assert D(1) > deep_score > thin_score > 0
    assert liquidity_score(expected_slippage_rate(thin, D(20_000)), MAX_SLIPPAGE) == 0  # past max_slippage


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LegLiquidity.from_quote(D(2), D(1), None), "bid <= ask"),
        (lambda: LegLiquidity(D(-1)), "negative"),
        (lambda: LegLiquidity(D(0), depth=D(-1)), "depth"),
        (lambda: expected_slippage_rate([], D(1)), "at least one leg"),
        (lambda: expected_slippage_rate([LegLiquidity(D(0))], D(-1)), "notional"),
    ],
)
def test_bad_inputs_are_refused(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
