"""The engine's crash-point sweep (issues 10 and 13): ``arbx engine``, the real CLI process, killed (SIGKILL, by
``ARBX_CRASH_AT``) at each named point an arbitrage passes, then ``arbx reconcile`` at once, the engine NOT
restarted, and the outcome checked from outside:

* no client order id twice at the venues;
* the coins flat or both legs filled: the net base change across the two venues within one lot;
* every order row final and equal to the venue (side, filled amount, status; absent on the venue only when the row
  says it never got there), its trades all stored;
* every spot arbitrage execution final.

One simulator for the module (stepped clock, a fixed market start, OKX's ETH price jumped +60 bps so the engine
trades at once and the same way every run), one engine process and one fresh database (copied from a migrated
template) per point. Points hit once per leg are tried at their 1st and 2nd hit; the flatten path is reached by a
partial fill of the sell leg (a ``partial_fill`` fault), its points at the hit after both legs'.
"""

from __future__ import annotations

import json
import shutil
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest
import yaml

from arbx_pipelines.bench import spot
from arbx_pipelines.cli.main import main
from arbx_pipelines.engine.executor import SPOT_ARB_KIND
from arbx_pipelines.scenarios.harness import SimAdmin
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.executions import FINAL_EXECUTION_STATUSES
from arbx_pipelines.storage.orders import FINAL_ORDER_STATUSES, all_orders, orders_missing_fills
from arbx_pipelines.storage.spot_arbitrage import unfinished_executions_of_kind
from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import REPRODUCIBLE_MARKET_START_MS, SimSettings
from tests.engine.forked_cli import ForkedCli

SYMBOL = "ETH/USDT"
VENUES = ("binance", "okx")
BUY, SELL = VENUES  # OKX's price is jumped up: buy on Binance, sell on OKX
ENGINE_SECONDS = 25  # the engine's own bound: a point never reached ends the run (exit 0) and fails the case
AGREEING = {"closed": {"closed"}, "canceled": {"canceled", "expired"}, "expired": {"canceled", "expired"}}

#: (crash target, partial sell fill) -- both legs: 1st and 2nd hit; the flatten's order is the 3rd
POINTS: tuple[tuple[str, bool], ...] = (
    ("intent.committed", False),
    ("order.marked_sent#1", False),
    ("order.marked_sent#2", False),
    ("order.create_sent#1", False),
    ("order.create_sent#2", False),
    ("order.create_answered#1", False),
    ("order.create_answered#2", False),
    ("order.state_committed#1", False),
    ("order.state_committed#2", False),
    ("fills.committed#1", False),
    ("fills.committed#2", False),
    ("correction.intent_committed", True),
    ("order.create_sent#3", True),
    ("order.create_answered#3", True),
    ("fills.committed#3", True),
)
#: on PostgreSQL too: a leg answered but unrecorded, and the flatten path's repair round after an unsent flatten
PG_POINTS = (("order.create_answered#2", False), ("order.create_sent#3", True))


@dataclass
class World:
    base_url: str
    port: int
    template: Path
    plain: dict[str, Any]
    cli: ForkedCli


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = SimSettings(port=0, seed=11, history_dir=None, market_start_ms=REPRODUCIBLE_MARKET_START_MS,
                           clock_running=False)  # fmt: skip
    template = tmp_path_factory.mktemp("engine-sweep") / "template.db"
    upgrade(f"sqlite:///{template}")
    with SimServer(settings) as server:
        base_url = server.base_url
        SimAdmin(base_url).call("POST", "/dislocations", {"venue": SELL, "coin": "ETH", "bps": 60,
                                                          "duration_ms": 3_600_000})  # fmt: skip
        plain = {}
        for venue in VENUES:
            exchange = wire(getattr(ccxt, venue)({"enableRateLimit": False}), base_url)
            exchange.load_markets()
            plain[venue] = exchange
        cli = ForkedCli()
        try:
            yield World(base_url, server.port, template, plain, cli)
        finally:
            cli.close()


def _config(workdir: Path, world: World, database_url: str) -> str:
    path = workdir / "arbx.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": str(workdir / "data"),
        "database": {"url": database_url},
        "simulator": {"port": world.port},
        "venues": {"binance": {"enabled": True}, "okx": {"enabled": True}, "bitget": {"enabled": False}},
        # the stepped simulator publishes the dislocated book once: the first arbitrage must go out however loaded
        # the machine (the 50 ms send deadline would drop it, and no later update offers it again)
        "spread": {"symbols": [SYMBOL], "min_profit_usdt": "0.05", "max_in_flight": 1, "task_timeout_seconds": 15,
                   "send_deadline_ms": 10_000},
        "risk": {"max_trade_usdt": "200"},
        # the simulator answers at once: a request not there one second after it left never arrives
        "execution": {"order_timeout_seconds": 10, "order_in_flight_seconds": 1},
    }))  # fmt: skip
    return str(path)


