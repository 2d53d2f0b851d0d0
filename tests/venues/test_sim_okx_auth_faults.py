"""The simulated OKX checks signatures like OKX and applies the engine's fault injection on its routes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import ccxt
import pytest
from okx_http_support import okx_client, okx_timestamp, raw_okx
from sim_http_support import Admin

from arbx_pipelines.venues.sim.server import SimServer

SWAP = "ETH/USDT:USDT"
ORDER_ROUTE = "POST /api/v5/trade/batch-orders"  # ccxt's default createOrder endpoint


@pytest.fixture(scope="module")
def okx(fresh_sim_server: SimServer) -> ccxt.okx:
    exchange = okx_client(fresh_sim_server)
    exchange.load_markets()
    return exchange


@pytest.fixture
def faults(fresh_sim_server: SimServer) -> Iterator[Admin]:
    admin = Admin(fresh_sim_server.base_url)
    yield admin
    admin.clear_faults()


# ---- authentication ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "code", "msg"),
    [
        ({"secret": "wrong-secret"}, "50113", "Invalid Sign"),
        ({"key": "wrong-key"}, "50111", "Invalid OK-ACCESS-KEY"),
        ({"passphrase": "wrong-pass"}, "50105", "OK-ACCESS-PASSPHRASE incorrect"),
        ({"timestamp": okx_timestamp(timedelta(minutes=-2))}, "50102", "Timestamp request expired"),
        ({"timestamp": "yesterday"}, "50112", "Invalid OK-ACCESS-TIMESTAMP"),
    ],
)
def test_bad_credentials_get_okx_401_answers(
    fresh_sim_server: SimServer, override: dict[str, str], code: str, msg: str
) -> None:
    status, body = raw_okx(fresh_sim_server, "GET", "/api/v5/account/balance", **override)  # type: ignore[arg-type]
    assert (status, body) == (401, {"code": code, "msg": msg, "data": []})


def test_signed_requests_pass_with_query_and_body(fresh_sim_server: SimServer) -> None:
    status, body = raw_okx(fresh_sim_server, "GET", "/api/v5/account/positions?instId=BTC-USDT-SWAP%2CETH-USDT-SWAP")
    assert (status, body["code"]) == (200, "0")
    status, body = raw_okx(fresh_sim_server, "POST", "/api/v5/account/set-leverage",
                           {"instId": "BTC-USDT-SWAP", "lever": "5", "mgnMode": "cross"})  # fmt: skip
    assert (status, body["data"][0]["lever"]) == (200, "5")
    status, body = raw_okx(fresh_sim_server, "GET", "/api/v5/account/balance", signed=False)
    assert (status, body["code"]) == (401, "50103")
    status, body = raw_okx(fresh_sim_server, "GET", "/api/v5/account/balance", headers={"x-simulated-trading": "1"})
    assert (status, body["code"]) == (200, "0")


def test_ccxt_maps_bad_credentials_to_authentication_errors(fresh_sim_server: SimServer) -> None:
    for field, value in (("secret", "nope"), ("apiKey", "nope"), ("password", "nope")):
        exchange = okx_client(fresh_sim_server)
        setattr(exchange, field, value)
        with pytest.raises(ccxt.AuthenticationError):
            exchange.fetch_balance()


# ---- faults ----------------------------------------------------------------------------------------------------


def test_latency_delays_the_answer(okx: ccxt.okx, faults: Admin) -> None:
    faults.add_fault(kind="latency", venue="okx", endpoint="GET /api/v5/market/ticker", latency_ms=400, times=1)
    started = time.monotonic()
    okx.fetch_ticker(SWAP)
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    okx.fetch_ticker(SWAP)
    assert time.monotonic() - started < 0.4


def test_rate_limit_is_okx_429_with_code_50011(okx: ccxt.okx, faults: Admin, fresh_sim_server: SimServer) -> None:
    faults.add_fault(kind="rate_limit", venue="okx", endpoint="GET /api/v5/market/*")
    with pytest.raises(ccxt.RateLimitExceeded):
        okx.fetch_order_book(SWAP)
    status, body = raw_okx(fresh_sim_server, "GET", "/api/v5/market/ticker?instId=BTC-USDT", signed=False)
    assert (status, body) == (429, {"code": "50011", "msg": "Too Many Requests", "data": []})
    faults.clear_faults()
    faults.add_fault(kind="rate_limit", venue="okx", endpoint="GET /api/v5/public/funding-rate", weight_limit=2)
    okx.fetch_funding_rate(SWAP)
    okx.fetch_funding_rate(SWAP)
    with pytest.raises(ccxt.RateLimitExceeded):
        okx.fetch_funding_rate(SWAP)


def test_reject_answers_in_okx_order_format_and_places_nothing(okx: ccxt.okx, faults: Admin) -> None:
    faults.add_fault(kind="reject", venue="okx", endpoint=ORDER_ROUTE, reason="insufficient_balance", times=1)
    with pytest.raises(ccxt.InsufficientFunds, match='"sCode":"51008"'):
        okx.create_order(SWAP, "market", "buy", 1, None, {"clientOrderId": "rejected1"})
    with pytest.raises(ccxt.OrderNotFound):
        okx.fetch_order(None, SWAP, {"clientOrderId": "rejected1"})
    faults.add_fault(kind="reject", venue="okx", endpoint="GET /api/v5/account/balance", reason="internal", times=1)
    with pytest.raises(ccxt.ExchangeNotAvailable):  # 50026 system error
        okx.fetch_balance()


def test_partial_fill_fills_a_share_and_cancels_the_rest(okx: ccxt.okx, faults: Admin) -> None:
    faults.add_fault(kind="partial_fill", venue="okx", endpoint=ORDER_ROUTE, fill_ratio=0.5, times=1)
    okx.create_order(SWAP, "market", "buy", 4, None, {"clientOrderId": "partial1"})
    order = okx.fetch_order(None, SWAP, {"clientOrderId": "partial1"})
    assert (order["amount"], order["filled"], order["status"]) == (4, 2, "canceled")
    (position,) = okx.fetch_positions([SWAP])
    assert position["contracts"] == 2
    okx.create_order(SWAP, "market", "sell", 2, None, {"reduceOnly": True})


def test_timeout_after_accept_leaves_an_order_to_look_up(okx: ccxt.okx, faults: Admin) -> None:
    hang_s = 1.0
    faults.add_fault(kind="timeout_after_accept", venue="okx", endpoint=ORDER_ROUTE, hang_ms=hang_s * 1000, times=1)
    okx.timeout = 300
    try:
        with pytest.raises(ccxt.RequestTimeout):
            okx.create_order(SWAP, "market", "buy", 1, None, {"clientOrderId": "timedOut1"})
    finally:
        okx.timeout = 10_000
    order = okx.fetch_order(None, SWAP, {"clientOrderId": "timedOut1"})
    assert (order["status"], order["filled"]) == ("closed", 1)
    okx.create_order(SWAP, "market", "sell", 1, None, {"reduceOnly": True})


@pytest.mark.parametrize(("after_accept", "placed"), [(False, False), (True, True)])
def test_dropped_connection_before_or_after_accepting(
    okx: ccxt.okx, faults: Admin, after_accept: bool, placed: bool
) -> None:
    client_id = f"dropped{int(after_accept)}"
    faults.add_fault(kind="drop_connection", venue="okx", endpoint=ORDER_ROUTE, after_accept=after_accept, times=1)
    with pytest.raises(ccxt.NetworkError):
        okx.create_order(SWAP, "market", "buy", 1, None, {"clientOrderId": client_id})
    if placed:
        assert okx.fetch_order(None, SWAP, {"clientOrderId": client_id})["filled"] == 1
        okx.create_order(SWAP, "market", "sell", 1, None, {"reduceOnly": True})
    else:
        with pytest.raises(ccxt.OrderNotFound):
            okx.fetch_order(None, SWAP, {"clientOrderId": client_id})
