"""OKX account bills (``account/bills`` last 7 days, ``account/bills-archive`` last 3 months): one bill per
balance change of the trading account, newest first, with the balance after it (``bal``).

Built from the engine's ledger (transfers, swap fees and PnL, funding, liquidations) and spot fills (one bill per
currency that moved). Types and subtypes are OKX's: 1 transfer (11 in, 12 out), 2 trade (1 buy, 2 sell, 3/4 open
long/short, 5/6 close long/short), 5 liquidation (104/105), 8 funding fee (173 expense, 174 income).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.accounts import FUNDING, FUTURES, SPOT
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.okx.formats import (
    contracts,
    envelope,
    inst_id,
    int_param,
    limit_param,
    ms,
    num,
    optional,
    query_params,
)
from arbx_pipelines.venues.sim.orders import ZERO, Fill, LedgerEntry, LedgerKind
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

DAY_MS = 86_400_000
BILL_ID_BASE = 600_000_000_000_000_000
TRADING_WALLETS = (FUTURES, SPOT)


@dataclass
class Bill:
    time_ms: int
    ccy: str
    change: Decimal
    type: str
    sub_type: str
    instrument: Instrument | None = None
    fill: Fill | None = None
    fee: Decimal = ZERO
    pnl: Decimal = ZERO
    size: Decimal = ZERO
    extra: dict[str, str] = field(default_factory=dict)


def _swap_sub_type(fill: Fill) -> str:
    closing = fill.realized_pnl != 0
    if fill.side == "buy":
        return "6" if closing else "3"
    return "5" if closing else "4"


class OkxBills:
    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue

    def _events(self) -> list[Bill]:
        by_trade: dict[int, list[LedgerEntry]] = defaultdict(list)
        bills: list[tuple[int, int, Bill]] = []
        for entry in self.venue.account.ledger:
            if entry.trade_id is not None:
                by_trade[entry.trade_id].append(entry)
                continue
            bill = self._ledger_bill(entry)
            if bill is not None:
                bills.append((entry.time_ms, len(bills), bill))
        for fill in self.venue.trading.trades:
            instrument = self.venue.instrument(fill.symbol)
            if instrument.is_swap:
                entries = by_trade.get(fill.trade_id, [])
                change = sum((e.amount for e in entries), ZERO)
                bills.append((fill.time_ms, len(bills), Bill(
                    fill.time_ms, instrument.quote, change, "2", _swap_sub_type(fill), instrument, fill,
                    fee=-fill.fee, pnl=fill.realized_pnl, size=contracts(instrument, fill.qty))))  # fmt: skip
                continue
            sub = "1" if fill.side == "buy" else "2"
            base_change = fill.qty - fill.fee if fill.side == "buy" else -fill.qty
            quote_change = -fill.quote_qty if fill.side == "buy" else fill.quote_qty - fill.fee
            base_fee = -fill.fee if fill.fee_asset == instrument.base else ZERO
            quote_fee = -fill.fee if fill.fee_asset == instrument.quote else ZERO
            for ccy, change, fee in ((instrument.base, base_change, base_fee),
                                     (instrument.quote, quote_change, quote_fee)):  # fmt: skip
                bills.append((fill.time_ms, len(bills), Bill(fill.time_ms, ccy, change, "2", sub, instrument, fill,
                                                             fee=fee, size=fill.qty)))  # fmt: skip
        bills.sort(key=lambda item: (item[0], item[1]))
        return [bill for _, _, bill in bills]

    def _ledger_bill(self, entry: LedgerEntry) -> Bill | None:
        instrument = self.venue.instrument(entry.symbol) if entry.symbol else None
        if entry.kind is LedgerKind.TRANSFER:
            if entry.info not in TRADING_WALLETS:
                return None
            return Bill(entry.time_ms, entry.asset, entry.amount, "1", "11" if entry.amount > 0 else "12")
        if entry.kind is LedgerKind.FUNDING and instrument is not None:
            mark = self.venue.mark_price(instrument.symbol, entry.time_ms)
            rate = Decimal(entry.info.partition("=")[2] or "0")
            size = abs(entry.amount / (mark * rate)) if rate and mark else ZERO
            return Bill(entry.time_ms, entry.asset, entry.amount, "8", "174" if entry.amount >= 0 else "173",
                        instrument, pnl=entry.amount,
                        size=contracts(instrument, size).quantize(Decimal("0.01")))  # fmt: skip
        if entry.kind is LedgerKind.LIQUIDATION and instrument is not None:
            return Bill(entry.time_ms, entry.asset, entry.amount, "5", "104" if entry.amount >= 0 else "105",
                        instrument, pnl=entry.amount)  # fmt: skip
        return None

    def _payload(self, bill_id: int, bill: Bill, balance: Decimal) -> dict[str, Any]:
        instrument, fill = bill.instrument, bill.fill
        mode = self.venue.account.margin_mode_of(instrument.symbol) if instrument and instrument.is_swap else "cash"
        return {
            "bal": num(balance), "balChg": num(bill.change), "billId": str(bill_id), "ccy": bill.ccy,
            "clOrdId": "", "execType": ("M" if fill.is_maker else "T") if fill else "", "fee": num(bill.fee),
            "fillFwdPx": "", "fillIdxPx": "", "fillMarkPx": "", "fillMarkVol": "", "fillPxUsd": "", "fillPxVol": "",
            "fillTime": ms(fill.time_ms) if fill else "", "from": "",
            "instId": inst_id(instrument) if instrument else "",
            "instType": ("SWAP" if instrument.is_swap else "SPOT") if instrument else "", "interest": "0",
            "mgnMode": mode if instrument else "", "notes": "", "ordId": str(fill.order_id) if fill else "",
            "pnl": num(bill.pnl), "posBal": "0", "posBalChg": "0", "px": num(fill.price) if fill else "",
            "subType": bill.sub_type, "sz": num(bill.size), "tag": "", "to": "",
            "tradeId": str(fill.trade_id) if fill else "", "ts": ms(bill.time_ms), "type": bill.type,
        }  # fmt: skip

    def _list(self, request: SimRequest, days: int) -> Any:
        params = query_params(request)
        limit = limit_param(params)
        kind, sub, ccy = optional(params, "type"), optional(params, "subType"), optional(params, "ccy")
        inst_kind, mode = optional(params, "instType"), optional(params, "mgnMode")
        ct_type = optional(params, "ctType")
        after, before = int_param(params, "after"), int_param(params, "before")
        begin, end = int_param(params, "begin"), int_param(params, "end")
        oldest = self.venue.now_ms() - days * DAY_MS
        balances: dict[str, Decimal] = defaultdict(Decimal)
        rows: list[dict[str, Any]] = []
        for index, bill in enumerate(self._events()):
            balances[bill.ccy] += bill.change
            bill_id = BILL_ID_BASE + index
            row = self._payload(bill_id, bill, balances[bill.ccy])
            checks = ((kind, row["type"]), (sub, row["subType"]), (ccy, row["ccy"]), (inst_kind, row["instType"]),
                      (mode, row["mgnMode"]))  # fmt: skip
            if any(wanted is not None and wanted != value for wanted, value in checks):
                continue
            if ct_type is not None and row["instType"] != "SWAP":
                continue
            if bill.time_ms < oldest or (begin is not None and bill.time_ms < begin):
                continue
            if (end is not None and bill.time_ms > end) or (after is not None and bill_id >= after):
                continue
            if before is not None and bill_id <= before:
                continue
            rows.append(row)
        rows.reverse()
        return envelope(rows[-limit:] if before is not None and after is None else rows[:limit])

    def funding_account(self, request: SimRequest) -> Any:
        """``asset/bills``: the funding account's changes (transfers from/to the trading account), newest first."""
        params = query_params(request)
        limit = limit_param(params)
        ccy = optional(params, "ccy")
        balances: dict[str, Decimal] = defaultdict(Decimal)
        rows: list[dict[str, Any]] = []
        for entry in self.venue.account.ledger:
            if entry.kind is not LedgerKind.TRANSFER or entry.info != FUNDING:
                continue
            balances[entry.asset] += entry.amount
            if ccy is None or ccy == entry.asset:
                rows.append({"balChg": num(entry.amount), "bal": num(balances[entry.asset]),
                             "billId": str(entry.entry_id), "ccy": entry.asset, "clientId": "", "notes": "",
                             "ts": ms(entry.time_ms), "type": "130" if entry.amount > 0 else "131"})  # fmt: skip
        rows.reverse()
        return envelope(rows[:limit])

    def recent(self, request: SimRequest) -> Any:
        return self._list(request, 7)

    def archive(self, request: SimRequest) -> Any:
        return self._list(request, 92)
