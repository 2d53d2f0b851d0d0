"""Bitget's spot wallet records: the spot bills (``GET /api/v2/spot/account/bills``, ccxt ``fetch_ledger`` without a
market type) and the transfer records (``GET /api/v2/spot/account/transferRecords``, ccxt ``fetch_transfers``).

A spot bill is one coin's movement, newest first: each side of a trade (``transaction`` / ``buy`` or ``sell``, the
fee charged in that coin as a negative ``fees``; ``size`` is the whole change of the balance, so ``balance - size`` is
the balance before, as ccxt reads it) and each transfer with the futures wallet (``transfer`` / ``transfer_in`` or
``transfer_out``). ``balance`` is the coin's spot balance after the movement, counted back from today's balance.
Paged with ``limit`` and ``idLessThan``; ids are the engine's ledger / trade ids above ``BILL_ID_BASE``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.accounts import SPOT
from arbx_pipelines.venues.sim.bitget.account import WALLET_OF_TYPE
from arbx_pipelines.venues.sim.bitget.formats import BILL_ID_BASE, bounded_limit, int_param, params_of, required, text
from arbx_pipelines.venues.sim.bitget.market_data import BitgetMarketData
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.orders import ZERO, LedgerEntry, LedgerKind
from arbx_pipelines.venues.sim.venue_api import SimRequest

RECORDS_DEFAULT, RECORDS_MAX = 100, 500
#: trade bills get ids of their own, above the ledger's (a trade moves two coins: base and quote)
TRADE_BILL_BASE = 10**12
TYPE_OF_WALLET = {wallet: name for name, wallet in WALLET_OF_TYPE.items()}


@dataclass(frozen=True)
class SpotBill:
    bill_id: int
    coin: str
    group_type: str
    business_type: str
    size: Decimal
    fees: Decimal
    time_ms: int
    balance: Decimal = ZERO

    def render(self) -> dict[str, Any]:
        return {"cTime": str(self.time_ms), "coin": self.coin, "groupType": self.group_type,
                "businessType": self.business_type, "size": text(self.size), "balance": text(self.balance),
                "fees": text(self.fees), "billId": str(BILL_ID_BASE + self.bill_id)}  # fmt: skip


def _transfers(ledger: list[LedgerEntry]) -> list[tuple[LedgerEntry, LedgerEntry]]:
    """(out, in) ledger pairs of each transfer between wallets (a start balance is a lone credit, not a transfer)."""
    entries = [e for e in ledger if e.kind is LedgerKind.TRANSFER]
    return [(a, b) for a, b in itertools.pairwise(entries)
            if a.amount < 0 and b.entry_id == a.entry_id + 1 and b.asset == a.asset]  # fmt: skip


class BitgetSpotRecords:
    def __init__(self, venue: SimVenue, market_data: BitgetMarketData) -> None:
        self.venue = venue
        self.data = market_data

    def _bills(self) -> list[SpotBill]:
        """Every spot-wallet movement, oldest first, with the balance after it."""
        moves: list[SpotBill] = []
        for out, into in _transfers(self.venue.account.ledger):
            for entry in (out, into):
                if entry.info == SPOT:
                    kind = "transfer_in" if entry.amount > 0 else "transfer_out"
                    moves.append(SpotBill(entry.entry_id, entry.asset, "transfer", kind, entry.amount, ZERO,
                                          entry.time_ms))  # fmt: skip
        for fill in self.venue.trading.trades:
            instrument = self.venue.instrument(fill.symbol)
            if instrument.is_swap:
                continue
            sign = 1 if fill.side == "buy" else -1
            base_fee = fill.fee if fill.fee_asset == instrument.base else ZERO
            quote_fee = fill.fee if fill.fee_asset == instrument.quote else ZERO
            bill_id = TRADE_BILL_BASE + 2 * fill.trade_id
            moves.append(SpotBill(bill_id, instrument.base, "transaction", fill.side, sign * fill.qty - base_fee,
                                  -base_fee, fill.time_ms))  # fmt: skip
            moves.append(SpotBill(bill_id + 1, instrument.quote, "transaction", fill.side,
                                  -sign * fill.quote_qty - quote_fee, -quote_fee, fill.time_ms))  # fmt: skip
        moves.sort(key=lambda bill: (bill.time_ms, bill.bill_id))
        wallet = self.venue.account.wallets[SPOT]
        balances = {coin: balance.total for coin, balance in wallet.items()}
        bills: list[SpotBill] = []
        for move in reversed(moves):
            after = balances.get(move.coin, ZERO)
            balances[move.coin] = after - move.size
            bills.append(SpotBill(move.bill_id, move.coin, move.group_type, move.business_type, move.size,
                                  move.fees, move.time_ms, after))  # fmt: skip
        bills.reverse()
        return bills

    def spot_bills(self, request: SimRequest) -> Any:
        params = params_of(request)
        coin = (params.get("coin") or "").upper() or None
        group, business = params.get("groupType"), params.get("businessType")
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        before = int_param(params, "idLessThan")
        limit = bounded_limit(params, "limit", RECORDS_DEFAULT, RECORDS_MAX)
        rows = [
            b.render() for b in reversed(self._bills())
            if coin in (None, b.coin) and group in (None, b.group_type) and business in (None, b.business_type)
            and (start is None or b.time_ms >= start) and (end is None or b.time_ms <= end)
            and (before is None or BILL_ID_BASE + b.bill_id < before)
        ]  # fmt: skip
        return self.data.ok(rows[:limit])

    def transfer_records(self, request: SimRequest) -> Any:
        """Transfers of ``coin`` out of ``fromType`` (both required, as on Bitget), newest first."""
        params = params_of(request)
        coin = required(params, "coin").upper()
        source = required(params, "fromType").lower()
        if source not in WALLET_OF_TYPE:
            raise SimError(ErrorKind.BAD_PARAMETER, "fromType", parameter="fromType")
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        before = int_param(params, "idLessThan")
        limit = bounded_limit(params, "limit", RECORDS_DEFAULT, RECORDS_MAX)
        rows = [
            {"coin": into.asset, "status": "Successful", "toType": TYPE_OF_WALLET.get(into.info, into.info),
             "toSymbol": "", "fromType": source, "fromSymbol": "", "size": text(into.amount),
             "ts": str(into.time_ms), "clientOid": "", "transferId": str(BILL_ID_BASE + into.entry_id)}
            for out, into in reversed(_transfers(self.venue.account.ledger))
            if out.asset == coin and out.info == WALLET_OF_TYPE[source]
            and (start is None or into.time_ms >= start) and (end is None or into.time_ms <= end)
            and (before is None or BILL_ID_BASE + into.entry_id < before)
        ]  # fmt: skip
        return self.data.ok(rows[:limit])
