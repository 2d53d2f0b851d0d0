"""Order handling of one simulated venue: validation, matching against the synthetic book, fees and settlement of
fills into wallets and positions, resting orders, cancels and liquidations.

Rules (venue-neutral; a venue module only renders the outcome):

* amounts must sit on the lot grid and prices on the tick grid; notional below the minimum is rejected unless the
  order is reduce-only;
* spot buys need the quote (locked while an order rests), spot sells the base; perpetual orders need initial margin
  (notional / leverage) out of the available margin; reduce-only orders may only shrink a position and are trimmed to
  its size;
* takers walk the book and pay the taker fee; a resting limit order fills at its own price as maker once the market
  crosses it; market and IOC remainders expire, fill-or-kill fills fully or not at all, post-only never takes;
* spot fees come out of what is received (base on buys, quote on sells), perpetual fees out of the USDT wallet.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from arbx_pipelines.venues.sim.accounts import FUTURES, SETTLE_ASSET, SPOT
from arbx_pipelines.venues.sim.book import Level
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.matching import crosses, fillable_qty, walk, walk_quote
from arbx_pipelines.venues.sim.orders import (
    ZERO,
    Fill,
    LedgerKind,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from arbx_pipelines.venues.sim.universe import Instrument

if TYPE_CHECKING:
    from arbx_pipelines.venues.sim.engine import SimVenue

MATCH_LEVELS = 200


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return (value / step) == (value / step).to_integral_value()


class Trading:
    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.account = venue.account
        self._next_order_id = 8_000_000_000 + (venue.seed % 1000) * 1_000_000
        self._next_trade_id = 500_000_000
        self.trades: list[Fill] = []

    def counters(self) -> dict[str, int]:
        """The next order and trade ids (a restored world continues them: ids are never reused)."""
        return {"next_order_id": self._next_order_id, "next_trade_id": self._next_trade_id}

    def restore(self, next_order_id: int, next_trade_id: int, trades: list[Fill]) -> None:
        self._next_order_id, self._next_trade_id, self.trades = next_order_id, next_trade_id, trades

    # ---- lookups ---------------------------------------------------------------------------------------------

    def order(self, symbol: str, order_id: int | None = None, client_order_id: str | None = None) -> Order:
        """An order of ``symbol`` by id or client order id; UNKNOWN_ORDER when there is none."""
        found: Order | None = None
        if order_id is not None:
            found = self.account.orders.get(order_id)
        elif client_order_id is not None:
            known = self.account.client_ids.get((symbol, client_order_id))
            found = self.account.orders.get(known) if known is not None else None
        if found is None or found.symbol != symbol:
            raise SimError(ErrorKind.UNKNOWN_ORDER, "order does not exist")
        return found

    def open_orders(self, symbol: str | None = None, swap: bool | None = None) -> list[Order]:
        return [
            o for o in self.account.orders.values()
            if o.status.is_open and (symbol is None or o.symbol == symbol)
            and (swap is None or o.instrument.is_swap == swap)
        ]  # fmt: skip

    # ---- placing ---------------------------------------------------------------------------------------------

    def create(self, request: OrderRequest, fill_ratio: Decimal | None = None, rest_unfilled: bool = False) -> Order:
        """Validate, match and record an order; ``fill_ratio`` < 1 caps the fill (the partial-fill fault);
        ``rest_unfilled`` acknowledges it open and leaves it resting without fills, whatever its time in force, until
        it is cancelled (the rest-unfilled fault: a venue whose matching lags its acknowledgement)."""
        venue = self.venue
        venue.sync()
        instrument = venue.instrument(request.symbol)
        now = venue.now_ms()
        if request.client_order_id:
            known = self.account.client_ids.get((instrument.symbol, request.client_order_id))
            if known is not None and self.account.orders[known].status.is_open:
                raise SimError(ErrorKind.DUPLICATE_CLIENT_ORDER_ID, "duplicate client order id")
        book = venue.book(instrument.symbol, MATCH_LEVELS)
        is_buy = request.side == "buy"
        amount = self._validated_amount(request, instrument, book.asks if is_buy else book.bids)
        if request.price is not None and not _on_grid(request.price, instrument.tick_size):
            raise SimError(ErrorKind.PRICE_FILTER, "price not on the tick grid", tick=instrument.tick_size)
        if request.type is OrderType.LIMIT and (request.price is None or request.price <= 0):
            raise SimError(ErrorKind.MISSING_PARAMETER, "limit orders need a positive price", parameter="price")
        reference = request.price if request.type is OrderType.LIMIT else (book.best_ask if is_buy else book.best_bid)
        assert reference is not None
        if request.reduce_only:
            amount = self._reduce_only_amount(instrument, is_buy, amount)
        elif amount * reference < instrument.min_notional:
            raise SimError(ErrorKind.MIN_NOTIONAL, "notional below the minimum", min_notional=instrument.min_notional)
        takes = request.type is OrderType.MARKET or crosses(is_buy, request.price, book)
        if request.time_in_force is TimeInForce.POST_ONLY and takes and not instrument.is_swap:
            raise SimError(ErrorKind.POST_ONLY_REJECTED, "post-only order would take liquidity")
        self._check_funds(instrument, is_buy, amount, reference, request)
        order = Order(
            order_id=self._next_order_id, client_order_id=request.client_order_id or f"sim{self._next_order_id}",
            instrument=instrument, side=request.side, type=request.type, time_in_force=request.time_in_force,
            amount=amount, price=request.price, reduce_only=request.reduce_only, created_ms=now, updated_ms=now,
            quote_amount=request.quote_amount, extra=dict(request.extra),
        )  # fmt: skip
        self._next_order_id += 1
        self.account.orders[order.order_id] = order
        self.account.client_ids[(instrument.symbol, order.client_order_id)] = order.order_id
        levels = book.asks if is_buy else book.bids
        if rest_unfilled:
            self._rest(order)
            order.extra["held"] = True
            return order
        if request.time_in_force is TimeInForce.POST_ONLY and takes:
            order.status = OrderStatus.EXPIRED
            return order
        if request.time_in_force is TimeInForce.FOK and fillable_qty(levels, is_buy, request.price) < amount:
            order.status = OrderStatus.EXPIRED
            return order
        if takes:
            self._take(order, levels, fill_ratio, now)
        if order.remaining > 0 and order.status.is_open:
            if request.type is OrderType.MARKET or request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                order.status = OrderStatus.EXPIRED
            else:
                self._rest(order)
                if fill_ratio is not None:
                    order.extra["held"] = True  # a partial-fill fault leaves the rest unfilled
        return order

    def _validated_amount(self, request: OrderRequest, instrument: Instrument, levels: tuple[Level, ...]) -> Decimal:
        if request.amount is None:
            if request.quote_amount is None or request.type is not OrderType.MARKET:
                raise SimError(ErrorKind.MISSING_PARAMETER, "amount is required", parameter="quantity")
            fills = walk_quote(levels, request.quote_amount, instrument.lot_size)
            amount = sum((q for _, q in fills), ZERO)
            if amount <= 0:
                raise SimError(
                    ErrorKind.MIN_NOTIONAL, "quote amount buys nothing", min_notional=instrument.min_notional
                )
            return amount
        amount = request.amount
        if amount <= 0 or not _on_grid(amount, instrument.lot_size) or amount < instrument.min_qty:
            raise SimError(ErrorKind.LOT_SIZE, "amount not on the lot grid", lot=instrument.lot_size)
        return amount

    def _reduce_only_amount(self, instrument: Instrument, is_buy: bool, amount: Decimal) -> Decimal:
        if not instrument.is_swap:
            raise SimError(ErrorKind.BAD_PARAMETER, "reduce-only applies to perpetuals", parameter="reduceOnly")
        position = self.account.positions.get(instrument.symbol)
        qty = position.qty if position is not None else ZERO
        if qty == 0 or (qty > 0) == is_buy:
            raise SimError(ErrorKind.REDUCE_ONLY_REJECTED, "reduce-only order would not reduce the position")
        return min(amount, abs(qty))

    def _check_funds(self, instrument: Instrument, is_buy: bool, amount: Decimal, price: Decimal,
                     request: OrderRequest) -> None:  # fmt: skip
        account = self.account
        if instrument.is_swap:
            if request.reduce_only:
                return
            position = account.positions.get(instrument.symbol)
            held = position.qty if position is not None else ZERO
            opening = amount if held == 0 or (held > 0) == is_buy else max(ZERO, amount - abs(held))
            leverage = Decimal(account.leverage_of(instrument.symbol))
            needed = opening * price / leverage + opening * price * self.venue.fees.swap_taker
            if opening > 0 and needed > account.available_margin(self.venue.mark_price):
                raise SimError(ErrorKind.INSUFFICIENT_MARGIN, "margin is insufficient")
            return
        if is_buy:
            cost = request.quote_amount if request.quote_amount is not None else amount * price
            if account.balance(SPOT, instrument.quote).free < cost:
                raise SimError(ErrorKind.INSUFFICIENT_BALANCE, "insufficient balance", asset=instrument.quote)
        elif account.balance(SPOT, instrument.base).free < amount:
            raise SimError(ErrorKind.INSUFFICIENT_BALANCE, "insufficient balance", asset=instrument.base)

    def _take(self, order: Order, levels: tuple[Level, ...], fill_ratio: Decimal | None, now: int) -> None:
        limit = order.price if order.type is OrderType.LIMIT else None
        if order.quote_amount is not None and order.type is OrderType.MARKET:
            fills = walk_quote(levels, order.quote_amount, order.instrument.lot_size)
        else:
            fills = walk(levels, order.is_buy, order.amount, limit)
        if fill_ratio is not None:
            cap = (order.amount * fill_ratio / order.instrument.lot_size).to_integral_value(ROUND_DOWN)
            fills = _cap(fills, cap * order.instrument.lot_size)
        for price, qty in fills:
            self._fill(order, price, qty, maker=False, now=now)

    # ---- fills -----------------------------------------------------------------------------------------------

    def _fill(self, order: Order, price: Decimal, qty: Decimal, maker: bool, now: int) -> Fill:
        instrument = order.instrument
        account = self.account
        rate = self.venue.fees.rate(instrument.is_swap, maker)
        realized = ZERO
        if instrument.is_swap:
            fee = price * qty * rate
            realized = account.apply_perp_fill(instrument, qty if order.is_buy else -qty, price, now)
            account.balance(FUTURES, SETTLE_ASSET).free -= fee
            fee_asset = SETTLE_ASSET
        elif order.is_buy:
            fee, fee_asset = qty * rate, instrument.base
            account.balance(SPOT, instrument.quote).free -= price * qty
            account.credit(SPOT, instrument.base, qty - fee)
        else:
            fee, fee_asset = price * qty * rate, instrument.quote
            account.balance(SPOT, instrument.base).free -= qty
            account.credit(SPOT, instrument.quote, price * qty - fee)
        fill = Fill(self._next_trade_id, order.order_id, instrument.symbol, order.side, price, qty, fee, fee_asset,
                    maker, now, realized)  # fmt: skip
        self._next_trade_id += 1
        order.fills.append(fill)
        order.filled += qty
        order.cost += price * qty
        order.updated_ms = now
        order.status = OrderStatus.FILLED if order.remaining <= 0 else OrderStatus.PARTIALLY_FILLED
        self.trades.append(fill)
        if instrument.is_swap:
            account.record(now, LedgerKind.COMMISSION, SETTLE_ASSET, -fee, instrument.symbol, trade_id=fill.trade_id)
            if realized:
                account.record(now, LedgerKind.REALIZED_PNL, SETTLE_ASSET, realized, instrument.symbol,
                               trade_id=fill.trade_id)  # fmt: skip
        return fill

    def _rest(self, order: Order) -> None:
        """Lock what a resting spot order may spend; perpetual orders hold margin via ``open_order_margin``."""
        if order.instrument.is_swap or order.price is None:
            return
        if order.is_buy:
            self.account.lock(SPOT, order.instrument.quote, order.remaining * order.price)
        else:
            self.account.lock(SPOT, order.instrument.base, order.remaining)

    def _release(self, order: Order) -> None:
        if order.instrument.is_swap or order.price is None:
            return
        if order.is_buy:
            self.account.unlock(SPOT, order.instrument.quote, order.remaining * order.price)
        else:
            self.account.unlock(SPOT, order.instrument.base, order.remaining)

    # ---- resting orders, cancels, liquidation ----------------------------------------------------------------

    def match_resting(self, now: int) -> None:
        for order in self.open_orders():
            if order.extra.get("held") or order.price is None:
                continue
            book = self.venue.book(order.symbol, 5, now)
            if not crosses(order.is_buy, order.price, book):
                continue
            if order.reduce_only and order.instrument.is_swap:
                position = self.account.positions.get(order.symbol)
                held = abs(position.qty) if position is not None else ZERO
                if held == 0:
                    self._release(order)
                    order.status = OrderStatus.EXPIRED
                    continue
            self._release(order)
            self._fill(order, order.price, order.remaining, maker=True, now=now)

    def cancel(self, symbol: str, order_id: int | None = None, client_order_id: str | None = None) -> Order:
        self.venue.sync()
        order = self.order(symbol, order_id, client_order_id)
        if not order.status.is_open:
            raise SimError(ErrorKind.CANCEL_UNKNOWN_ORDER, "order is not open")
        self._release(order)
        order.status = OrderStatus.CANCELED
        order.updated_ms = self.venue.now_ms()
        return order

    def liquidate_breached(self, now: int) -> None:
        """Close positions whose mark crossed the liquidation price; the lost margin is recorded."""
        account = self.account
        for position in list(account.open_positions()):
            mark = self.venue.mark_price(position.symbol, now)
            liquidation = account.liquidation_price(position, self.venue.mark_price)
            if liquidation <= 0:
                continue
            if (position.qty > 0 and mark > liquidation) or (position.qty < 0 and mark < liquidation):
                continue
            realized = account.apply_perp_fill(position.instrument, -position.qty, liquidation, now)
            account.record(now, LedgerKind.LIQUIDATION, SETTLE_ASSET, realized, position.symbol, info="liquidated")


def _cap(fills: list[Level], cap: Decimal) -> list[Level]:
    capped: list[Level] = []
    left = cap
    for price, qty in fills:
        if left <= 0:
            break
        take = min(qty, left)
        capped.append((price, take))
        left -= take
    return capped
