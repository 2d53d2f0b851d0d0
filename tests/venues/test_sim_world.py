"""The simulator keeps its world: stopped and started again on the same saved world it continues where it stopped
(balances, orders found by client order id, positions, funding ledger, overrides, OKX leverage, the clock), and a
saved world it cannot continue is refused with one clear line."""

from __future__ import annotations

import json
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest
from conftest import make_settings
from okx_http_support import okx_client
from sim_http_support import Admin, amount_for_usd, binance_client

from arbx_pipelines.cli.main import main
from arbx_pipelines.cli.run import simulator_command
from arbx_pipelines.venues.sim.clock import wall_ms
from arbx_pipelines.venues.sim.orders import OrderRequest, OrderType
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.simulator import Simulator, continued_clock
from arbx_pipelines.venues.sim.world import WorldError

PERP, SPOT, OKX_SWAP = "DOGE/USDT:USDT", "ETH/USDT", "BTC/USDT:USDT"


def _view(binance: ccxt.binance, okx: ccxt.okx, admin: Admin) -> dict[str, Any]:
    """Everything a client (and the admin endpoint) can see of the two accounts."""
    funding = binance.fetch_funding_history(PERP)
    return {
        "time_ms": admin.call("GET", "/state")["time_ms"],
        "binance": admin.account("binance"),
        "okx": admin.account("okx"),
        "spot_order": binance.fetch_order(None, SPOT, {"origClientOrderId": "world-spot"}),
        "perp_order": binance.fetch_order(None, PERP, {"origClientOrderId": "world-perp"}),
        "resting": [o["clientOrderId"] for o in binance.fetch_open_orders(SPOT)],
        "positions": [(p["symbol"], p["contracts"], p["entryPrice"]) for p in binance.fetch_positions([PERP])],
        "funding": [(f["timestamp"], f["amount"]) for f in funding],
        "spot_trades": [(t["id"], t["amount"], t["price"]) for t in binance.fetch_my_trades(SPOT)],
        "okx_leverage": okx.fetch_leverage(OKX_SWAP, {"marginMode": "cross"})["longLeverage"],
        "okx_usdt": okx.fetch_balance()["USDT"]["total"],
        "upcoming_rate": binance.fetch_funding_rate(PERP)["fundingRate"],
        "transfers": [
            (t["id"], t["amount"]) for t in binance.fetch_transfers("USDT", None, None, {"type": "MAIN_UMFUTURE"})
        ],
    }


def _trade(server: SimServer) -> dict[str, Any]:
    binance, okx, admin = binance_client(server.base_url), okx_client(server), Admin(server.base_url)
    price = binance.fetch_ticker(SPOT)["last"]
    binance.create_order(SPOT, "market", "buy", amount_for_usd(binance.market(SPOT), price, 40), None,
                         {"clientOrderId": "world-spot"})  # fmt: skip
    far = float(binance.price_to_precision(SPOT, price * 0.8))
    binance.create_order(SPOT, "limit", "buy", 0.01, far, {"clientOrderId": "world-rest"})
    perp_price = binance.fetch_ticker(PERP)["last"]
    binance.create_order(PERP, "market", "sell", amount_for_usd(binance.market(PERP), perp_price, 60), None,
                         {"clientOrderId": "world-perp"})  # fmt: skip
    binance.transfer("USDT", 10, "spot", "swap")
    admin.call("POST", "/funding", {"venue": "binance", "symbol": PERP, "rate": 0.0015})
    admin.advance(9)  # at least one settlement of the 1h, 4h or 8h DOGE perpetual
    okx.set_leverage(3, OKX_SWAP, {"marginMode": "cross"})
    okx.create_order(OKX_SWAP, "market", "sell", 1, None, {"clientOrderId": "worldokx1"})
    return _view(binance, okx, admin)


