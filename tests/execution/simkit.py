"""Helpers for execution tests on the simulated venues: a fresh simulator, its admin endpoints over HTTP, stock
ccxt clients wired to it, and execution dependencies on a fresh database."""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
from sqlalchemy.engine import make_url

from arbx_pipelines.config.adapters import strategy_params
from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.core.decision import StrategyParams
from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.execution.context import ExecutionDeps, ExecutionSettings
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.state import DatabaseState
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import (
    DEFAULT_API_KEY,
    DEFAULT_PASSPHRASE,
    DEFAULT_SECRET,
    REPRODUCIBLE_MARKET_START_MS,
    SimSettings,
)

CREDENTIALS = {"api_key": DEFAULT_API_KEY, "secret": DEFAULT_SECRET, "passphrase": DEFAULT_PASSPHRASE}
#: client timeout in tests: as long as a real venue's, because the suite's four workers load two cores and a
#: simulator thread starved for a second must not fail a read (it did, on a market load)
CLIENT_TIMEOUT_MS = 10_000
#: for the tests of hanging requests: short enough that a "timeout after accept" fault (its hang set longer still,
#: FAULT_HANG_MS) shows within seconds, long enough that an ordinary read on a loaded machine does not time out (1 s
#: did: a depth read under the suite's load)
FAULT_CLIENT_TIMEOUT_MS = 3000
FAULT_HANG_MS = 4500
ORDER_ENDPOINTS = {
    ("binance", "spot"): "POST /api/v3/order",
    ("binance", "perp"): "POST /fapi/v1/order",
    ("bitget", "spot"): "POST /api/v2/spot/trade/place-order",
    ("bitget", "perp"): "POST /api/v2/mix/order/place-order",
    ("okx", "spot"): "POST /api/v5/trade/batch-orders",  # ccxt places OKX orders as one-order batches
    ("okx", "perp"): "POST /api/v5/trade/batch-orders",  # both legs: one endpoint
}
VENUES = ("binance", "okx", "bitget")


def start_sim(**overrides: Any) -> SimServer:
    """A simulator on a free port with the same market on every run: a fixed market start and a clock that moves
    only when a test advances it."""
    values: dict[str, Any] = {
        "port": 0,
        "seed": 7,
        "history_dir": None,
        "venues": ("binance",),
        "market_start_ms": REPRODUCIBLE_MARKET_START_MS,
        "clock_running": False,
    }
    values.update(overrides)
    return SimServer(SimSettings(**values)).start()


class Admin:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/_admin{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/faults", rule))

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    def advance_hours(self, hours: float) -> int:
        return int(self.call("POST", "/time", {"advance_hours": hours})["time_ms"])

    def time_ms(self) -> int:
        return int(self.call("GET", "/state")["time_ms"])

    def set_funding(self, venue: str, symbol: str, rate: float) -> None:
        self.call("POST", "/funding", {"venue": venue, "symbol": symbol, "rate": rate})

    def end_funding(self) -> None:
        self.call("DELETE", "/funding")

    def set_price(self, venue: str | None, symbol: str, factor: float) -> None:
        self.call("POST", "/price", {"venue": venue, "symbol": symbol, "factor": factor})

