"""Every fault kind of the simulator on Bitget routes, seen through stock ccxt: 429 in Bitget's format, a timeout
after the order was accepted, a partial fill, dropped connections (before and after acceptance), latency and
rejects in Bitget's error format."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import ccxt
import pytest
from sim_http_support import Admin, amount_for_usd, bitget_client

from arbx_pipelines.venues.sim.server import SimServer

PERP = "ETH/USDT:USDT"
PLACE = "POST /api/v2/mix/order/place-order"


@pytest.fixture(scope="module")
def bitget(fresh_sim_server: SimServer) -> ccxt.bitget:
    return bitget_client(fresh_sim_server.base_url, timeout=1500)


@pytest.fixture
def faults(fresh_sim_server: SimServer) -> Iterator[Admin]:
    client = Admin(fresh_sim_server.base_url)
    yield client
    client.clear_faults()


def _amount(bitget: ccxt.bitget, usd: float) -> float:
    return amount_for_usd(bitget.market(PERP), bitget.fetch_order_book(PERP, 5)["asks"][0][0], usd)


def _close_all(bitget: ccxt.bitget) -> None:
    for position in bitget.fetch_positions():
        side = "buy" if position["side"] == "short" else "sell"
        bitget.create_order(position["symbol"], "market", side, position["contracts"], None, {"reduceOnly": True})


def test_rate_limit_answers_429_in_bitget_format(bitget: ccxt.bitget, faults: Admin) -> None:
    faults.add_fault(kind="rate_limit", venue="bitget", endpoint="GET /api/v2/mix/market/*", times=2)
    with pytest.raises(ccxt.DDoSProtection, match="429"):
        bitget.fetch_ticker(PERP)
    try:
        urllib.request.urlopen(f"{faults.base_url}/bitget/api/v2/mix/market/tickers?productType=USDT-FUTURES")
        pytest.fail("expected HTTP 429")
    except urllib.error.HTTPError as error:
        assert error.code == 429
        answer = json.loads(error.read())
        assert answer["code"] == "429" and answer["msg"] == "Too Many Requests"
    assert bitget.fetch_ticker(PERP)["last"] > 0  # the rule is used up


def test_timeout_after_accept_leaves_an_order_to_look_up(bitget: ccxt.bitget, faults: Admin) -> None:
    faults.add_fault(kind="timeout_after_accept", venue="bitget", endpoint=PLACE, hang_ms=2500, times=1)
    amount = _amount(bitget, 60)
    with pytest.raises(ccxt.RequestTimeout):
        bitget.create_order(PERP, "market", "sell", amount, None, {"clientOrderId": "lost-answer"})
    found = bitget.fetch_order(None, PERP, {"clientOrderId": "lost-answer"})
    assert found["status"] == "closed" and found["filled"] == pytest.approx(amount)
    _close_all(bitget)


def test_partial_fill_caps_what_an_order_fills(bitget: ccxt.bitget, faults: Admin) -> None:
    faults.add_fault(kind="partial_fill", venue="bitget", endpoint=PLACE, fill_ratio=0.5, times=1)
    amount = _amount(bitget, 200)
    placed = bitget.create_order(PERP, "market", "buy", amount)
    order = bitget.fetch_order(placed["id"], PERP)
    assert 0 < order["filled"] <= amount / 2 and order["status"] == "canceled"
    assert bitget.fetch_position(PERP)["contracts"] == pytest.approx(order["filled"])
    _close_all(bitget)


@pytest.mark.parametrize("after_accept", [False, True])
def test_dropped_connection_before_and_after_acceptance(bitget: ccxt.bitget, faults: Admin, after_accept: bool) -> None:
    faults.add_fault(kind="drop_connection", venue="bitget", endpoint=PLACE, after_accept=after_accept, times=1)
    client_id = f"dropped-{after_accept}"
    with pytest.raises(ccxt.NetworkError):
        bitget.create_order(PERP, "market", "buy", _amount(bitget, 60), None, {"clientOrderId": client_id})
    if after_accept:
        assert bitget.fetch_order(None, PERP, {"clientOrderId": client_id})["status"] == "closed"
    else:
        with pytest.raises(ccxt.OrderNotFound):
            bitget.fetch_order(None, PERP, {"clientOrderId": client_id})
    _close_all(bitget)


def test_latency_delays_the_answer(bitget: ccxt.bitget, faults: Admin) -> None:
    faults.add_fault(kind="latency", venue="bitget", endpoint="GET /api/v2/mix/market/current-fund-rate",
                     latency_ms=400, times=1)  # fmt: skip
    started = time.monotonic()
    assert bitget.fetch_funding_rate(PERP)["fundingRate"] is not None
    assert time.monotonic() - started >= 0.4


def test_reject_answers_the_error_in_bitget_format_without_processing(bitget: ccxt.bitget, faults: Admin) -> None:
    faults.add_fault(kind="reject", venue="bitget", endpoint=PLACE, reason="insufficient_margin", times=1)
    with pytest.raises(ccxt.InsufficientFunds, match="40762"):
        bitget.create_order(PERP, "market", "buy", _amount(bitget, 60), None, {"clientOrderId": "rejected"})
    with pytest.raises(ccxt.OrderNotFound):
        bitget.fetch_order(None, PERP, {"clientOrderId": "rejected"})
    faults.add_fault(kind="reject", venue="bitget", endpoint="POST /api/v2/spot/trade/place-order",
                     reason="min_notional", times=1)  # fmt: skip
    with pytest.raises(ccxt.ExchangeError, match="43027"):
        bitget.create_order("ETH/USDT", "market", "sell", 0.01)
