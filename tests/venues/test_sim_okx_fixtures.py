"""ccxt parses the simulated OKX's answers into the same unified fields as the real answers it recorded
(``../shared/fixtures/ccxt-static/response/okx.json``): every field non-null in the recorded ``parsedResponse`` is
non-null from the simulator too (comparison in ``ccxt_fixture_support``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ccxt
import pytest
from ccxt_fixture_support import CCXT_STATIC, non_null_paths, recorded_methods
from okx_http_support import okx_client

from arbx_pipelines.venues.sim.server import SimServer

SWAP = "ETH/USDT:USDT"
SPOT = "BTC/USDT"


@dataclass
class World:
    """An account with something to show: a position, a resting post-only order, filled orders, bills."""

    okx: ccxt.okx
    spot_order_id: str
    rest_price: float


@pytest.fixture(scope="module")
def world(fresh_sim_server: SimServer) -> World:
    okx = okx_client(fresh_sim_server)
    okx.load_markets()
    placed = okx.create_order(SPOT, "market", "buy", 0.001)
    okx.set_margin_mode("isolated", SWAP, {"lever": 5})
    okx.create_order(SWAP, "market", "buy", 3, None, {"marginMode": "isolated"})
    rest_price = okx.fetch_ticker(SWAP)["bid"] * 0.8
    okx.create_order(SWAP, "limit", "buy", 1, rest_price, {"postOnly": True, "marginMode": "isolated"})
    okx.transfer("USDT", 5, "trading", "funding")
    return World(okx, str(placed["id"]), rest_price)


Simulate = Callable[[World, dict[str, Any]], Any]

#: (ccxt method, recorded description) -> how to get the simulator's counterpart of that recorded call
SIMULATED: dict[tuple[str, str], Simulate] = {
    ("fetchTicker", "public spot ticker"): lambda w, e: w.okx.fetch_ticker(SPOT),
    ("fetchOrderBook", "Swap orderbook"): lambda w, e: w.okx.fetch_order_book(SWAP, 2),
    ("fetchOrderBook", "spot orderbook"): lambda w, e: w.okx.fetch_order_book(SPOT, 2),
    ("fetchBalance", "funding balance"): lambda w, e: w.okx.fetch_balance(*e["input"]),
    ("fetchBalance", "spot balance"): lambda w, e: w.okx.fetch_balance(*e["input"]),
    ("fetchPositions", "linear swap position"): lambda w, e: w.okx.fetch_positions([SWAP]),
    ("fetchPosition", "fetch position"): lambda w, e: w.okx.fetch_position(SWAP),
    ("fetchPosition", "Inverse swap cross fetch position"): lambda w, e: w.okx.fetch_position(SWAP),
    ("fetchPosition", "Inverse swap isolated fetch position"): lambda w, e: w.okx.fetch_position(SWAP),
    ("fetchOrder", "fetch spot order"): lambda w, e: w.okx.fetch_order(w.spot_order_id, SPOT),
    ("createOrder", "type2 & type3 together"): lambda w, e: w.okx.create_order(SWAP, "market", "sell", 1, None,
                                                                               {"marginMode": "isolated"}),
    ("fetchOpenOrders", "fetch swap limit open order with take profit and stop loss"):
        lambda w, e: w.okx.fetch_open_orders(SWAP, None, 1),
    ("fetchClosedOrders", "Swap closed orders"): lambda w, e: w.okx.fetch_closed_orders(SWAP, None, 1),
    ("fetchLedger", "fetch ledger"): lambda w, e: w.okx.fetch_ledger("USDT", None, 1),
    ("transfer", "transfer spot to funding"): lambda w, e: w.okx.transfer("USDT", 1, "spot", "funding"),
    ("transfer", "transfer from spot to funding"): lambda w, e: w.okx.transfer("USDT", 1, "spot", "funding"),
    ("fetchTime", "Fetch time"): lambda w, e: w.okx.fetch_time(),
    ("fetchStatus", "Fetch status"): lambda w, e: w.okx.fetch_status(),
    ("fetchAccounts", "Fetch accounts"): lambda w, e: w.okx.fetch_accounts(),
}  # fmt: skip

#: recorded calls of methods arbx uses that the simulator deliberately does not serve
NOT_SIMULATED = {
    ("createOrder", 1): "algo (trigger) orders: trade/order-algo is not simulated; arbx places none",
    ("fetchOpenOrders", 0): "algo (trigger) orders: trade/orders-algo-pending answers an empty list",
    ("fetchPositions", 1): "closed-position history (account/positions-history) is not simulated",
}
METHODS = sorted({method for method, _ in SIMULATED})


def _cases(method: str) -> list[tuple[int, dict[str, Any]]]:
    entries = recorded_methods("response", "okx").get(method, [])
    return [(i, e) for i, e in enumerate(entries) if (method, i) not in NOT_SIMULATED]


@pytest.fixture(autouse=True)
def _fixtures_present(ccxt_fixtures_dir: Path) -> None:
    """Skips (via ``ccxt_fixtures_dir``) when ../shared/fixtures is missing."""


def test_every_recorded_call_of_the_used_methods_is_compared_or_explained() -> None:
    methods = recorded_methods("response", "okx")
    for method in METHODS:
        assert methods.get(method), f"{method} has no recorded calls in {CCXT_STATIC}"
        for index, entry in enumerate(methods[method]):
            known = (method, entry["description"]) in SIMULATED or (method, index) in NOT_SIMULATED
            assert known, f"{method}[{index}] {entry['description']!r} is neither simulated nor explained"


@pytest.mark.parametrize("method", METHODS)
def test_ccxt_fills_the_same_unified_fields_as_from_real_okx(world: World, method: str) -> None:
    for index, entry in _cases(method):
        ours = SIMULATED[(method, entry["description"])](world, entry)
        missing = non_null_paths(entry["parsedResponse"]) - non_null_paths(ours)
        assert not missing, f"{method}[{index}] {entry['description']!r}: null or absent here: {sorted(missing)}"
