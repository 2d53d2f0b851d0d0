"""Margin arithmetic of USDT-margined perpetuals (pure): PnL, maintenance margin, liquidation price.

Liquidation is where collateral + unrealized PnL = maintenance margin (``mmr`` x notional at that price):

* long:  C + q (P - E) = mmr q P   ->  P = (q E - C) / (q (1 - mmr))
* short: C + q (E - P) = mmr q P   ->  P = (C + q E) / (q (1 + mmr))

with ``q`` the absolute size. Isolated: C is the position's own margin. Cross: C is the wallet plus the other
positions' unrealized PnL minus their maintenance margin. Binance, OKX and Bitget use this form (with tiered
``mmr``); one tier per instrument is enough for a small account.
"""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)


def unrealized_pnl(qty: Decimal, entry: Decimal, mark: Decimal) -> Decimal:
    """``qty`` signed (negative = short)."""
    return qty * (mark - entry)


def maintenance_margin(qty: Decimal, mark: Decimal, mmr: Decimal) -> Decimal:
    return abs(qty) * mark * mmr


def liquidation_price(qty: Decimal, entry: Decimal, collateral: Decimal, mmr: Decimal) -> Decimal:
    """Zero when there is no position or the collateral can never be exhausted (as the venues report it)."""
    size = abs(qty)
    if size == 0:
        return ZERO
    if qty > 0:
        price = (size * entry - collateral) / (size * (1 - mmr))
    else:
        price = (collateral + size * entry) / (size * (1 + mmr))
    return price if price > 0 else ZERO


def initial_margin(qty: Decimal, price: Decimal, leverage: int) -> Decimal:
    return abs(qty) * price / Decimal(leverage)
