"""Precision rounding, min amount / min notional on both legs, OKX contracts."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.core.models import Side
from arbx_pipelines.core.sizing import (
    HedgeSize,
    MarketRules,
    SizingRejection,
    base_to_contracts,
    common_step,
    contracts_to_base,
    gross_of_coin_fee,
    round_amount,
    round_price,
    size_hedge,
    to_market_amount,
)

BINANCE_BTC_SPOT = MarketRules(amount_step=D("0.00001"), price_step=D("0.01"), min_notional=D("5"))
# OKX BTC-USDT-SWAP: ctVal 0.01 BTC, lotSz 0.01 contracts, minSz 0.01
OKX_BTC_SWAP = MarketRules(amount_step=D("0.01"), min_amount=D("0.01"), contract_size=D("0.01"))


def test_rounding_never_rounds_in_our_disfavour() -> None:
    assert round_amount(D("0.123456"), BINANCE_BTC_SPOT) == D("0.12345")
    assert round_price(D("100.037"), BINANCE_BTC_SPOT, Side.BUY) == D("100.03")
    assert round_price(D("100.031"), BINANCE_BTC_SPOT, Side.SELL) == D("100.04")
    assert round_price(D("100.03"), BINANCE_BTC_SPOT, Side.SELL) == D("100.03")


def test_common_step() -> None:
    assert common_step(D("0.003"), D("0.002")) == D("0.006")
    assert common_step(D("0.001"), D("0.01")) == D("0.01")
    assert common_step(D("0.5"), D("0.2")) == D("1")


def test_okx_contract_conversion() -> None:
    assert base_to_contracts(D("0.0523"), D("0.01")) == D("5.23")
    assert contracts_to_base(D("5.23"), D("0.01")) == D("0.0523")
    assert to_market_amount(D("0.05237"), OKX_BTC_SWAP) == D("5.23")  # 5.237 contracts -> 5.23
    # DOGE-USDT-SWAP: 1000 DOGE a contract, whole contracts: 2500 DOGE -> 2 contracts = 2000 DOGE
    doge = MarketRules(amount_step=D("1"), contract_size=D("1000"))
    assert to_market_amount(D("2500"), doge) == D("2")


def test_hedge_is_one_to_one_after_rounding_both_legs() -> None:
    # spot step 0.00001 BTC, perp step 0.01 x 0.01 = 0.0001 BTC -> common 0.0001
    sized = size_hedge(D("0.05237"), D("60000"), D("60010"), BINANCE_BTC_SPOT, OKX_BTC_SWAP)
    assert isinstance(sized, HedgeSize)
    assert sized.base_amount == D("0.0523")
    assert (sized.spot.amount, sized.perp.amount) == (D("0.0523"), D("5.23"))
    assert sized.spot.base_amount == sized.perp.base_amount
    assert sized.notional == D("3138")  # 0.0523 x 60000


def test_min_notional_is_checked_on_both_legs() -> None:
    perp_min_100 = MarketRules(amount_step=D("0.0001"), min_notional=D("100"))
    # 0.0015 BTC x 60000 = 90: spot (min 5) passes, perp (min 100) does not -> no leg goes out
    result = size_hedge(D("0.0015"), D("60000"), D("60000"), BINANCE_BTC_SPOT, perp_min_100)
    assert isinstance(result, SizingRejection)
    assert (result.leg, result.reason) == (Leg.PERP, "min_notional")
    spot_min_100 = MarketRules(amount_step=D("0.00001"), min_notional=D("100"))
    result = size_hedge(D("0.0015"), D("60000"), D("60000"), spot_min_100, MarketRules())
    assert isinstance(result, SizingRejection) and result.leg is Leg.SPOT
    # 0.002 x 60000 = 120 passes both
    assert isinstance(size_hedge(D("0.002"), D("60000"), D("60000"), spot_min_100, perp_min_100), HedgeSize)


def test_min_amount_in_contracts_and_max_amount_cap() -> None:
    okx_min_one = MarketRules(amount_step=D("1"), min_amount=D("1"), contract_size=D("0.01"))
    # 0.005 BTC = 0.5 contracts -> rounds to 0 -> below the 1-contract minimum
    result = size_hedge(D("0.005"), D("60000"), D("60000"), BINANCE_BTC_SPOT, okx_min_one)
    assert isinstance(result, SizingRejection) and (result.leg, result.reason) == (Leg.PERP, "min_amount")
    # 0.012 BTC = 1.2 contracts -> 1 contract = 0.01 BTC: placeable
    sized = size_hedge(D("0.012"), D("60000"), D("60000"), BINANCE_BTC_SPOT, okx_min_one)
    assert isinstance(sized, HedgeSize) and (sized.base_amount, sized.perp.amount) == (D("0.01"), D("1"))
    capped_spot = MarketRules(amount_step=D("0.00001"), max_amount=D("0.01"))
    sized = size_hedge(D("0.5"), D("60000"), D("60000"), capped_spot, OKX_BTC_SWAP)
    assert isinstance(sized, HedgeSize) and sized.base_amount == D("0.01") and sized.perp.amount == D("1")


def test_a_buy_back_with_its_fee_in_the_coin_buys_the_fee_on_top_rounded_up_to_the_step() -> None:
    rules = MarketRules(amount_step=D("1"))
    # 900 coins at 0.1 %: 900 / 0.999 = 900.9009...; one whole step more, so at least 900 arrive
    assert gross_of_coin_fee(D("900"), D("0.001"), rules) == D("901")
    assert gross_of_coin_fee(D("900"), D("0.001"), rules) * (1 - D("0.001")) >= 900
    assert gross_of_coin_fee(D("900"), D(0), rules) == D("900")  # fees in USDT: the amount itself
    fine = MarketRules(amount_step=D("0.001"))
    assert gross_of_coin_fee(D("900"), D("0.001"), fine) == D("900.901")
    with pytest.raises(ValueError, match="fee rate"):
        gross_of_coin_fee(D("1"), D("1"), rules)