def test_a_restarted_simulator_continues_its_saved_world(tmp_path: Path) -> None:
    path = tmp_path / "sim" / "world.json"
    settings = make_settings(venues=("binance", "okx"), state_path=path)
    with SimServer(settings) as first:
        before = _trade(first)
    assert before["funding"] and before["positions"] and before["resting"] == ["world-rest"] and before["transfers"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and [p.name for p in path.parent.iterdir()] == ["world.json"]

    with SimServer(settings) as second:
        binance, okx, admin = binance_client(second.base_url), okx_client(second), Admin(second.base_url)
        after = _view(binance, okx, admin)
        assert after == before  # same balances, orders, positions, ledger, overrides, leverage; the clock not behind
        again = binance.create_order(SPOT, "market", "buy", 0.01, None, {"clientOrderId": "world-after"})
        assert int(again["id"]) > int(before["spot_order"]["id"])  # ids continue, never reused
        binance.cancel_order(None, SPOT, {"origClientOrderId": "world-rest"})
    with SimServer(settings) as third:  # the stop saved the last changes too
        binance = binance_client(third.base_url)
        assert binance.fetch_order(None, SPOT, {"origClientOrderId": "world-rest"})["status"] == "canceled"
        assert binance.fetch_order(None, SPOT, {"origClientOrderId": "world-after"})["status"] == "closed"


def test_the_world_is_saved_when_an_account_changed_without_a_request(tmp_path: Path) -> None:
    """A fill, a settlement or a liquidation needs no request: the server's save loop notices them all the same."""
    simulator = Simulator(make_settings(venues=("binance",), state_path=tmp_path / "world.json", seed=11))
    assert simulator.unsaved() is None  # nothing happened yet
    engine = simulator.venue("binance").engine
    engine.trading.create(OrderRequest("DOGE/USDT:USDT", "sell", OrderType.MARKET, Decimal(400)))
    first = simulator.unsaved()
    assert first is not None and first["venues"]["binance"]["positions"][0]["qty"] == "-400"
    assert simulator.unsaved() is None
    simulator.clock.advance(8 * 3_600_000)
    engine.sync()  # the background sync settles funding
    settled = simulator.unsaved()
    assert settled is not None and any(e["kind"] == "funding" for e in settled["venues"]["binance"]["ledger"])
    simulator.dirty = True  # what a private request or an admin change sets
    assert simulator.unsaved() is not None and simulator.unsaved() is None


def test_a_running_clock_never_continues_behind_the_wall_clock() -> None:
    saved = {"clock": {"now_ms": 1_000_000, "market_offset_ms": 8 * 3_600_000}}
    start, offset = continued_clock(saved, make_settings(clock_running=True))
    assert start >= wall_ms() - 1000 and offset == 8 * 3_600_000
    assert continued_clock(saved, make_settings(clock_running=False)) == (1_000_000, 8 * 3_600_000)


@pytest.mark.isolated  # runs `arbx` in process: its stderr must be its own, not shaped by earlier tests
def test_a_world_this_simulator_cannot_continue_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "world.json"
    Simulator(make_settings(venues=("binance",), state_path=path)).save()
    with pytest.raises(WorldError, match="seed 7, this simulator has seed 8"):
        Simulator(make_settings(venues=("binance",), state_path=path, seed=8))
    data = json.loads(path.read_text())
    data["venues"]["binance"]["orders"] = [{"symbol": "NOPE/USDT"}]
    path.write_text(json.dumps(data))
    with pytest.raises(WorldError, match="binance account cannot be restored"):
        Simulator(make_settings(venues=("binance",), state_path=path))
    path.write_text("{not json")
    config = tmp_path / "arbx.yaml"
    config.write_text(f"data_dir: {tmp_path}\n", encoding="utf-8")
    assert main(["--config", str(config), "sim", "--state", str(path), "--port", "0", "--no-history"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    (line,) = err
    assert "is not valid JSON" in line and "arbx sim --reset" in line


def test_arbx_run_passes_a_reset_to_the_simulator_only_when_asked() -> None:
    assert simulator_command(8711, reset=True)[-4:] == ["sim", "--port", "8711", "--reset"]  # type: ignore[index]
    assert simulator_command(8711)[-3:] == ["sim", "--port", "8711"]  # type: ignore[index]
