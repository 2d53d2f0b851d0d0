"""Cross-exchange spot arbitrage maths (DESIGN, "Spread"): walk both order books for the intended size.

Buy on the cheaper venue (walk its asks), sell on the dearer one (walk its bids). For an amount q:

    net edge     = sell_vwap x (1 - fee_sell) - buy_vwap x (1 + fee_buy)      (per coin)
    buy cost     = q x buy_vwap x (1 + fee_buy)                               (what we pay, fee included)
    profit       = q x net edge ; profit rate = profit / buy cost

Trade only if profit rate >= min profit rate and profit >= min profit. The size is the largest amount that keeps
the edge: both books are walked together while the *marginal* coin (next ask vs next bid) still earns the min
profit rate, so no coin is bought that loses money against its sale; it is capped by inventory (base on the sell
venue, quote on the buy venue) and risk limits, then rounded down to both markets' steps. Orders go out as IOC
limits at the worst level used (``buy_limit``, ``sell_limit``), so a stale signal never fills worse than planned.

Public API::

    BookLevel = tuple[Decimal, Decimal]                     # (price, amount), best first
    walk_book(levels, amount) -> BookWalk                   # BookWalk(amount, cost, worst_price, complete) .vwap
    evaluate_spread(asks, bids, amount, fee_buy, fee_sell) -> SpreadQuote
    best_spread(asks, bids, fee_buy, fee_sell, *, min_profit_rate, min_profit, max_amount=None,
                max_buy_quote=None, buy_rules=NO_RULES, sell_rules=NO_RULES) -> SpreadQuote | SpreadRejection
    SpreadQuote(amount, buy_vwap, sell_vwap, buy_cost, sell_proceeds, buy_limit, sell_limit, fee_buy, fee_sell)
        .net_edge, .profit, .profit_rate
    SpreadRejection(reason in {"no_edge", "below_min_profit_rate", "below_min_profit", "no_capacity",
                               "min_amount", "min_notional"}, detail)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.core.money import ZERO, quantize_down
from arbx_pipelines.core.sizing import NO_RULES, MarketRules, check_leg, common_step

BookLevel = tuple[Decimal, Decimal]
ONE = Decimal(1)

SpreadReason = Literal[
    "no_edge", "below_min_profit_rate", "below_min_profit", "no_capacity", "min_amount", "min_notional"
]


@dataclass(frozen=True, slots=True)
class BookWalk:
    amount: Decimal
    cost: Decimal
    worst_price: Decimal | None
    complete: bool

    @property
    def vwap(self) -> Decimal:
        if self.amount == 0:
            raise ValueError("an empty walk has no VWAP")
        return self.cost / self.amount


def _validated(levels: Sequence[BookLevel], side: str) -> Sequence[BookLevel]:
    for price, amount in levels:
        if price <= 0 or amount < 0:
            raise ValueError(f"{side} level ({price}, {amount}) must have a positive price and amount")
    return levels


def walk_book(levels: Sequence[BookLevel], amount: Decimal) -> BookWalk:
    """Fill ``amount`` against ``levels`` (best first). ``complete`` is False when the book is too thin."""
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    remaining, cost, worst = amount, ZERO, None
    for price, available in levels:
        if remaining == 0:
            break
        take = min(available, remaining)
        if take > 0:
            cost += take * price
            remaining -= take
            worst = price
    return BookWalk(amount - remaining, cost, worst, remaining == 0)


@dataclass(frozen=True, slots=True)
class SpreadQuote:
    amount: Decimal
    buy_vwap: Decimal
    sell_vwap: Decimal
    buy_cost: Decimal
    sell_proceeds: Decimal
    buy_limit: Decimal
    sell_limit: Decimal
    fee_buy: Decimal
    fee_sell: Decimal

    @property
    def net_edge(self) -> Decimal:
        return self.sell_vwap * (ONE - self.fee_sell) - self.buy_vwap * (ONE + self.fee_buy)

    @property
    def profit(self) -> Decimal:
        return self.sell_proceeds - self.buy_cost

    @property
    def profit_rate(self) -> Decimal:
        return self.profit / self.buy_cost


@dataclass(frozen=True, slots=True)
class SpreadRejection:
    reason: SpreadReason
    detail: str


def evaluate_spread(
    asks: Sequence[BookLevel], bids: Sequence[BookLevel], amount: Decimal, fee_buy: Decimal, fee_sell: Decimal
) -> SpreadQuote:
    """The quote for a fixed ``amount`` (re-validation just before sending). Raises when a book is too thin."""
    if amount <= 0:
        raise ValueError(f"amount must be positive, got {amount}")
    buy = walk_book(_validated(asks, "ask"), amount)
    sell = walk_book(_validated(bids, "bid"), amount)
    if not (buy.complete and sell.complete) or buy.worst_price is None or sell.worst_price is None:
        raise ValueError(f"books too thin for {amount}: asks hold {buy.amount}, bids hold {sell.amount}")
    return SpreadQuote(
        amount=amount,
        buy_vwap=buy.vwap,
        sell_vwap=sell.vwap,
        buy_cost=buy.cost * (ONE + fee_buy),
        sell_proceeds=sell.cost * (ONE - fee_sell),
        buy_limit=buy.worst_price,
        sell_limit=sell.worst_price,
        fee_buy=fee_buy,
        fee_sell=fee_sell,
    )


def _marginal_rate(ask: Decimal, bid: Decimal, fee_buy: Decimal, fee_sell: Decimal) -> Decimal:
    return bid * (ONE - fee_sell) / (ask * (ONE + fee_buy)) - ONE


def _edge_keeping_amount(
    asks: Sequence[BookLevel],
    bids: Sequence[BookLevel],
    fee_buy: Decimal,
    fee_sell: Decimal,
    min_profit_rate: Decimal,
    max_amount: Decimal | None,
    max_buy_quote: Decimal | None,
) -> Decimal:
    """Walk asks and bids together while the marginal coin earns at least ``min_profit_rate``."""
    ask_i = bid_i = 0
    ask_left = asks[0][1] if asks else ZERO
    bid_left = bids[0][1] if bids else ZERO
    amount = ZERO
    quote_left = max_buy_quote
    while ask_i < len(asks) and bid_i < len(bids):
        ask_price, bid_price = asks[ask_i][0], bids[bid_i][0]
        if _marginal_rate(ask_price, bid_price, fee_buy, fee_sell) < min_profit_rate:
            break
        take = min(ask_left, bid_left)
        if max_amount is not None:
            take = min(take, max_amount - amount)
        if quote_left is not None:
            take = min(take, quote_left / (ask_price * (ONE + fee_buy)))
        take = max(take, ZERO)
        if take == 0 and ask_left > 0 and bid_left > 0:
            break  # inventory or quote balance exhausted
        amount += take
        if quote_left is not None:
            quote_left -= take * ask_price * (ONE + fee_buy)
        ask_left -= take
        bid_left -= take
        if ask_left <= 0:
            ask_i += 1
            ask_left = asks[ask_i][1] if ask_i < len(asks) else ZERO
        if bid_left <= 0:
            bid_i += 1
            bid_left = bids[bid_i][1] if bid_i < len(bids) else ZERO
    return amount


def best_spread(
    asks: Sequence[BookLevel],
    bids: Sequence[BookLevel],
    fee_buy: Decimal,
    fee_sell: Decimal,
    *,
    min_profit_rate: Decimal,
    min_profit: Decimal,
    max_amount: Decimal | None = None,
    max_buy_quote: Decimal | None = None,
    buy_rules: MarketRules = NO_RULES,
    sell_rules: MarketRules = NO_RULES,
) -> SpreadQuote | SpreadRejection:
    """The largest edge-keeping trade buying from ``asks`` and selling into ``bids``, or why there is none.

    ``max_amount``: base inventory on the sell venue and risk caps; ``max_buy_quote``: quote available on the buy
    venue (fee included). Both legs' min amount and min notional are checked at the rounded size.
    """
    asks, bids = _validated(asks, "ask"), _validated(bids, "bid")
    for name, cap in (("max_amount", max_amount), ("max_buy_quote", max_buy_quote)):
        if cap is not None and cap < 0:
            raise ValueError(f"{name} must not be negative, got {cap}")
    if not asks or not bids or _marginal_rate(asks[0][0], bids[0][0], fee_buy, fee_sell) <= 0:
        return SpreadRejection("no_edge", "best bid after fees does not exceed best ask after fees")
    if _marginal_rate(asks[0][0], bids[0][0], fee_buy, fee_sell) < min_profit_rate:
        return SpreadRejection("below_min_profit_rate", f"top-of-book rate below {min_profit_rate}")
    amount = _edge_keeping_amount(asks, bids, fee_buy, fee_sell, min_profit_rate, max_amount, max_buy_quote)
    steps = [step for step in (buy_rules.base_step, sell_rules.base_step) if step is not None]
    if steps:
        amount = quantize_down(amount, steps[0] if len(steps) == 1 else common_step(steps[0], steps[1]))
    if amount <= 0:
        return SpreadRejection("no_capacity", "inventory, quote balance or steps leave nothing to trade")
    quote = evaluate_spread(asks, bids, amount, fee_buy, fee_sell)
    # min notional at the least favourable price the venue could see: buy VWAP (the limit is higher), sell limit
    for venue_side, rules, price in (
        ("buy venue", buy_rules, quote.buy_vwap),
        ("sell venue", sell_rules, quote.sell_limit),
    ):
        rejection = check_leg(Leg.SPOT, amount / rules.contract_size, price, rules)
        if rejection is not None:
            return SpreadRejection(rejection.reason, f"{venue_side}: {rejection.detail}")
    if quote.profit_rate < min_profit_rate:
        return SpreadRejection("below_min_profit_rate", f"profit rate {quote.profit_rate} < {min_profit_rate}")
    if quote.profit < min_profit:
        return SpreadRejection("below_min_profit", f"profit {quote.profit} < {min_profit}")
    return quote
