"""Private Binance endpoints check key, signature and timestamp exactly as Binance does, over raw HTTP and ccxt."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

import ccxt
import pytest
from sim_http_support import Admin, binance_client

from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import DEFAULT_API_KEY, DEFAULT_SECRET


def _sign(payload: str, secret: str = DEFAULT_SECRET) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _call(url: str, method: str = "GET", body: str | None = None, key: str = DEFAULT_API_KEY) -> tuple[int, object]:
    headers = {"X-MBX-APIKEY": key, "Content-Type": "application/x-www-form-urlencoded"}
    request = urllib.request.Request(url, data=body.encode() if body else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_correct_signature_is_accepted_in_the_query_or_the_body(sim_server: SimServer) -> None:
    base = f"{sim_server.url('binance')}/fapi/v3/account"
    query = f"timestamp={int(time.time() * 1000)}&recvWindow=5000"
    status, answer = _call(f"{base}?{query}&signature={_sign(query)}")
    assert status == 200 and "availableBalance" in answer  # type: ignore[operator]
    body = f"symbol=ETHUSDT&leverage=7&timestamp={int(time.time() * 1000)}"
    status, answer = _call(f"{sim_server.url('binance')}/fapi/v1/leverage", "POST", f"{body}&signature={_sign(body)}")
    assert status == 200 and answer == {"leverage": 7, "maxNotionalValue": "50000", "symbol": "ETHUSDT"}


def test_a_bad_signature_gets_binances_own_error(sim_server: SimServer) -> None:
    query = f"timestamp={int(time.time() * 1000)}"
    status, answer = _call(f"{sim_server.url('binance')}/api/v3/account?{query}&signature={_sign(query, 'wrong')}")
    assert (status, answer) == (400, {"code": -1022, "msg": "Signature for this request is not valid."})


def test_an_unknown_key_and_a_stale_timestamp_are_refused(sim_server: SimServer) -> None:
    query = f"timestamp={int(time.time() * 1000)}"
    status, answer = _call(f"{sim_server.url('binance')}/api/v3/account?{query}&signature={_sign(query)}", key="nope")
    assert (status, answer) == (401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
    stale = f"timestamp={int(time.time() * 1000) - 60_000}&recvWindow=5000"
    status, answer = _call(f"{sim_server.url('binance')}/api/v3/account?{stale}&signature={_sign(stale)}")
    assert (status, answer) == (400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})


def test_ccxt_with_a_wrong_secret_raises_authentication_error(sim_server: SimServer) -> None:
    binance = binance_client(sim_server.base_url)
    binance.secret = "not-the-secret"
    with pytest.raises(ccxt.AuthenticationError):
        binance.fetch_balance()
    with pytest.raises(ccxt.AuthenticationError):
        binance.create_order("ETH/USDT:USDT", "market", "buy", 0.01)


def test_time_adjusted_clients_stay_valid_while_simulated_time_runs_ahead(fresh_sim_server: SimServer) -> None:
    Admin(fresh_sim_server.base_url).advance(5)
    binance = binance_client(fresh_sim_server.base_url, options={"adjustForTimeDifference": True})
    binance.load_time_difference()
    assert abs(binance.options["timeDifference"]) < 5_000
    assert binance.fetch_balance({"type": "swap"})["USDT"]["total"] >= 0
