"""A hedge's legs and P&L from its fills (pure, Decimal).

Conventions (they make realized P&L equal, to the cent, the change of the account's USDT plus the leftover coin
valued at its buy price):

- Spot buys on Binance pay the fee in the bought coin, so the coins held are ``bought - base fee - sold``; a fee in
  the base coin is valued at its fill's price, a fee in USDT as is.
- Perp price P&L is the signed cash of its fills (sells +, buys -): exact once the perp is flat.
- Spot price P&L is realized on the matched amount: ``min(bought, sold) x (sell VWAP - buy VWAP)``; a leftover below
  one lot stays as coin at its buy price (not realized).
- realized P&L = funding received - all fees + perp price P&L + spot price P&L.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Side
from arbx_pipelines.core.money import ZERO


@dataclass(frozen=True)
class FillView:
    leg: str  # "spot" | "perp"
    side: Side
    amount: Decimal  # base coin
    price: Decimal
    fee: Decimal
    fee_currency: str | None
    base: str  # the coin, to tell a base-coin fee from a USDT one


@dataclass(frozen=True)
class LegTotals:
    bought: Decimal = ZERO
    sold: Decimal = ZERO
    buy_cost: Decimal = ZERO
    sell_proceeds: Decimal = ZERO
    base_fee: Decimal = ZERO  # fees paid in the coin itself
    fee_usdt: Decimal = ZERO  # every fee valued in USDT

    @property
    def buy_vwap(self) -> Decimal | None:
        return self.buy_cost / self.bought if self.bought else None

    @property
    def sell_vwap(self) -> Decimal | None:
        return self.sell_proceeds / self.sold if self.sold else None

    @property
    def net_base(self) -> Decimal:
        """Coins this leg added to the account (negative: removed)."""
        return self.bought - self.base_fee - self.sold

    @property
    def cash(self) -> Decimal:
        return self.sell_proceeds - self.buy_cost

    def add(self, fill: FillView) -> LegTotals:
        notional = fill.amount * fill.price
        in_base = fill.fee_currency is not None and fill.fee_currency == fill.base
        fee_usdt = fill.fee * fill.price if in_base else fill.fee
        buy = fill.side is Side.BUY
        return LegTotals(
            bought=self.bought + (fill.amount if buy else ZERO),
            sold=self.sold + (ZERO if buy else fill.amount),
            buy_cost=self.buy_cost + (notional if buy else ZERO),
            sell_proceeds=self.sell_proceeds + (ZERO if buy else notional),
            base_fee=self.base_fee + (fill.fee if in_base else ZERO),
            fee_usdt=self.fee_usdt + fee_usdt,
        )


@dataclass(frozen=True)
class HedgeBook:
    direction: FundingDirection
    spot: LegTotals
    perp: LegTotals

    @property
    def spot_amount(self) -> Decimal:
        """Size of the spot leg in coins: held (positive funding) or sold from inventory (negative)."""
        return self.spot.net_base * self.direction.sign

    @property
    def perp_amount(self) -> Decimal:
        """Size of the perp leg in coins: short (positive funding) or long (negative)."""
        return -(self.perp.bought - self.perp.sold) * self.direction.sign

    @property
    def spot_entry_price(self) -> Decimal | None:
        return self.spot.buy_vwap if self.direction.short_perp else self.spot.sell_vwap

    @property
    def perp_entry_price(self) -> Decimal | None:
        return self.perp.sell_vwap if self.direction.short_perp else self.perp.buy_vwap

    @property
    def fees(self) -> Decimal:
        return self.spot.fee_usdt + self.perp.fee_usdt

    @property
    def perp_pnl(self) -> Decimal:
        return self.perp.cash

    @property
    def spot_pnl(self) -> Decimal:
        matched = min(self.spot.bought, self.spot.sold)
        if matched == 0:
            return ZERO
        assert self.spot.buy_vwap is not None and self.spot.sell_vwap is not None
        return matched * (self.spot.sell_vwap - self.spot.buy_vwap)

    def realized_pnl(self, funding_received: Decimal) -> Decimal:
        return funding_received - self.fees + self.perp_pnl + self.spot_pnl


def hedge_book(direction: FundingDirection, fills: Iterable[FillView]) -> HedgeBook:
    spot, perp = LegTotals(), LegTotals()
    for fill in fills:
        if fill.leg == "perp":
            perp = perp.add(fill)
        else:
            spot = spot.add(fill)
    return HedgeBook(direction, spot, perp)
