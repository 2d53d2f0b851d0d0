"""The invariants a crashed or faulted execution must meet once reconcile has run, checked from outside: the venue
through a plain ccxt client on the simulator, the records through the storage layer.

1. No client order id twice on the venue.
2. The venue's spot and perp amounts of the symbol hedged within one lot, or both flat.
3. The records equal the venue: every venue order recorded with its side, amount and filled amount (base coins),
   no recorded fill the venue lacks or venue trade unrecorded, no order recorded as filled that the venue never saw,
   and the recorded position holds what the venue holds (an ``open`` one when the venue is hedged, none left
   unfinished).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from arbx_pipelines.bench.crash_world import PERP, SPOT, Lots, perp_held, spot_held
from arbx_pipelines.storage.orders import FINAL_ORDER_STATUSES
from arbx_pipelines.storage.venue_audit import AuditPosition, RecordSnapshot

ZERO = Decimal(0)
#: the leg of records that book a change the venue showed but no order of ours made (the hand trade of a drift case)
EXTERNAL = "external"
#: position statuses that mean an execution on it has not finished
UNFINISHED_POSITION = ("opening", "closing", "broken")
#: venue order status -> the recorded statuses that agree with it
AGREEING_STATUS = {"closed": {"closed"}, "canceled": {"canceled", "expired"}, "expired": {"canceled", "expired"}}


@dataclass(frozen=True)
class VenueView:
    """The symbol as the venue shows it: orders by client order id (each occurrence), trades, holdings in coins."""

    orders: tuple[dict[str, Any], ...]
    trades: tuple[dict[str, Any], ...]
    spot: Decimal  # coins held beyond the start balance
    perp: Decimal  # signed: < 0 short


@dataclass
class Verdict:
    duplicate_orders: list[str] = field(default_factory=list)
    naked: str = ""
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.duplicate_orders and not self.naked and not self.mismatches

    def summary(self) -> str:
        parts = []
        if self.duplicate_orders:
            parts.append(f"duplicate orders {self.duplicate_orders}")
        if self.naked:
            parts.append(f"naked leg: {self.naked}")
        parts += self.mismatches
        return "; ".join(parts) or "ok"


def _coins(exchange: Any, symbol: str, value: object) -> Decimal:
    """A ccxt amount in coins (OKX swap amounts are contracts of ``contractSize`` coins)."""
    size = exchange.market(symbol).get("contractSize") or 1
    return Decimal(str(value or 0)) * Decimal(str(size))


def look_at_venue(exchange: Any, spot_at_start: Decimal, hand_orders: frozenset[str] = frozenset()) -> VenueView:
    """The venue's side of the checks; ``hand_orders`` (venue order ids of trades a case made by hand to set up its
    precondition) are left out of the orders and trades, their effect stays in the holdings."""
    orders: list[dict[str, Any]] = []
    trades: list[dict[str, Any]] = []
    for symbol in (SPOT, PERP):
        if exchange.has.get("fetchOrders"):
            raw = exchange.fetch_orders(symbol)
        else:
            raw = exchange.fetch_open_orders(symbol) + exchange.fetch_closed_orders(symbol)
            if exchange.has.get("fetchCanceledOrders"):
                raw += exchange.fetch_canceled_orders(symbol)
        seen: set[str] = set()
        for order in raw:  # seen: venues that list a canceled order among the closed ones too
            if order["id"] in seen or str(order["id"]) in hand_orders:
                continue
            seen.add(order["id"])
            orders.append(
                {
                    "id": str(order["id"]),
                    "client_order_id": str(order["clientOrderId"]),
                    "symbol": symbol,
                    "side": str(order["side"]),
                    "amount": _coins(exchange, symbol, order["amount"]),
                    "filled": _coins(exchange, symbol, order["filled"]),
                    "status": str(order["status"]),
                }
            )
        for trade in exchange.fetch_my_trades(symbol):
            if str(trade["order"]) in hand_orders:
                continue
            trades.append(
                {
                    "id": str(trade["id"]),
                    "order": str(trade["order"]),
                    "symbol": symbol,
                    "side": str(trade["side"]),
                    "amount": _coins(exchange, symbol, trade["amount"]),
                }
            )
    return VenueView(tuple(orders), tuple(trades), spot_held(exchange) - spot_at_start, perp_held(exchange))


@dataclass(frozen=True)
class Start:
    """Where the job started: the venue's holdings (spot relative to the world's start balance) and the recorded
    positions. A rebalance starts from a drifted hedge made by hand: its gap is allowed to stay (reconcile never
    trades to balance; the next rebalance does), never to grow; and a job killed before it changed anything leaves
    records and venue as it found them, hand trade not yet booked."""

    spot: Decimal = ZERO
    perp: Decimal = ZERO
    positions: tuple[AuditPosition, ...] = ()

    @property
    def gap(self) -> Decimal:
        return abs(abs(self.spot) - abs(self.perp))


def check(view: VenueView, records: RecordSnapshot, lots: Lots, start: Start = Start()) -> Verdict:
    verdict = Verdict()
    counts = Counter(o["client_order_id"] for o in view.orders)
    verdict.duplicate_orders = sorted(cid for cid, n in counts.items() if n > 1)
    verdict.naked = _naked(view, lots, start.gap)
    verdict.mismatches = _order_mismatches(view, records) + _fill_mismatches(view, records)
    untouched = (view.spot, view.perp, records.positions) == (start.spot, start.perp, start.positions)
    if not untouched:
        verdict.mismatches += _position_mismatches(view, records, lots)
    return verdict


def _naked(view: VenueView, lots: Lots, allowed_gap: Decimal = ZERO) -> str:
    spot_flat, perp_flat = abs(view.spot) < lots.spot, abs(view.perp) < lots.perp
    if spot_flat and perp_flat:
        return ""
    opposite = (view.spot > 0) != (view.perp > 0)
    gap = abs(abs(view.spot) - abs(view.perp))
    if not spot_flat and not perp_flat and opposite and gap <= max(lots.largest, allowed_gap):
        return ""
    return f"venue holds spot {view.spot} and perp {view.perp} (lots {lots.spot}/{lots.perp})"


def _venue_trade_id(recorded: str) -> str:
    """The venue's trade id of a recorded fill (stored as ``spot:<id>`` / ``swap:<id>``, ids being per market)."""
    return recorded.rsplit(":", 1)[-1]


