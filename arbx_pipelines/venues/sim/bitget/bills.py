"""Bitget's USDT-M futures account bill (``GET /api/v2/mix/account/bill``): the futures wallet's ledger.

One bill per money movement, newest first: funding settlements (``contract_settle_fee``), trades
(``open_long`` / ``open_short`` / ``close_long`` / ``close_short`` with the realized PnL as ``amount`` and the
commission as a negative ``fee``), transfers with the spot wallet (``trans_from_exchange`` in, ``trans_to_exchange``
out) and liquidations (``burst_long_loss_query`` / ``burst_short_loss_query``). ``balance`` is the wallet after the
movement. Paged with ``limit`` (max 100) and ``idLessThan``; ``endId`` names the last bill of the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.accounts import FUTURES
from arbx_pipelines.venues.sim.bitget.formats import (
    BILL_ID_BASE,
    Params,
    bounded_limit,
    int_param,
    native_id,
    params_of,
    string_param,
    text,
)
from arbx_pipelines.venues.sim.bitget.market_data import BitgetMarketData
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.orders import ZERO, Fill, LedgerEntry, LedgerKind
from arbx_pipelines.venues.sim.venue_api import SimRequest

BILL_DEFAULT, BILL_MAX = 20, 100


@dataclass(frozen=True)
class Bill:
    bill_id: int
    symbol: str
    amount: Decimal
    fee: Decimal
    business_type: str
    coin: str
    balance: Decimal
    time_ms: int

    def render(self) -> dict[str, Any]:
        return {"billId": str(BILL_ID_BASE + self.bill_id), "symbol": self.symbol, "amount": text(self.amount),
                "fee": text(self.fee), "feeByCoupon": "", "businessType": self.business_type, "coin": self.coin,
                "balance": text(self.balance), "cTime": str(self.time_ms)}  # fmt: skip


def _trade_type(fill: Fill | None, realized: Decimal) -> str:
    buy = fill is None or fill.side == "buy"
    if realized != 0:
        return "close_short" if buy else "close_long"
    return "open_long" if buy else "open_short"


class BitgetBills:
    def __init__(self, venue: SimVenue, market_data: BitgetMarketData) -> None:
        self.venue = venue
        self.data = market_data

    def _bills(self) -> list[Bill]:
        """Every futures-wallet movement, oldest first; a trade's commission and realized PnL make one bill."""
        fills = {fill.trade_id: fill for fill in self.venue.trading.trades}
        entries = [e for e in self.venue.account.ledger if e.kind is not LedgerKind.TRANSFER or e.info == FUTURES]
        trades: dict[int, list[LedgerEntry]] = {}
        for entry in entries:
            if entry.trade_id is not None:
                trades.setdefault(entry.trade_id, []).append(entry)
        bills: list[Bill] = []
        balance = ZERO
        for entry in entries:
            if entry.trade_id is not None and trades[entry.trade_id][0] is not entry:
                continue  # folded into the trade's first entry
            group = trades.get(entry.trade_id, [entry]) if entry.trade_id is not None else [entry]
            fee = sum((e.amount for e in group if e.kind is LedgerKind.COMMISSION), ZERO)
            amount = sum((e.amount for e in group if e.kind is not LedgerKind.COMMISSION), ZERO)
            balance += amount + fee
            native = native_id(self.venue.instrument(entry.symbol)) if entry.symbol else ""
            bills.append(Bill(entry.entry_id, native, amount, fee, self._business_type(entry, group, fills, amount),
                              entry.asset, balance, entry.time_ms))  # fmt: skip
        return bills

    @staticmethod
    def _business_type(entry: LedgerEntry, group: list[LedgerEntry], fills: dict[int, Fill], amount: Decimal) -> str:
        if entry.kind is LedgerKind.FUNDING:
            return "contract_settle_fee"
        if entry.kind is LedgerKind.TRANSFER:
            return "trans_from_exchange" if entry.amount > 0 else "trans_to_exchange"
        if entry.kind is LedgerKind.LIQUIDATION:
            return "burst_long_loss_query" if "long" in entry.info else "burst_short_loss_query"
        realized = sum((e.amount for e in group if e.kind is LedgerKind.REALIZED_PNL), ZERO)
        return _trade_type(fills.get(entry.trade_id or -1), realized)

    def _selected(self, params: Params) -> list[Bill]:
        symbol = string_param(params, "symbol")
        if symbol is not None:
            self.data.swap(symbol)
        business = string_param(params, "businessType")
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        before = int_param(params, "idLessThan")
        return [
            b for b in reversed(self._bills())
            if (symbol is None or b.symbol == symbol) and (business is None or b.business_type == business)
            and (start is None or b.time_ms >= start) and (end is None or b.time_ms <= end)
            and (before is None or BILL_ID_BASE + b.bill_id < before)
        ]  # fmt: skip

    def mix_bill(self, request: SimRequest) -> Any:
        params = params_of(request)
        product = self.data.product_type(params)
        limit = bounded_limit(params, "limit", BILL_DEFAULT, BILL_MAX)
        page = self._selected(params)[:limit] if product == "USDT-FUTURES" else []
        rendered = [bill.render() for bill in page]
        return self.data.ok({"bills": rendered, "endId": rendered[-1]["billId"] if rendered else None})
