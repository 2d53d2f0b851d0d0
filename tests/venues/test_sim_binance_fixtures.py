"""ccxt parses the simulated Binance's answers into the same unified fields as the recorded real answers.

For every method arbx uses that has a recorded real response in ccxt's static fixtures
(``../shared/fixtures/ccxt-static/response/binance.json``), the same call against the simulator must yield every
unified field that is non-null in the recorded ``parsedResponse`` non-null too. Portfolio-margin (``papi``) and
COIN-M cases are out of scope: arbx trades spot and USD-M only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ccxt
import pytest
from ccxt_fixture_support import non_null_paths
from sim_http_support import SHARED_DIR, Admin, binance_client, missing_recordings, require_recordings

from arbx_pipelines.venues.sim.server import SimServer

FIXTURE = SHARED_DIR / "fixtures" / "ccxt-static" / "response" / "binance.json"
#: the methods arbx calls (the exchange resource, execution, reconciliation)
ARBX_METHODS = {
    "fetchTicker", "fetchOrderBook", "fetchBalance", "createOrder", "fetchOrder", "fetchOpenOrders", "fetchOpenOrder",
    "fetchPositions", "fetchFundingHistory", "fetchMyTrades", "fetchOrders",
}  # fmt: skip
OUT_OF_SCOPE = ("portfolio", "papi", "inverse")

Call = Callable[[ccxt.binance, dict[str, Any]], Any]
CALLS: dict[tuple[str, str], Call] = {
    ("fetchTicker", "public spot ticker"): lambda ex, s: ex.fetch_ticker("BTC/USDT"),
    ("fetchOrderBook", "spot orderbook"): lambda ex, s: ex.fetch_order_book("BTC/USDT", 2),
    ("fetchOrderBook", "swap orderbook"): lambda ex, s: ex.fetch_order_book("BTC/USDT:USDT", 5),
    ("fetchBalance", "Spot balance"): lambda ex, s: ex.fetch_balance(),
    ("fetchBalance", "Linear swap balance"): lambda ex, s: ex.fetch_balance({"type": "swap"}),
    ("createOrder", "spot +selfTradePrevention +iceberg"): lambda ex, s: ex.create_order(
        "SOL/USDT", "limit", "buy", s["sol_amount"], s["sol_price"],
        {"selfTradePrevention": "expire_maker", "icebergAmount": s["sol_amount"] / 2}),
    ("fetchOrder", "Fetch spot closed order"): lambda ex, s: ex.fetch_order(s["closed_spot_id"], "LTC/USDT"),
    ("fetchOpenOrders", "Fetch spot open orders"): lambda ex, s: ex.fetch_open_orders("LTC/USDT", None, 1),
    ("fetchOpenOrder", "swap open order"): lambda ex, s: ex.fetch_open_order(s["open_swap_id"], "BTC/USDT:USDT"),
    ("fetchPositions", "Fetch linear positions without symbols"): lambda ex, s: ex.fetch_positions(),
    ("fetchPositions", "Fetch linear positions with symbols"): lambda ex, s: ex.fetch_positions(["BTC/USDT:USDT"]),
    ("fetchPositions", "Fetch linear positions using account endnpoint"): lambda ex, s: ex.fetch_positions(
        ["BTC/USDT:USDT"], {"method": "account"}),
    ("fetchFundingHistory", "fetch portfolio margin funding history"): lambda ex, s: ex.fetch_funding_history(
        "BTC/USDT:USDT", None, 1),
    ("fetchMyTrades", "Spot private trade"): lambda ex, s: ex.fetch_my_trades("LTC/USDT", None, 1),
    ("fetchMyTrades", "Swap private trade"): lambda ex, s: ex.fetch_my_trades("BTC/USDT:USDT", None, 1),
    ("fetchOrders", "fetch spot orders"): lambda ex, s: ex.fetch_orders("LTC/USDT", None, 1),
}  # fmt: skip
#: unified keys the recordings carry that ccxt 4.5.90 no longer produces at all (removed from its Position structure)
VERSION_DRIFT = {"marginType"}
#: cases whose description says portfolio margin but whose unified shape arbx needs from the USD-M endpoint
USD_M_STAND_INS = {("fetchFundingHistory", "fetch portfolio margin funding history")}


def _recorded_cases() -> list[Any]:
    if not FIXTURE.is_file():
        return missing_recordings(FIXTURE)
    methods = json.loads(FIXTURE.read_text())["methods"]
    cases = []
    for method, entries in methods.items():
        if method not in ARBX_METHODS:
            continue
        for entry in entries:
            key = (method, entry["description"])
            text = (entry["description"] + json.dumps(entry["input"])).lower()
            if key not in USD_M_STAND_INS and any(word in text for word in OUT_OF_SCOPE):
                continue
            cases.append(pytest.param(entry, id=f"{method}: {entry['description']}"))
    return cases


@pytest.fixture(scope="module")
def prepared(fresh_sim_server: SimServer) -> tuple[ccxt.binance, dict[str, Any]]:
    """An account with the state the recorded calls saw: filled, open and canceled orders, a position, funding."""
    binance = binance_client(fresh_sim_server.base_url)
    admin = Admin(fresh_sim_server.base_url)
    state: dict[str, Any] = {}
    ltc_bid = binance.fetch_order_book("LTC/USDT", 5)["bids"][0][0]
    binance.create_order("LTC/USDT", "market", "buy", float(binance.amount_to_precision("LTC/USDT", 40 / ltc_bid)))
    sell_amount = float(binance.amount_to_precision("LTC/USDT", 12 / ltc_bid))
    state["closed_spot_id"] = binance.create_order("LTC/USDT", "market", "sell", sell_amount)["id"]
    low = float(binance.price_to_precision("LTC/USDT", ltc_bid * 0.8))
    canceled = binance.create_order("LTC/USDT", "limit", "buy", sell_amount, low)
    binance.cancel_order(canceled["id"], "LTC/USDT")
    binance.create_order("LTC/USDT", "limit", "buy", sell_amount, low, {"postOnly": True})
    sol_bid = binance.fetch_order_book("SOL/USDT", 5)["bids"][0][0]
    state["sol_price"] = float(binance.price_to_precision("SOL/USDT", sol_bid * 0.9))
    state["sol_amount"] = float(binance.amount_to_precision("SOL/USDT", 15 / sol_bid))
    binance.transfer("USDT", 230, "swap", "spot")  # a small cross wallet, so the position has a liquidation price
    btc_ask = binance.fetch_order_book("BTC/USDT:USDT", 5)["asks"][0][0]
    btc_amount = float(binance.amount_to_precision("BTC/USDT:USDT", 130 / btc_ask))
    binance.create_order("BTC/USDT:USDT", "market", "buy", btc_amount)
    funding = binance.fetch_funding_rate("BTC/USDT:USDT")
    admin.advance((funding["fundingTimestamp"] - funding["timestamp"]) / 3_600_000 + 0.01)
    btc_bid = binance.fetch_order_book("BTC/USDT:USDT", 5)["bids"][0][0]
    post_only = {"postOnly": True}
    btc_low = float(binance.price_to_precision("BTC/USDT:USDT", btc_bid * 0.9))
    state["open_swap_id"] = binance.create_order("BTC/USDT:USDT", "limit", "buy", btc_amount, btc_low, post_only)["id"]
    return binance, state


def test_every_arbx_method_with_a_recording_has_a_call() -> None:
    require_recordings(FIXTURE)
    for case in _recorded_cases():
        entry = case.values[0]
        assert (entry["method"], entry["description"]) in CALLS, entry["description"]


@pytest.mark.parametrize("recorded", _recorded_cases())
def test_unified_fields_match_the_recorded_real_answer(
    recorded: dict[str, Any], prepared: tuple[ccxt.binance, dict[str, Any]]
) -> None:
    require_recordings(FIXTURE)
    binance, state = prepared
    ours = CALLS[(recorded["method"], recorded["description"])](binance, state)
    expected = {p for p in non_null_paths(recorded["parsedResponse"]) if p.split(".")[-1] not in VERSION_DRIFT}
    assert expected, "the recording has no non-null unified field to compare"
    missing = expected - non_null_paths(ours)
    assert not missing, f"null or absent in the simulator's answer: {sorted(missing)}"