def _venue_orders(exchange: Any) -> list[dict[str, Any]]:
    if exchange.has.get("fetchOrders"):
        raw = exchange.fetch_orders(SYMBOL)
    else:
        raw = exchange.fetch_open_orders(SYMBOL) + exchange.fetch_closed_orders(SYMBOL)
        if exchange.has.get("fetchCanceledOrders"):
            raw += exchange.fetch_canceled_orders(SYMBOL)
    return list({str(o["id"]): o for o in raw}.values())  # a venue may list a canceled order among closed ones too


def _eth(world: World) -> Decimal:
    total = Decimal(0)
    for venue in VENUES:
        balance = SimAdmin(world.base_url).account(venue)["wallets"]["spot"].get("ETH", {})
        total += Decimal(str(balance.get("free", 0))) + Decimal(str(balance.get("locked", 0)))
    return total


def _lot(world: World) -> Decimal:
    lots = []
    for exchange in world.plain.values():
        market = exchange.market(SYMBOL)
        lots += [Decimal(str(market["precision"]["amount"] or 0)), Decimal(str(market["limits"]["amount"]["min"] or 0))]
    return max(lots)


@pytest.mark.parametrize(("target", "partial"), POINTS, ids=[p for p, _ in POINTS])
def test_engine_killed_at_each_point_is_repaired_by_reconcile(
    world: World, target: str, partial: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(world.template, tmp_path / "arbx.db")
    _kill_and_reconcile(world, target, partial, tmp_path, f"sqlite:///{tmp_path / 'arbx.db'}", capsys)


@pytest.mark.parametrize(("target", "partial"), PG_POINTS, ids=[p for p, _ in PG_POINTS])
def test_on_postgresql(
    world: World, target: str, partial: bool, tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The records' column limits are PostgreSQL's only (a repair leg's name must fit ``orders.leg``)."""
    _kill_and_reconcile(world, target, partial, tmp_path, pg_url, capsys)


def _reconcile(config: str, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    capsys.readouterr()
    main(["--config", config, "reconcile", "--json"])
    return {r["venue"]: r for r in json.loads(capsys.readouterr().out)["venues"]}


def _kill_and_reconcile(
    world: World, target: str, partial: bool, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, world, database_url)
    spot._fund(world.base_url)
    admin = SimAdmin(world.base_url)
    admin.clear_faults()
    if partial:  # OKX places through batch-orders
        admin.add_fault(kind="partial_fill", venue=SELL, endpoint="POST /api/v5/trade/*", fill_ratio=0.5, times=1)
    seen = {venue: {str(o["id"]) for o in _venue_orders(ex)} for venue, ex in world.plain.items()}
    eth_before = _eth(world)

    log = tmp_path / "engine.log"
    argv = ["--config", config, "--log-level", "ERROR", "engine", "--seconds", str(ENGINE_SECONDS)]
    exit_code = world.cli.run(argv, {"ARBX_CRASH_AT": target}, log, timeout_s=ENGINE_SECONDS + 60)
    admin.clear_faults()
    assert exit_code == -signal.SIGKILL, f"{target} not reached: exit {exit_code}\n{log.read_text()[-3000:]}"

    cross = _reconcile(config, capsys).get("cross", {})  # the engine stays dead: reconcile alone repairs
    assert cross.get("executions_repaired") and not cross.get("pending") and not cross.get("skipped"), cross

    db = make_engine(database_url)
    try:
        # every spot execution final: a second reconcile has none to finish (its spot step reads exactly these)
        assert unfinished_executions_of_kind(db, SPOT_ARB_KIND, FINAL_EXECUTION_STATUSES) == []
        records = all_orders(db)
        assert records, "the engine recorded no order before the kill"
        for venue, exchange in world.plain.items():
            new = [o for o in _venue_orders(exchange) if str(o["id"]) not in seen[venue]]
            cids = Counter(str(o["clientOrderId"]) for o in new)
            assert [cid for cid, n in cids.items() if n > 1] == [], f"duplicate orders on {venue}"
            by_cid = {str(o["clientOrderId"]): o for o in new}
            ours = [r for r in records if r.venue == venue]
            assert set(by_cid) <= {r.client_order_id for r in ours}, f"{venue} holds orders nobody recorded"
            for row in ours:
                assert row.status in FINAL_ORDER_STATUSES, row
                found = by_cid.get(row.client_order_id)
                if found is None:
                    assert row.status in ("abandoned", "rejected") and row.filled == 0, row
                    continue
                assert row.side.value == found["side"] and row.filled == Decimal(str(found["filled"])), (row, found)
                assert row.status in AGREEING[str(found["status"])], (row, found)
            assert orders_missing_fills(db, venue) == []
    finally:
        db.dispose()
    assert abs(_eth(world) - eth_before) < _lot(world), "coins left one-legged"
