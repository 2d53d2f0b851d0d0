"""The simulator's world as plain data: accounts, orders, fills, positions, ledgers, admin overrides and the clock.

``snapshot(simulator)`` turns the live state into JSON-able data (amounts as strings: ``Decimal`` end to end);
``restore(simulator, data)`` puts it back into a freshly built simulator of the same seed, so a simulator stopped and
started again continues where it stopped. ``persistence.py`` writes and reads it.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from arbx_pipelines.venues.sim.accounts import Balance, Position
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import SimError
from arbx_pipelines.venues.sim.market import Override
from arbx_pipelines.venues.sim.orders import Fill, LedgerEntry, LedgerKind, Order, OrderStatus, OrderType, TimeInForce

if TYPE_CHECKING:
    from arbx_pipelines.venues.sim.simulator import Simulator

FORMAT = 1
Json = dict[str, Any]


class WorldError(ValueError):
    """A saved world that cannot be used; the message names what is wrong and how to start fresh."""


def _fill(fill: Fill) -> Json:
    return {"trade_id": fill.trade_id, "order_id": fill.order_id, "symbol": fill.symbol, "side": fill.side,
            "price": str(fill.price), "qty": str(fill.qty), "fee": str(fill.fee), "fee_asset": fill.fee_asset,
            "is_maker": fill.is_maker, "time_ms": fill.time_ms, "realized_pnl": str(fill.realized_pnl)}  # fmt: skip


def _order(order: Order) -> Json:
    return {
        "order_id": order.order_id, "client_order_id": order.client_order_id, "symbol": order.symbol,
        "side": order.side, "type": order.type.value, "time_in_force": order.time_in_force.value,
        "amount": str(order.amount), "price": None if order.price is None else str(order.price),
        "reduce_only": order.reduce_only, "created_ms": order.created_ms, "updated_ms": order.updated_ms,
        "status": order.status.value, "filled": str(order.filled), "cost": str(order.cost),
        "quote_amount": None if order.quote_amount is None else str(order.quote_amount), "extra": order.extra,
        "fills": [_fill(fill) for fill in order.fills],
    }  # fmt: skip


def _entry(entry: LedgerEntry) -> Json:
    return {"entry_id": entry.entry_id, "time_ms": entry.time_ms, "kind": entry.kind.value, "asset": entry.asset,
            "amount": str(entry.amount), "symbol": entry.symbol, "info": entry.info,
            "trade_id": entry.trade_id}  # fmt: skip


def _wallets(engine: SimVenue) -> tuple[Json, dict[str, str]]:
    """Wallets by name, and wallets that are another one under a second name (OKX's unified account)."""
    wallets: Json = {}
    aliases: dict[str, str] = {}
    seen: dict[int, str] = {}
    for name, assets in engine.account.wallets.items():
        if id(assets) in seen:
            aliases[name] = seen[id(assets)]
            continue
        seen[id(assets)] = name
        wallets[name] = {asset: [str(b.free), str(b.locked)] for asset, b in assets.items()}
    return wallets, aliases


def venue_snapshot(engine: SimVenue, module_state: Json) -> Json:
    account, trading = engine.account, engine.trading
    wallets, aliases = _wallets(engine)
    return {
        "settled_until_ms": engine.settled_until_ms,
        "counters": trading.counters() | {"next_entry": account.next_entry_id},
        "wallets": wallets,
        "wallet_aliases": aliases,
        "positions": [{"symbol": p.symbol, "qty": str(p.qty), "entry_price": str(p.entry_price),
                       "isolated_margin": str(p.isolated_margin), "updated_ms": p.updated_ms}
                      for p in account.positions.values()],
        "leverage": dict(account.leverage),
        "margin_mode": dict(account.margin_mode),
        "orders": [_order(order) for order in account.orders.values()],
        "ledger": [_entry(entry) for entry in account.ledger],
        "module": module_state,
    }  # fmt: skip


def snapshot(simulator: Simulator) -> Json:
    market = simulator.market
    return {
        "format": FORMAT,
        "seed": simulator.settings.seed,
        "clock": {"now_ms": simulator.clock.now_ms(), "market_offset_ms": market.offset_ms},
        "overrides": {"funding": [asdict(o) for o in market.funding_overrides],
                      "price": [asdict(o) for o in market.price_overrides]},
        "venues": {name: venue_snapshot(slot.engine, slot.module.save_state())
                   for name, slot in simulator.venues.items()} | simulator.unserved_venues,
    }  # fmt: skip


def check(data: Json, seed: int) -> None:
    """Refuse a world this simulator cannot continue (before anything is built from it)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise WorldError(f"unknown world format {data.get('format') if isinstance(data, dict) else data!r}")
    if data.get("seed") != seed:
        raise WorldError(f"the saved world was made with seed {data.get('seed')}, this simulator has seed {seed}")


def _restore_fill(data: Json) -> Fill:
    return Fill(int(data["trade_id"]), int(data["order_id"]), data["symbol"], data["side"], Decimal(data["price"]),
                Decimal(data["qty"]), Decimal(data["fee"]), data["fee_asset"], bool(data["is_maker"]),
                int(data["time_ms"]), Decimal(data["realized_pnl"]))  # fmt: skip


def _restore_order(engine: SimVenue, data: Json) -> Order:
    def optional(key: str) -> Decimal | None:
        return None if data[key] is None else Decimal(data[key])

    return Order(
        order_id=int(data["order_id"]), client_order_id=data["client_order_id"],
        instrument=engine.instrument(data["symbol"]), side=data["side"], type=OrderType(data["type"]),
        time_in_force=TimeInForce(data["time_in_force"]), amount=Decimal(data["amount"]), price=optional("price"),
        reduce_only=bool(data["reduce_only"]), created_ms=int(data["created_ms"]), updated_ms=int(data["updated_ms"]),
        status=OrderStatus(data["status"]), filled=Decimal(data["filled"]), cost=Decimal(data["cost"]),
        fills=[_restore_fill(fill) for fill in data["fills"]], quote_amount=optional("quote_amount"),
        extra=dict(data["extra"]),
    )  # fmt: skip


def restore_venue(engine: SimVenue, data: Json) -> Json:
    """Put one venue's saved state into ``engine``; returns the venue module's own saved state."""
    account = engine.account
    account.wallets = {
        wallet: {asset: Balance(Decimal(free), Decimal(locked)) for asset, (free, locked) in assets.items()}
        for wallet, assets in data["wallets"].items()
    }
    for alias, wallet in data["wallet_aliases"].items():
        account.wallets[alias] = account.wallets[wallet]
    account.positions = {
        p["symbol"]: Position(engine.instrument(p["symbol"]), Decimal(p["qty"]), Decimal(p["entry_price"]),
                              Decimal(p["isolated_margin"]), int(p["updated_ms"]))
        for p in data["positions"]
    }  # fmt: skip
    account.leverage = {symbol: int(value) for symbol, value in data["leverage"].items()}
    account.margin_mode = dict(data["margin_mode"])
    orders = sorted((_restore_order(engine, item) for item in data["orders"]), key=lambda o: o.order_id)
    account.orders = {order.order_id: order for order in orders}
    account.client_ids = {(order.symbol, order.client_order_id): order.order_id for order in orders}
    account.ledger = [
        LedgerEntry(int(e["entry_id"]), int(e["time_ms"]), LedgerKind(e["kind"]), e["asset"], Decimal(e["amount"]),
                    e["symbol"], e["info"], e["trade_id"])
        for e in data["ledger"]
    ]  # fmt: skip
    counters = data["counters"]
    account.next_entry_id = int(counters["next_entry"])
    trades = sorted((fill for order in orders for fill in order.fills), key=lambda fill: fill.trade_id)
    engine.trading.restore(int(counters["next_order_id"]), int(counters["next_trade_id"]), trades)
    engine.settled_until_ms = int(data["settled_until_ms"])
    return dict(data.get("module") or {})


def restore(simulator: Simulator, data: Json) -> None:
    """Put a checked world (``check``) into a freshly built simulator (its clock already continues the saved one)."""
    market = simulator.market
    market.funding_overrides = [Override(**item) for item in data["overrides"]["funding"]]
    market.price_overrides = [Override(**item) for item in data["overrides"]["price"]]
    for name, venue_data in data["venues"].items():
        slot = simulator.venues.get(name)
        if slot is None:  # not served this time: carried through unchanged, never dropped
            simulator.unserved_venues[name] = venue_data
            continue
        try:
            slot.module.load_state(restore_venue(slot.engine, venue_data))
        except (KeyError, TypeError, ValueError, ArithmeticError, SimError) as exc:
            raise WorldError(f"the saved {name} account cannot be restored ({type(exc).__name__}: {exc})") from exc
