"""The simulated user's money on one venue: wallets per account type, perpetual positions and the ledger.

Wallets are named by role (``spot``, ``futures``, ``funding``); a venue module decides which exist (Binance keeps
spot and USD-M futures apart, OKX has one trading account) and how the start balance is split. Perpetuals settle in
the ``futures`` wallet: its USDT ``free`` is the wallet balance (realized PnL, fees and funding land there) and what
can be spent is :meth:`Account.available_margin`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.margin import initial_margin, liquidation_price, maintenance_margin, unrealized_pnl
from arbx_pipelines.venues.sim.orders import ZERO, LedgerEntry, LedgerKind, Order
from arbx_pipelines.venues.sim.universe import Instrument

SPOT = "spot"
FUTURES = "futures"
FUNDING = "funding"
SETTLE_ASSET = "USDT"
DEFAULT_LEVERAGE = 20


@dataclass
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass
class Position:
    instrument: Instrument
    qty: Decimal = ZERO  # signed base units: > 0 long, < 0 short
    entry_price: Decimal = ZERO
    isolated_margin: Decimal = ZERO
    updated_ms: int = 0

    @property
    def symbol(self) -> str:
        return self.instrument.symbol


@dataclass
class Account:
    wallets: dict[str, dict[str, Balance]]
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    margin_mode: dict[str, str] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    client_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    next_entry_id: int = 1

    # ---- wallets ---------------------------------------------------------------------------------------------

    def balance(self, wallet: str, asset: str) -> Balance:
        if wallet not in self.wallets:
            raise SimError(ErrorKind.BAD_PARAMETER, f"no {wallet} account on this venue")
        return self.wallets[wallet].setdefault(asset, Balance())

    def credit(self, wallet: str, asset: str, amount: Decimal) -> None:
        self.balance(wallet, asset).free += amount

    def debit(self, wallet: str, asset: str, amount: Decimal) -> None:
        balance = self.balance(wallet, asset)
        if balance.free < amount:
            raise SimError(ErrorKind.INSUFFICIENT_BALANCE, f"{wallet} {asset}: {balance.free} < {amount}")
        balance.free -= amount

    def lock(self, wallet: str, asset: str, amount: Decimal) -> None:
        self.debit(wallet, asset, amount)
        self.balance(wallet, asset).locked += amount

    def unlock(self, wallet: str, asset: str, amount: Decimal) -> None:
        balance = self.balance(wallet, asset)
        amount = min(amount, balance.locked)
        balance.locked -= amount
        balance.free += amount

    def record(self, time_ms: int, kind: LedgerKind, asset: str, amount: Decimal, symbol: str = "",
               info: str = "", trade_id: int | None = None) -> LedgerEntry:  # fmt: skip
        entry = LedgerEntry(self.next_entry_id, time_ms, kind, asset, amount, symbol, info, trade_id)
        self.next_entry_id += 1
        self.ledger.append(entry)
        return entry

    # ---- perpetual margin ------------------------------------------------------------------------------------

    def leverage_of(self, symbol: str) -> int:
        return self.leverage.get(symbol, DEFAULT_LEVERAGE)

    def margin_mode_of(self, symbol: str) -> str:
        return self.margin_mode.get(symbol, "cross")

    def position(self, instrument: Instrument) -> Position:
        position = self.positions.get(instrument.symbol)
        if position is None:
            position = self.positions[instrument.symbol] = Position(instrument)
        return position

    def wallet_balance(self) -> Decimal:
        return self.balance(FUTURES, SETTLE_ASSET).free

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.qty != 0]

    def position_margin(self, position: Position) -> Decimal:
        return initial_margin(position.qty, position.entry_price, self.leverage_of(position.symbol))

    def open_order_margin(self) -> Decimal:
        total = ZERO
        for order in self.orders.values():
            if order.status.is_open and order.instrument.is_swap and not order.reduce_only and order.price:
                total += initial_margin(order.remaining, order.price, self.leverage_of(order.symbol))
        return total

    def available_margin(self, mark: Callable[[str], Decimal]) -> Decimal:
        """Wallet + cross unrealized PnL - margin held by positions and open orders (never below zero)."""
        total = self.wallet_balance() - self.open_order_margin()
        for position in self.open_positions():
            if self.margin_mode_of(position.symbol) == "isolated":
                total -= position.isolated_margin
            else:
                total += unrealized_pnl(position.qty, position.entry_price, mark(position.symbol))
                total -= self.position_margin(position)
        return max(ZERO, total)

    def liquidation_price(self, position: Position, mark: Callable[[str], Decimal]) -> Decimal:
        mmr = position.instrument.maint_margin_rate
        if self.margin_mode_of(position.symbol) == "isolated":
            collateral = position.isolated_margin
        else:
            collateral = self.wallet_balance()
            for other in self.open_positions():
                if other is position or self.margin_mode_of(other.symbol) == "isolated":
                    continue
                other_mark = mark(other.symbol)
                collateral += unrealized_pnl(other.qty, other.entry_price, other_mark)
                collateral -= maintenance_margin(other.qty, other_mark, other.instrument.maint_margin_rate)
        return liquidation_price(position.qty, position.entry_price, collateral, mmr)

    def apply_perp_fill(self, instrument: Instrument, signed_qty: Decimal, price: Decimal, time_ms: int) -> Decimal:
        """Move the position by ``signed_qty`` at ``price``; returns the realized PnL (already in the wallet)."""
        position = self.position(instrument)
        old = position.qty
        realized = ZERO
        leverage = Decimal(self.leverage_of(instrument.symbol))
        if old == 0 or (old > 0) == (signed_qty > 0):
            size = abs(old) + abs(signed_qty)
            position.entry_price = (abs(old) * position.entry_price + abs(signed_qty) * price) / size
            position.qty = old + signed_qty
            position.isolated_margin += abs(signed_qty) * price / leverage
        else:
            closing = min(abs(signed_qty), abs(old))
            realized = closing * (price - position.entry_price) * (1 if old > 0 else -1)
            released = position.isolated_margin * closing / abs(old)
            position.isolated_margin -= released
            position.qty = old + signed_qty
            if position.qty == 0:
                position.entry_price, position.isolated_margin = ZERO, ZERO
            elif (position.qty > 0) != (old > 0):  # flipped: the remainder opens at the fill price
                position.entry_price = price
                position.isolated_margin = abs(position.qty) * price / leverage
        position.updated_ms = time_ms
        if realized:
            self.credit(FUTURES, SETTLE_ASSET, realized)
            if self.margin_mode_of(instrument.symbol) == "isolated":
                position.isolated_margin = max(ZERO, position.isolated_margin + min(realized, ZERO))
        return realized
