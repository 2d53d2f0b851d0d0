"""Cross-exchange spread maths on a worked example computed by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from arbx_pipelines.core.sizing import MarketRules
from arbx_pipelines.core.spread import SpreadQuote, SpreadRejection, best_spread, evaluate_spread, walk_book

# Venue A (buy) asks and venue B (sell) bids, best first
ASKS = [(D("100"), D("1")), (D("101"), D("2")), (D("102.5"), D("3"))]
BIDS = [(D("104"), D("0.5")), (D("102.5"), D("1.5")), (D("101.8"), D("4"))]
FEE = D("0.001")
STEP = MarketRules(amount_step=D("0.1"))


def test_walk_book() -> None:
    walk = walk_book(ASKS, D("1.5"))  # 1 @ 100 + 0.5 @ 101
    assert (walk.amount, walk.cost, walk.worst_price, walk.complete) == (D("1.5"), D("150.5"), D("101"), True)
    thin = walk_book(ASKS, D("10"))  # only 6 on the book
    assert (thin.amount, thin.complete) == (D("6"), False)


def test_evaluate_spread_worked_example() -> None:
    quote = evaluate_spread(ASKS, BIDS, D("1.5"), FEE, FEE)
    # buy 150.5 -> VWAP 100.333..; sell 0.5 @ 104 + 1 @ 102.5 = 154.5 -> VWAP 103
    assert quote.sell_vwap == D("103")
    assert quote.buy_cost == D("150.6505")  # 150.5 x 1.001
    assert quote.sell_proceeds == D("154.3455")  # 154.5 x 0.999
    assert quote.profit == D("3.6950")
    # net edge per coin = 103 x 0.999 - 100.333.. x 1.001 = 102.897 - 100.43366.. = 2.46333..
    assert abs(quote.net_edge - D("3.695") / D("1.5")) < D("1e-20")
    assert (quote.buy_limit, quote.sell_limit) == (D("101"), D("102.5"))
    with pytest.raises(ValueError, match="too thin"):
        evaluate_spread(ASKS, BIDS, D("7"), FEE, FEE)


def test_best_spread_walks_while_the_marginal_coin_keeps_the_edge() -> None:
    # marginal rates (bid x 0.999 / (ask x 1.001) - 1): 104/100 3.79 %, 102.5/100 2.30 %, 102.5/101 1.28 %,
    # 101.8/101 0.59 %, 101.8/102.5 negative -> stop after 3 coins
    quote = best_spread(ASKS, BIDS, FEE, FEE, min_profit_rate=D("0.002"), min_profit=D("0.5"))
    assert isinstance(quote, SpreadQuote), quote
    assert quote.amount == D("3")
    # buy 1 @ 100 + 2 @ 101 = 302; sell 0.5 @ 104 + 1.5 @ 102.5 + 1 @ 101.8 = 307.55
    assert quote.buy_cost == D("302.302")
    assert quote.sell_proceeds == D("307.24245")
    assert quote.profit == D("4.94045")
    assert quote.profit_rate == D("4.94045") / D("302.302")
    assert (quote.buy_limit, quote.sell_limit) == (D("101"), D("101.8"))


def test_higher_min_rate_stops_earlier() -> None:
    # the 4th coin earns 0.59 % < 0.6 %: stop at 2 coins; 205.75 x 0.999 - 201 x 1.001 = 4.34325
    quote = best_spread(ASKS, BIDS, FEE, FEE, min_profit_rate=D("0.006"), min_profit=D("0.5"))
    assert isinstance(quote, SpreadQuote) and quote.amount == D("2") and quote.profit == D("4.34325")


def test_inventory_and_quote_caps_then_step_rounding() -> None:
    # 2.25 coins to sell on B -> 2.2 at step 0.1; buy 100 + 1.2 x 101 = 221.2; sell 205.75 + 0.2 x 101.8 = 226.11
    quote = best_spread(
        ASKS, BIDS, FEE, FEE, min_profit_rate=D("0.002"), min_profit=D("0.5"), max_amount=D("2.25"),
        buy_rules=STEP, sell_rules=STEP,
    )  # fmt: skip
    assert isinstance(quote, SpreadQuote) and quote.amount == D("2.2")
    assert quote.profit == D("4.46269")  # 226.11 x 0.999 - 221.2 x 1.001
    # 150 USDT on A: 0.5 + 0.5 coins at 100.1 each (100.1 spent), 49.9 / 101.101 = 0.4935.. more -> 1.4
    capped = best_spread(
        ASKS, BIDS, FEE, FEE, min_profit_rate=D("0.002"), min_profit=D("0.5"), max_buy_quote=D("150"),
        buy_rules=STEP, sell_rules=STEP,
    )  # fmt: skip
    assert isinstance(capped, SpreadQuote) and capped.amount == D("1.4")
    assert capped.buy_cost == D("140.5404")  # (100 + 0.4 x 101) x 1.001 <= 150
    empty = best_spread(ASKS, BIDS, FEE, FEE, min_profit_rate=D("0.002"), min_profit=D("0"), max_amount=D("0"))
    assert isinstance(empty, SpreadRejection) and empty.reason == "no_capacity"


def test_rejections() -> None:
    no_edge = best_spread(
        [(D("105"), D("1"))], [(D("104"), D("1"))], FEE, FEE, min_profit_rate=D("0"), min_profit=D("0")
    )
    assert isinstance(no_edge, SpreadRejection) and no_edge.reason == "no_edge"
    # 100.3 x 0.999 / (100 x 1.001) - 1 = 0.0996 % < 0.2 %
    thin = best_spread(
        [(D("100"), D("1"))], [(D("100.3"), D("1"))], FEE, FEE, min_profit_rate=D("0.002"), min_profit=D("0")
    )
    assert isinstance(thin, SpreadRejection) and thin.reason == "below_min_profit_rate"
    small = best_spread(ASKS, BIDS, FEE, FEE, min_profit_rate=D("0.002"), min_profit=D("5"))
    assert isinstance(small, SpreadRejection) and small.reason == "below_min_profit"
    # the buy venue wants 500 USDT per order; 3 coins x 100.67 is about 302
    min_notional = best_spread(
        ASKS,
        BIDS,
        FEE,
        FEE,
        min_profit_rate=D("0.002"),
        min_profit=D("0"),
        buy_rules=MarketRules(min_notional=D("500")),
    )
    assert isinstance(min_notional, SpreadRejection) and min_notional.reason == "min_notional"
    assert "buy venue" in min_notional.detail