def _order_mismatches(view: VenueView, records: RecordSnapshot) -> list[str]:
    found: list[str] = []
    recorded = {o.client_order_id: o for o in records.orders if o.leg != EXTERNAL}
    on_venue = {o["client_order_id"] for o in view.orders}
    for order in view.orders:
        cid = order["client_order_id"]
        row = recorded.get(cid)
        if row is None:
            found.append(f"venue order {cid} ({order['side']} {order['filled']}/{order['amount']}) not recorded")
            continue
        if (row.side, row.amount, row.filled) != (order["side"], order["amount"], order["filled"]):
            found.append(
                f"order {cid}: recorded {row.side} {row.filled}/{row.amount}, "
                f"venue {order['side']} {order['filled']}/{order['amount']}"
            )
        if row.status not in AGREEING_STATUS.get(order["status"], {order["status"]}):
            found.append(f"order {cid}: recorded {row.status}, venue {order['status']}")
    for row in recorded.values():
        if row.status not in FINAL_ORDER_STATUSES:
            found.append(f"order {row.client_order_id} left {row.status} after reconcile")
        elif row.client_order_id not in on_venue and (row.filled != 0 or row.status == "closed"):
            found.append(f"order {row.client_order_id} recorded {row.status} {row.filled} but unknown to the venue")
    return found


def _fill_mismatches(view: VenueView, records: RecordSnapshot) -> list[str]:
    found: list[str] = []
    venue_trades = {(t["symbol"], t["id"]): t for t in view.trades}
    recorded: dict[tuple[str, str], Decimal] = {}
    for fill in records.fills:
        if fill.leg == EXTERNAL:
            continue
        key = (fill.symbol, _venue_trade_id(fill.trade_id))
        if key in recorded:
            found.append(f"fill {fill.trade_id} of {fill.symbol} recorded twice")
        recorded[key] = fill.amount
    for key, trade in venue_trades.items():
        if key not in recorded:
            found.append(f"venue trade {key[1]} of {key[0]} ({trade['side']} {trade['amount']}) not recorded")
        elif recorded[key] != trade["amount"]:
            found.append(f"fill {key[1]} of {key[0]}: recorded {recorded[key]}, venue {trade['amount']}")
    found += [f"fill {key[1]} of {key[0]} recorded but not on the venue" for key in recorded if key not in venue_trades]
    return found


def _position_mismatches(view: VenueView, records: RecordSnapshot, lots: Lots) -> list[str]:
    found = [f"position {p.id} left {p.status}" for p in records.positions if p.status in UNFINISHED_POSITION]
    held = [p for p in records.positions if p.status == "open"]
    flat = abs(view.spot) < lots.spot and abs(view.perp) < lots.perp
    if flat:
        found += [f"position {p.id} open ({p.spot_amount}/{p.perp_amount}) but the venue is flat" for p in held]
        return found
    if len(held) != 1:
        found.append(f"venue holds spot {view.spot} / perp {view.perp} but {len(held)} open positions are recorded")
        return found
    (position,) = held
    if (position.spot_amount, position.perp_amount) != (abs(view.spot), abs(view.perp)):
        found.append(
            f"position {position.id}: recorded spot {position.spot_amount} / perp {position.perp_amount}, "
            f"venue spot {view.spot} / perp {view.perp}"
        )
    return found
