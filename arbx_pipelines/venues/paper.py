"""Paper mode: real public market data, orders filled locally against the real order book, virtual balances.

The venue never sees an order. Fills walk the fetched book up to the limit price (IOC semantics: the rest is
cancelled), pay the market's taker fee, and move virtual spot balances or a virtual perpetual position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

from arbx_pipelines.core.models import MarketType, Mode, Side
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.core.sizing import contracts_to_base
from arbx_pipelines.core.venue_data import Balance, FundingIncome, OrderState, PositionInfo
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import InsufficientBalance


@dataclass
class _PaperPosition:
    amount: Decimal = ZERO  # signed base amount: > 0 long, < 0 short
    entry_price: Decimal = ZERO
    leverage: int = 1


@dataclass
class PaperAccount:
    spot: dict[str, Decimal] = field(default_factory=lambda: {"USDT": Decimal(250)})
    swap_usdt: Decimal = Decimal(250)
    positions: dict[str, _PaperPosition] = field(default_factory=dict)
    orders: dict[str, OrderState] = field(default_factory=dict)


class PaperMixin(VenueClient):
    """Put before a venue's client class: its public calls (and quirks) stay; private calls hit the virtual
    account. Build one with :func:`paper_client`."""

    account: PaperAccount
    spot_buy_fee_in_coin: ClassVar[bool] = False  # paper fills charge every fee in USDT

    async def balances(self, account: MarketType) -> dict[str, Balance]:
        if account is MarketType.SWAP:
            return {"USDT": Balance("USDT", self.account.swap_usdt, ZERO, self.account.swap_usdt)}
        return {c: Balance(c, v, ZERO, v) for c, v in self.account.spot.items()}

    async def positions(self, symbols: list[str] | None = None) -> list[PositionInfo]:
        return [
            PositionInfo(
                venue=self.venue,
                symbol=symbol,
                side="long" if p.amount > 0 else "short",
                amount=abs(p.amount),
                entry_price=p.entry_price,
                mark_price=None,
                liquidation_price=None,
                leverage=Decimal(p.leverage),
                margin_mode="cross",
            )
            for symbol, p in self.account.positions.items()
            if p.amount != 0 and (symbols is None or symbol in symbols)
        ]

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        self.account.positions.setdefault(symbol, _PaperPosition()).leverage = leverage

    async def set_margin_mode(self, symbol: str, margin_mode: str = "cross") -> None:
        return None

    async def transfer(self, currency: str, amount: Decimal, source: MarketType, target: MarketType) -> None:
        if source is target:
            return
        if source is MarketType.SPOT:
            if self.account.spot.get(currency, ZERO) < amount:
                raise InsufficientBalance(self.venue, f"paper spot {currency} below {amount}")
            self.account.spot[currency] -= amount
            self.account.swap_usdt += amount
        else:
            if self.account.swap_usdt < amount:
                raise InsufficientBalance(self.venue, f"paper swap USDT below {amount}")
            self.account.swap_usdt -= amount
            self.account.spot[currency] = self.account.spot.get(currency, ZERO) + amount

    async def funding_income(self, symbol: str | None, since: datetime) -> list[FundingIncome]:
        return []

    async def place_order(self, intent: OrderIntent) -> OrderState:
        return await self.create_order(intent)  # paper fills at once: its answer is the whole state

    async def create_order(self, intent: OrderIntent) -> OrderState:
        if intent.client_order_id in self.account.orders:  # the same id twice is the same order
            return self.account.orders[intent.client_order_id]
        info = await self.check_order(intent)
        book = await self.order_book(intent.symbol, 50)
        want = contracts_to_base(intent.amount, info.rules.contract_size)
        levels = book.asks if intent.side is Side.BUY else book.bids
        filled, cost = ZERO, ZERO
        for price, size in levels:
            if intent.limit_price is not None and (
                price > intent.limit_price if intent.side is Side.BUY else price < intent.limit_price
            ):
                break
            take = min(size, want - filled)
            filled += take
            cost += take * price
            if filled >= want:
                break
        average = cost / filled if filled else None
        fee = cost * (info.taker_fee or Decimal("0.001"))
        self._apply_fill(intent, info.market_type, info.base, filled, cost, fee)
        state = OrderState(
            venue=self.venue, symbol=intent.symbol, client_order_id=intent.client_order_id,
            order_id=f"paper-{len(self.account.orders) + 1}", side=intent.side,
            order_type="limit" if intent.limit_price is not None else "market", amount=want, filled=filled,
            average_price=average, status="closed" if filled == want else "canceled", fee=fee, fee_currency="USDT",
            time=datetime.now(UTC),
        )  # fmt: skip
        self.account.orders[intent.client_order_id] = state
        return state

    def _apply_fill(
        self, intent: OrderIntent, market_type: MarketType, base: str, filled: Decimal, cost: Decimal, fee: Decimal
    ) -> None:
        sign = 1 if intent.side is Side.BUY else -1
        if market_type is MarketType.SPOT:
            usdt = self.account.spot.get("USDT", ZERO) - sign * cost - fee
            coins = self.account.spot.get(base, ZERO) + sign * filled
            if usdt < 0 or coins < 0:
                raise InsufficientBalance(self.venue, f"paper spot balance too small for {intent.symbol}")
            self.account.spot["USDT"], self.account.spot[base] = usdt, coins
            return
        position = self.account.positions.setdefault(intent.symbol, _PaperPosition())
        new_amount = position.amount + sign * filled
        if position.amount == 0 or (position.amount > 0) == (sign > 0):
            total = abs(position.amount) * position.entry_price + cost
            position.entry_price = total / abs(new_amount) if new_amount else ZERO
        else:  # reducing: realize P&L on the closed part
            closed = min(filled, abs(position.amount))
            price = cost / filled if filled else ZERO
            pnl = closed * (price - position.entry_price) * (1 if position.amount > 0 else -1)
            self.account.swap_usdt += pnl
        position.amount = new_amount
        self.account.swap_usdt -= fee

    async def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderState | None:
        return self.account.orders.get(client_order_id)

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderState | None:
        return self.account.orders.get(client_order_id)  # paper orders are IOC: nothing stays open


def paper_client(client_class: type[VenueClient], account: PaperAccount | None = None) -> VenueClient:
    """A paper-trading client of ``client_class``'s venue: real public data, local fills."""
    paper_class = type(f"Paper{client_class.__name__}", (PaperMixin, client_class), {})
    client = paper_class(Mode.PAPER)
    client.account = account or PaperAccount()  # type: ignore[attr-defined]
    return client
