"""One simulated venue's state and market view: instruments, prices, books, funding, the account and its orders.

``SimVenue`` is what a venue module's request handlers talk to. It is venue-neutral: it speaks unified symbols,
base-currency amounts, ``Decimal`` money and engine error kinds; the venue module converts to and from the wire
format. All state changes run on the server's event loop thread, so nothing here needs a lock.

Every request handler runs after :meth:`SimVenue.sync`, which settles funding for open positions at each settlement
instant passed since the last sync, fills resting limit orders the market has crossed, and liquidates positions whose
mark price crossed the liquidation price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from arbx_pipelines.venues.sim.accounts import FUTURES, SETTLE_ASSET, Account, Balance
from arbx_pipelines.venues.sim.book import BOOK_QUANTUM_MS, OrderBook, build_book
from arbx_pipelines.venues.sim.clock import DAY_MS, SimClock
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.market import MarketModel, next_settlement, settlements_between
from arbx_pipelines.venues.sim.noise import label_key, uniform
from arbx_pipelines.venues.sim.orders import LedgerKind
from arbx_pipelines.venues.sim.settings import FeeSchedule
from arbx_pipelines.venues.sim.trading import Trading
from arbx_pipelines.venues.sim.universe import Instrument


@dataclass(frozen=True)
class FundingSnapshot:
    symbol: str
    rate: Decimal
    next_funding_ms: int
    interval_hours: int
    mark_price: Decimal
    index_price: Decimal
    time_ms: int

    @property
    def last_funding_ms(self) -> int:
        return self.next_funding_ms - self.interval_hours * 3_600_000


@dataclass(frozen=True)
class FundingPoint:
    symbol: str
    time_ms: int
    rate: Decimal
    mark_price: Decimal


@dataclass(frozen=True)
class TickerStats:
    symbol: str
    time_ms: int
    last: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    base_volume: Decimal
    quote_volume: Decimal

    @property
    def change(self) -> Decimal:
        return self.last - self.open

    @property
    def change_percent(self) -> Decimal:
        return (self.change / self.open * 100).quantize(Decimal("0.001")) if self.open else Decimal(0)


def to_tick(value: float, tick: Decimal) -> Decimal:
    """A float price on the instrument's tick grid."""
    return (Decimal(repr(value)) / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick


class SimVenue:
    def __init__(
        self,
        name: str,
        instruments: dict[str, Instrument],
        market: MarketModel,
        clock: SimClock,
        fees: FeeSchedule,
        wallets: dict[str, dict[str, Decimal]],
        seed: int = 0,
    ) -> None:
        self.name = name
        self.instruments = instruments
        self.market = market
        self.clock = clock
        self.fees = fees
        self.seed = seed
        self.account = Account(
            wallets={
                wallet: {asset: Balance(free=amount) for asset, amount in assets.items()}
                for wallet, assets in wallets.items()
            }
        )
        self._book_keys: dict[str, int] = {}
        self._day_stats: dict[str, tuple[int, float, float, float, float]] = {}
        self._book_cache: dict[tuple[str, int, int], OrderBook] = {}
        self.settled_until_ms = clock.now_ms()
        self.trading = Trading(self)
        start = clock.now_ms()
        for wallet, assets in wallets.items():
            for asset, amount in assets.items():
                if amount:
                    self.account.record(start, LedgerKind.TRANSFER, asset, amount, info=wallet)

    # ---- instruments -----------------------------------------------------------------------------------------

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def instrument(self, symbol: str) -> Instrument:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise SimError(ErrorKind.BAD_SYMBOL, f"unknown symbol {symbol}", symbol=symbol)
        return instrument

    def swaps(self) -> list[Instrument]:
        return [i for i in self.instruments.values() if i.is_swap]

    def spots(self) -> list[Instrument]:
        return [i for i in self.instruments.values() if not i.is_swap]

    # ---- prices ----------------------------------------------------------------------------------------------

    def model_price(self, instrument: Instrument, t_ms: int | None = None) -> float:
        when = self.now_ms() if t_ms is None else t_ms
        if instrument.is_swap:
            return self.market.perp_price(self.name, instrument.base, when)
        return self.market.spot_price(self.name, instrument.base, when)

    def mark_price(self, symbol: str, t_ms: int | None = None) -> Decimal:
        instrument = self.instrument(symbol)
        return to_tick(self.model_price(instrument, t_ms), instrument.tick_size / 10)

    def index_price(self, symbol: str, t_ms: int | None = None) -> Decimal:
        instrument = self.instrument(symbol)
        when = self.now_ms() if t_ms is None else t_ms
        return to_tick(self.market.spot_price(self.name, instrument.base, when), instrument.tick_size / 10)

    def last_price(self, symbol: str) -> Decimal:
        instrument = self.instrument(symbol)
        return to_tick(self.model_price(instrument), instrument.tick_size)

    def book(self, symbol: str, levels: int = 100, t_ms: int | None = None) -> OrderBook:
        instrument = self.instrument(symbol)
        when = self.now_ms() if t_ms is None else t_ms
        bucket = when // BOOK_QUANTUM_MS
        cache_key = (symbol, bucket, levels)
        book = self._book_cache.get(cache_key)
        if book is None:
            mid = self.model_price(instrument, bucket * BOOK_QUANTUM_MS)
            key = self._book_keys.get(symbol)
            if key is None:
                key = self._book_keys[symbol] = label_key(self.seed, "book", self.name, symbol)
            book = build_book(instrument, mid, when, key, levels, self.market.offset_ms)
            if len(self._book_cache) > 4096:
                self._book_cache.clear()
            self._book_cache[cache_key] = book
        return book

    def ticker(self, symbol: str) -> TickerStats:
        """24h statistics (recomputed once per simulated minute) with the current last price and book top."""
        instrument = self.instrument(symbol)
        now = self.now_ms()
        minute = now // 60_000
        cached = self._day_stats.get(symbol)
        if cached is None or cached[0] != minute:
            samples = [self.model_price(instrument, now - DAY_MS + k * DAY_MS // 24) for k in range(24)]
            key = label_key(self.seed, "volume", self.name, symbol)
            quote_volume = instrument.depth_usd * 2000 * (0.5 + uniform(key, (now + self.market.offset_ms) // DAY_MS))
            cached = (minute, samples[0], max(samples), min(samples), quote_volume)
            self._day_stats[symbol] = cached
        _, open_, high, low, quote_volume = cached
        last = self.model_price(instrument, now)
        book = self.book(symbol, 5)
        tick = instrument.tick_size
        return TickerStats(
            symbol=symbol, time_ms=now, last=to_tick(last, tick), open=to_tick(open_, tick),
            high=to_tick(max(high, last), tick), low=to_tick(min(low, last), tick),
            bid=book.best_bid, bid_qty=book.bids[0][1], ask=book.best_ask, ask_qty=book.asks[0][1],
            base_volume=to_tick(quote_volume / last, instrument.lot_size),
            quote_volume=to_tick(quote_volume, Decimal("0.0001")),
        )  # fmt: skip

    # ---- funding ---------------------------------------------------------------------------------------------

    def funding_rate_at(self, instrument: Instrument, settle_ms: int) -> Decimal:
        rate = self.market.funding_rate(self.name, instrument.base, instrument.funding_interval_hours, settle_ms)
        return Decimal(repr(rate)).quantize(Decimal("0.00000001"))

    def funding(self, symbol: str) -> FundingSnapshot:
        instrument = self.instrument(symbol)
        if not instrument.is_swap:
            raise SimError(ErrorKind.BAD_SYMBOL, f"{symbol} is not a perpetual", symbol=symbol)
        now = self.now_ms()
        upcoming = next_settlement(instrument.funding_interval_hours, now)
        return FundingSnapshot(
            symbol=symbol, rate=self.funding_rate_at(instrument, upcoming), next_funding_ms=upcoming,
            interval_hours=instrument.funding_interval_hours, mark_price=self.mark_price(symbol, now),
            index_price=self.index_price(symbol, now), time_ms=now,
        )  # fmt: skip

    def funding_history(self, symbol: str, start_ms: int, end_ms: int) -> list[FundingPoint]:
        """Every settlement in ``[start_ms, end_ms]`` (``end_ms`` capped at now), oldest first."""
        instrument = self.instrument(symbol)
        end_ms = min(end_ms, self.now_ms())
        times = settlements_between(instrument.funding_interval_hours, start_ms - 1, end_ms)
        return [FundingPoint(symbol, t, self.funding_rate_at(instrument, t), self.mark_price(symbol, t)) for t in times]

    # ---- account settings and transfers -----------------------------------------------------------------------

    def set_leverage(self, symbol: str, leverage: int) -> int:
        instrument = self.instrument(symbol)
        if not instrument.is_swap or not 1 <= leverage <= instrument.max_leverage:
            raise SimError(ErrorKind.LEVERAGE_INVALID, f"leverage {leverage} is not valid",
                           max_leverage=instrument.max_leverage)  # fmt: skip
        self.account.leverage[symbol] = leverage
        return leverage

    def set_margin_mode(self, symbol: str, mode: str) -> str:
        """``cross`` or ``isolated``; refused while the symbol has a position or open orders."""
        instrument = self.instrument(symbol)
        if mode not in ("cross", "isolated") or not instrument.is_swap:
            raise SimError(ErrorKind.BAD_PARAMETER, f"margin mode {mode!r} is not valid", parameter="marginType")
        if self.account.margin_mode_of(symbol) == mode:
            raise SimError(ErrorKind.MARGIN_MODE_UNCHANGED, "margin mode unchanged")
        position = self.account.positions.get(symbol)
        if (position is not None and position.qty != 0) or self.trading.open_orders(symbol):
            raise SimError(ErrorKind.MARGIN_MODE_LOCKED, "position or open orders exist")
        self.account.margin_mode[symbol] = mode
        return mode

    def transfer(self, asset: str, amount: Decimal, source: str, target: str) -> int:
        """Move ``amount`` between wallets; returns the ledger id (the venue's transfer id)."""
        if amount <= 0:
            raise SimError(ErrorKind.BAD_PARAMETER, "amount must be positive", parameter="amount")
        self.sync()
        if source == FUTURES and asset == SETTLE_ASSET:
            available = self.account.available_margin(self.mark_price)
            if amount > available:
                raise SimError(ErrorKind.INSUFFICIENT_BALANCE, "exceeds the transferable futures balance")
        self.account.debit(source, asset, amount)
        self.account.credit(target, asset, amount)
        now = self.now_ms()
        self.account.record(now, LedgerKind.TRANSFER, asset, -amount, info=source)
        return self.account.record(now, LedgerKind.TRANSFER, asset, amount, info=target).entry_id

    # ---- keeping the account in step with time ----------------------------------------------------------------

    def sync(self) -> None:
        """Settle funding, fill crossed resting orders and liquidate, up to now."""
        now = self.now_ms()
        if now > self.settled_until_ms:
            self._settle_funding(self.settled_until_ms, now)
            self.settled_until_ms = now
        self.trading.match_resting(now)
        self.trading.liquidate_breached(now)

    def _settle_funding(self, after_ms: int, until_ms: int) -> None:
        account = self.account
        for position in list(account.open_positions()):
            instrument = position.instrument
            for settle_ms in settlements_between(instrument.funding_interval_hours, after_ms, until_ms):
                if position.qty == 0:
                    break
                rate = self.funding_rate_at(instrument, settle_ms)
                mark = self.mark_price(instrument.symbol, settle_ms)
                payment = (-position.qty * mark * rate).quantize(Decimal("0.00000001"))
                account.credit(FUTURES, SETTLE_ASSET, payment)
                if account.margin_mode_of(instrument.symbol) == "isolated":
                    position.isolated_margin += payment
                account.record(settle_ms, LedgerKind.FUNDING, SETTLE_ASSET, payment, instrument.symbol,
                               info=f"rate={rate}")  # fmt: skip
