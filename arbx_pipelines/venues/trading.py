"""A venue client's order calls: check, place, read, cancel, and the fills of one order.

:class:`~arbx_pipelines.venues.client.VenueClient` takes them from :class:`OrderMixin`; they live apart from the
market-data and account calls because they alone send orders (and the venue's order quirk hooks are here, next to
the calls that use them). The mixin builds on the client's ``venue``, ``exchange``, ``_call``, ``market`` and
``order_book``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.core.sizing import check_leg, round_amount
from arbx_pipelines.core.venue_data import ACKNOWLEDGED, MarketInfo, OrderBook, OrderState, TradeFill
from arbx_pipelines.venues.errors import BelowMinimum, OrderNotFound, VenueError
from arbx_pipelines.venues.parsing import parse_order, parse_trade

T = TypeVar("T")


class OrderMixin:
    """The order calls of :class:`~arbx_pipelines.venues.client.VenueClient`, with their quirk hooks."""

    venue: ClassVar[Venue]
    exchange: Any

    if TYPE_CHECKING:  # provided by VenueClient

        async def _call(self, what: str, call: Callable[[], Awaitable[T]], *, write: bool = False) -> T: ...

        async def market(self, symbol: str) -> MarketInfo: ...

        async def order_book(self, symbol: str, limit: int = 20) -> OrderBook: ...

    # ----- quirk hooks -------------------------------------------------------------------------------------
    def order_params(self, intent: OrderIntent) -> dict[str, Any]:
        params: dict[str, Any] = {"clientOrderId": intent.client_order_id}
        if intent.limit_price is not None and intent.time_in_force:
            params["timeInForce"] = intent.time_in_force
        if intent.reduce_only:
            params["reduceOnly"] = True
        return params

    # ----- orders -----------------------------------------------------------------------------------------
    async def check_order(self, intent: OrderIntent) -> MarketInfo:
        """Precision and minimums, checked before anything is sent."""
        info = await self.market(intent.symbol)
        if round_amount(intent.amount, info.rules) != intent.amount:
            raise BelowMinimum(self.venue, f"{intent.symbol}: amount {intent.amount} is not a multiple of the lot")
        price = intent.limit_price or (await self._reference_price(intent))
        leg = Leg.SPOT if info.market_type is MarketType.SPOT else Leg.PERP
        rejection = check_leg(leg, intent.amount, price, info.rules)
        if rejection is not None:
            raise BelowMinimum(self.venue, f"{intent.symbol}: {rejection.reason}: {rejection.detail}")
        return info

    async def _reference_price(self, intent: OrderIntent) -> Decimal:
        book = await self.order_book(intent.symbol, 5)
        price = book.best_ask if intent.side is Side.BUY else book.best_bid
        if price is None:
            raise VenueError(self.venue, f"{intent.symbol}: empty order book")
        return price

    async def create_order(self, intent: OrderIntent) -> OrderState:
        """Send one order (amount in the market's unit) and return its state. A lost answer raises OutcomeUnknown:
        look it up."""
        state = await self.place_order(intent)
        if state.status == ACKNOWLEDGED:
            refreshed = await self.order_by_client_id(intent.symbol, intent.client_order_id)
            if refreshed is not None:
                return refreshed
        return state

    async def place_order(self, intent: OrderIntent) -> OrderState:
        """The create request alone: its answer, with status :data:`ACKNOWLEDGED` when the venue answered with ids
        only (OKX and Bitget), for the caller to read the order's outcome once it no longer holds the venue slot
        the create needed."""
        info = await self.check_order(intent)
        order_type = "limit" if intent.limit_price is not None else "market"
        raw = await self._call(
            "create_order",
            lambda: self.exchange.create_order(
                intent.symbol,
                order_type,
                intent.side.value,
                float(intent.amount),
                None if intent.limit_price is None else float(intent.limit_price),
                self.order_params(intent),
            ),
            write=True,
        )
        if raw.get("status") is None or raw.get("filled") is None:  # OKX and Bitget answer with ids only
            return OrderState(
                venue=self.venue, symbol=intent.symbol, client_order_id=intent.client_order_id,
                order_id=None if raw.get("id") is None else str(raw["id"]), side=intent.side, order_type=order_type,
                amount=intent.base_amount, filled=ZERO, average_price=None, status=ACKNOWLEDGED,
                raw=dict(raw.get("info") or {}),
            )  # fmt: skip
        return parse_order(self.venue, raw, info, intent.client_order_id)

    def fetch_order_params(self, client_order_id: str) -> dict[str, Any]:
        return {"clientOrderId": client_order_id}

    async def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderState | None:
        """The order with this client order id, or None if the venue never received it."""
        info = await self.market(symbol)
        try:
            raw = await self._call(
                "fetch_order",
                lambda: self.exchange.fetch_order(None, symbol, self.fetch_order_params(client_order_id)),
            )
        except OrderNotFound:
            return None
        return parse_order(self.venue, raw, info, client_order_id)

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderState | None:
        """Cancel if still open; returns the final state (None: the venue never had it)."""
        with contextlib.suppress(OrderNotFound):
            await self._call(
                "cancel_order",
                lambda: self.exchange.cancel_order(None, symbol, self.fetch_order_params(client_order_id)),
                write=True,
            )
        return await self.order_by_client_id(symbol, client_order_id)

    def order_trades_params(self, order_id: str) -> dict[str, Any]:
        return {"orderId": order_id}

    async def order_trades(self, symbol: str, order_id: str, since: datetime | None = None) -> list[TradeFill]:
        """The fills of one order (by the venue's order id), with their fees."""
        info = await self.market(symbol)
        since_ms = None if since is None else int(since.timestamp() * 1000)
        raw = await self._call(
            "fetch_my_trades",
            lambda: self.exchange.fetch_my_trades(symbol, since_ms, None, self.order_trades_params(order_id)),
        )
        # a trade of another order (some venues ignore the order filter) is not this order's fill
        mine = [t for t in raw if t.get("order") is None or str(t["order"]) == order_id]
        return [parse_trade(self.venue, t, info, order_id) for t in mine]