    def account(self, venue: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/venues/{venue}/account"))

    def set_balance(self, venue: str, wallet: str, asset: str, amount: Decimal | float) -> None:
        self.call("POST", f"/venues/{venue}/balance", {"wallet": wallet, "asset": asset, "amount": str(amount)})


def venue_client(
    server: SimServer, venue: Venue = Venue.BINANCE, *, timeout_ms: int = CLIENT_TIMEOUT_MS
) -> VenueClient:
    """The venue client the execution layer uses. Its ccxt throttle (50 ms a request on Binance, calibrated for the
    real venue) is off here only to keep tests fast; the simulator's own 429s test rate limiting."""
    client = make_client(venue, Mode.SIM, credentials=CREDENTIALS, sim_url=server.base_url)
    client.exchange.timeout = timeout_ms
    client.exchange.enableRateLimit = False
    return client


def ccxt_client(server: SimServer, venue: str = "binance") -> Any:
    """A plain synchronous ccxt client on the simulator: what a test uses to check the venue independently."""
    exchange = wire(getattr(ccxt, venue)({"enableRateLimit": False}), server.base_url)
    exchange.load_markets()
    return exchange


def fast_settings(**overrides: Any) -> ExecutionSettings:
    values: dict[str, Any] = {"order_timeout_s": 20.0, "backoff_s": 0.05, "backoff_max_s": 0.5, "leverage": 5}
    values.update(overrides)
    return ExecutionSettings(**values)


_MIGRATED_SQLITE: list[Path] = []


def migrate(db_url: str) -> None:
    """Apply the migrations; a SQLite file is copied from one migrated once per test session (same schema, faster)."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        upgrade(db_url)
        return
    target = Path(url.database)
    if not _MIGRATED_SQLITE:
        template = Path(tempfile.mkdtemp(prefix="arbx-schema-")) / "template.db"
        upgrade(f"sqlite:///{template}")
        _MIGRATED_SQLITE.append(template)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_MIGRATED_SQLITE[0], target)


def declared_inventory(inventory: dict[str, dict[str, Any]]) -> StrategyParams:
    """The default strategy with ``strategy.spot_inventory`` set to ``inventory``, read the way ``arbx.yaml`` is."""
    return strategy_params(ArbxConfig.model_validate({"strategy": {"spot_inventory": inventory}}))


def make_deps(db_url: str, **overrides: Any) -> ExecutionDeps:
    migrate(db_url)
    engine = make_engine(db_url)
    values: dict[str, Any] = {
        "engine": engine,
        "state": DatabaseState(engine),
        "alerts": AlertSink(engine),
        "settings": fast_settings(),
    }
    values.update(overrides)
    return ExecutionDeps(**values)


@dataclass(frozen=True)
class VenueOrder:
    client_order_id: str
    symbol: str
    side: str
    amount: Decimal
    filled: Decimal
    status: str


def _base(exchange: Any, symbol: str, value: object) -> Decimal:
    """A ccxt amount in coins (OKX swap amounts are contracts of ``contractSize`` coins)."""
    size = exchange.market(symbol).get("contractSize") or 1
    return Decimal(str(value or 0)) * Decimal(str(size))


def venue_orders(exchange: Any, symbols: Iterable[str]) -> list[VenueOrder]:
    """Every order the venue has for these symbols, as the venue reports it (open, closed and canceled)."""
    found: dict[str, VenueOrder] = {}
    for symbol in symbols:
        if exchange.has.get("fetchOrders"):
            raw_orders = exchange.fetch_orders(symbol)
        else:
            raw_orders = exchange.fetch_open_orders(symbol) + exchange.fetch_closed_orders(symbol)
            if exchange.has.get("fetchCanceledOrders"):
                raw_orders += exchange.fetch_canceled_orders(symbol)
        for raw in raw_orders:
            found[f"{symbol}:{raw['id']}"] = VenueOrder(
                str(raw["clientOrderId"]),
                symbol,
                str(raw["side"]),
                _base(exchange, symbol, raw["amount"]),
                _base(exchange, symbol, raw["filled"]),
                str(raw["status"]),
            )
    return list(found.values())


def venue_trades(exchange: Any, symbol: str) -> list[dict[str, Any]]:
    """The account's trades of ``symbol`` with amounts in coins."""
    trades = exchange.fetch_my_trades(symbol)
    return [t | {"amount": _base(exchange, symbol, t["amount"])} for t in trades]


def venue_pnl(
    exchange: Any, spot: str, perp: str, extra_spot: Sequence[dict[str, Any]] = ()
) -> tuple[Decimal, Decimal, Decimal]:
    """(realized P&L, funding, spot buy VWAP) from the venue's own trade list and funding ledger, the way
    :mod:`arbx_pipelines.execution.pnl` books it; ``extra_spot`` adds spot trades no order made (external changes)."""
    spot_trades = venue_trades(exchange, spot) + list(extra_spot)
    perp_trades = venue_trades(exchange, perp)
    funding = sum((Decimal(str(f["amount"])) for f in exchange.fetch_funding_history(perp)), Decimal(0))
    coin = spot.split("/")[0]

    def d(value: object) -> Decimal:
        return Decimal(str(value))

    def notional(t: dict[str, Any]) -> Decimal:
        return Decimal(t["amount"]) * d(t["price"])

    fees = Decimal(0)
    for t in spot_trades + perp_trades:
        fee = d(t["fee"]["cost"])
        fees += fee * d(t["price"]) if t["fee"]["currency"] == coin else fee
    perp_cash = sum((notional(t) * (1 if t["side"] == "sell" else -1) for t in perp_trades), Decimal(0))
    buys = [t for t in spot_trades if t["side"] == "buy"]
    sells = [t for t in spot_trades if t["side"] == "sell"]
    bought, sold = sum((t["amount"] for t in buys), Decimal(0)), sum((t["amount"] for t in sells), Decimal(0))
    buy_vwap = sum((notional(t) for t in buys), Decimal(0)) / bought
    sell_vwap = sum((notional(t) for t in sells), Decimal(0)) / sold
    spot_pnl = min(bought, sold) * (sell_vwap - buy_vwap)
    return funding - fees + perp_cash + spot_pnl, funding, buy_vwap


def usdt_and_coin(admin: Admin, venue: str, coin: str) -> tuple[Decimal, Decimal]:
    """USDT and ``coin`` over the venue's wallets (OKX's unified account shows one wallet under two names)."""
    wallets = admin.account(venue)["wallets"]
    names = ["futures"] if venue == "okx" else [name for name in wallets if name != "funding"]
    usdt = sum((Decimal(wallets[n].get("USDT", {"free": "0"})["free"]) for n in names), Decimal(0))
    held = sum((Decimal(wallets[n].get(coin, {"free": "0"})["free"]) for n in names), Decimal(0))
    return usdt, held


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'arbx.db'}"
