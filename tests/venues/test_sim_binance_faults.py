"""Each fault kind against stock ccxt: what the client sees, and what the simulated venue did meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator

import ccxt
import pytest
from sim_http_support import Admin, binance_client

from arbx_pipelines.venues.sim.server import SimServer

PERP = "ETH/USDT:USDT"


@pytest.fixture(scope="module")
def binance(fresh_sim_server: SimServer) -> ccxt.binance:
    return binance_client(fresh_sim_server.base_url)


@pytest.fixture
def admin(fresh_sim_server: SimServer) -> Iterator[Admin]:
    client = Admin(fresh_sim_server.base_url)
    yield client
    client.clear_faults()


def _amount(binance: ccxt.binance, usd: float) -> float:
    price = binance.fetch_order_book(PERP, 5)["asks"][0][0]
    return float(binance.amount_to_precision(PERP, usd / price))


def test_latency_delays_the_answer_and_can_exceed_the_client_timeout(binance: ccxt.binance, admin: Admin) -> None:
    admin.add_fault(kind="latency", venue="binance", endpoint="GET /fapi/v1/premiumIndex", latency_ms=1200, times=2)
    binance.timeout = 400
    try:
        with pytest.raises(ccxt.RequestTimeout):
            binance.fetch_funding_rate(PERP)
    finally:
        binance.timeout = 10000
    started = time.monotonic()
    assert binance.fetch_funding_rate(PERP)["fundingRate"] is not None
    assert time.monotonic() - started >= 1.2


def test_timeout_after_accept_leaves_an_order_found_by_client_order_id(binance: ccxt.binance, admin: Admin) -> None:
    admin.add_fault(kind="timeout_after_accept", venue="binance", endpoint="POST /fapi/v1/order", hang_ms=2500, times=1)
    amount = _amount(binance, 40)
    binance.timeout = 800
    try:
        with pytest.raises(ccxt.RequestTimeout):
            binance.create_order(PERP, "market", "sell", amount, None, {"clientOrderId": "arbx-timeout-1"})
    finally:
        binance.timeout = 10000
    found = binance.fetch_order(None, PERP, {"clientOrderId": "arbx-timeout-1"})
    assert found["status"] == "closed" and found["filled"] == pytest.approx(amount)
    binance.create_order(PERP, "market", "buy", amount, None, {"reduceOnly": True})


@pytest.mark.parametrize(
    ("endpoint", "symbol", "reason", "error"),
    [
        ("POST /fapi/v1/order", PERP, "insufficient_balance", ccxt.InsufficientFunds),
        ("POST /fapi/v1/order", PERP, "min_notional", ccxt.InvalidOrder),
        ("POST /api/v3/order", "ETH/USDT", "insufficient_balance", ccxt.InsufficientFunds),
        ("POST /api/v3/order", "ETH/USDT", "min_notional", ccxt.BadRequest),
    ],
)
def test_rejects_answer_the_venues_error_and_place_nothing(
    binance: ccxt.binance, admin: Admin, endpoint: str, symbol: str, reason: str, error: type[Exception]
) -> None:
    admin.add_fault(kind="reject", venue="binance", endpoint=endpoint, reason=reason, times=1)
    before = admin.account("binance")["orders"]
    with pytest.raises(error) as raised:
        binance.create_order(symbol, "market", "buy", _amount(binance, 30))
    code = {"insufficient_balance": ("-2019", "-2010"), "min_notional": ("-4164", "-1013")}[reason]
    assert f'"code":{code[0 if symbol == PERP else 1]}' in binance.last_http_response
    assert raised.value is not None
    assert admin.account("binance")["orders"] == before


def test_rate_limit_answers_429_once_the_weight_budget_is_used(binance: ccxt.binance, admin: Admin) -> None:
    binance.fetch_funding_rate(PERP)
    used = int(binance.last_response_headers["X-MBX-USED-WEIGHT-1M"])
    admin.add_fault(kind="rate_limit", venue="binance", endpoint="GET /fapi/*", weight_limit=used + 5)
    with pytest.raises(ccxt.DDoSProtection) as raised:
        for _ in range(200):
            binance.fetch_funding_rate(PERP)
    assert "429" in str(raised.value) and "-1003" in str(raised.value)
    assert binance.last_response_headers["Retry-After"] == "60"
    assert binance.fetch_ticker("ETH/USDT")["last"] > 0  # spot has its own budget


def test_rate_limit_without_budget_rejects_every_matching_request(binance: ccxt.binance, admin: Admin) -> None:
    admin.add_fault(kind="rate_limit", venue="binance", endpoint="GET /api/v3/depth", times=2)
    for _ in range(2):
        with pytest.raises(ccxt.DDoSProtection):
            binance.fetch_order_book("ETH/USDT", 5)
    assert binance.fetch_order_book("ETH/USDT", 5)["bids"]


def test_partial_fill_fills_less_than_the_amount(binance: ccxt.binance, admin: Admin) -> None:
    admin.add_fault(kind="partial_fill", venue="binance", endpoint="POST /fapi/v1/order", fill_ratio=0.5, times=2)
    amount = _amount(binance, 60)
    market = binance.create_order(PERP, "market", "sell", amount)
    assert 0 < market["filled"] < amount and market["status"] == "expired"
    ask = binance.fetch_order_book(PERP, 5)["asks"][0][0]
    limit = binance.create_order(PERP, "limit", "buy", amount, ask * 1.01)
    assert 0 < limit["filled"] < amount and limit["status"] == "open"
    binance.cancel_order(limit["id"], PERP)
    position = [p for p in binance.fetch_positions([PERP]) if p["contracts"]]
    if position:
        side = "buy" if position[0]["side"] == "short" else "sell"
        binance.create_order(PERP, "market", side, position[0]["contracts"], None, {"reduceOnly": True})


def test_dropped_connection_raises_a_network_error(binance: ccxt.binance, admin: Admin) -> None:
    admin.add_fault(kind="drop_connection", venue="binance", endpoint="GET /fapi/v3/positionRisk", times=1)
    with pytest.raises(ccxt.NetworkError):
        binance.fetch_positions()
    assert isinstance(binance.fetch_positions(), list)
    admin.add_fault(kind="drop_connection", venue="binance", endpoint="POST /fapi/v1/order", after_accept=True, times=1)
    amount = _amount(binance, 40)
    with pytest.raises(ccxt.NetworkError):
        binance.create_order(PERP, "market", "sell", amount, None, {"clientOrderId": "arbx-drop-1"})
    assert binance.fetch_order(None, PERP, {"clientOrderId": "arbx-drop-1"})["filled"] == pytest.approx(amount)
    binance.create_order(PERP, "market", "buy", amount, None, {"reduceOnly": True})


def test_fault_rules_are_validated_by_the_admin_endpoint(admin: Admin) -> None:
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as raised:
        admin.add_fault(kind="explode")
    assert raised.value.code == 400
    rule = admin.add_fault(kind="latency", latency_ms=5)
    assert admin.call("GET", "/faults")[0]["rule_id"] == rule["rule_id"]
    assert admin.call("DELETE", f"/faults/{rule['rule_id']}")["removed"] == 1
