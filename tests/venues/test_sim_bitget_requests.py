"""The simulated Bitget accepts the exact requests ccxt sends for the methods arbx uses (ccxt's recorded requests in
``../shared/fixtures/ccxt-static/request/bitget.json``), re-signed with the simulator's credentials.

In scope: the classic-account v2 endpoints for spot and USDT-M futures. Out: unified-account v3 requests, spot
margin, plan / TP-SL / trailing orders and coin-margined contracts, none of which arbx uses. A replayed request may
be refused for account reasons (recorded order ids do not exist here, a balance is too small, hedge-mode
``tradeSide`` on a one-way account), never because the endpoint or a parameter ccxt sends is not understood.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest
from sim_http_support import SHARED_DIR, missing_recordings, require_recordings

from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import DEFAULT_API_KEY, DEFAULT_PASSPHRASE, DEFAULT_SECRET

FIXTURE = SHARED_DIR / "fixtures" / "ccxt-static" / "request" / "bitget.json"
ARBX_METHODS = {
    "fetchTime", "fetchCurrencies", "fetchTicker", "fetchTickers", "fetchOrderBook", "fetchFundingRate",
    "fetchFundingRates", "fetchFundingInterval", "fetchFundingIntervals", "fetchFundingRateHistory", "fetchMarkPrice",
    "fetchBalance", "transfer", "createOrder", "createMarketBuyOrderWithCost", "fetchOrder", "cancelOrder",
    "fetchOpenOrders", "fetchClosedOrders", "fetchCanceledOrders", "fetchCanceledAndClosedOrders", "fetchMyTrades",
    "fetchPositions", "fetchPosition", "fetchLeverage", "fetchMarginMode", "setLeverage", "setMarginMode",
    "fetchFundingHistory", "fetchTradingFee",
}  # fmt: skip
#: methods ccxt recorded only against the unified-account (v3) API
UTA_ONLY_RECORDINGS = {"transfer"}
OUT_OF_SCOPE_PATHS = ("/api/v3/", "/api/v2/margin/")
OUT_OF_SCOPE_WORDS = ("plan", "tpsl", "history-position", "COIN-FUTURES")
#: Bitget codes meaning "endpoint, parameter or signature not understood"; any of them fails the test
NOT_UNDERSTOOD = {"40404", "40017", "40019", "40020", "40034", "40009", "40001", "40003"}
#: private endpoints (everything else is public)
PRIVATE_PREFIXES = ("/api/v2/spot/account", "/api/v2/spot/trade", "/api/v2/spot/wallet", "/api/v2/mix/account",
                    "/api/v2/mix/order", "/api/v2/mix/position", "/api/v2/common/trade-rate")  # fmt: skip


def _in_scope(entry: dict[str, Any]) -> bool:
    url = urlsplit(entry["url"])
    text = url.path + url.query + json.dumps(entry.get("output"))
    return not url.path.startswith(OUT_OF_SCOPE_PATHS) and not any(word in text for word in OUT_OF_SCOPE_WORDS)


def _cases() -> list[Any]:
    if not FIXTURE.is_file():
        return missing_recordings(FIXTURE)
    methods = json.loads(FIXTURE.read_text())["methods"]
    return [
        pytest.param(entry, id=f"{name}: {entry['description']}")
        for name, entries in methods.items() if name in ARBX_METHODS
        for entry in entries if _in_scope(entry)
    ]  # fmt: skip


def _replay(base: str, entry: dict[str, Any]) -> tuple[int, Any]:
    url = urlsplit(entry["url"])
    target = url.path + (f"?{url.query}" if url.query else "")
    body = json.dumps(entry["output"], separators=(",", ":")) if entry.get("output") is not None else ""
    method = "POST" if body else "GET"
    headers = {"Content-Type": "application/json"}
    if url.path.startswith(PRIVATE_PREFIXES):
        timestamp = str(int(time.time() * 1000))
        digest = hmac.new(DEFAULT_SECRET.encode(), (timestamp + method + target + body).encode(), hashlib.sha256)
        headers |= {"ACCESS-KEY": DEFAULT_API_KEY, "ACCESS-SIGN": base64.b64encode(digest.digest()).decode(),
                    "ACCESS-TIMESTAMP": timestamp, "ACCESS-PASSPHRASE": DEFAULT_PASSPHRASE}  # fmt: skip
    request = urllib.request.Request(f"{base}/bitget{target}", data=body.encode() or None, method=method,
                                     headers=headers)  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_the_scope_keeps_every_method_arbx_uses_that_has_a_recording() -> None:
    require_recordings(FIXTURE)
    recorded = set(json.loads(FIXTURE.read_text())["methods"]) & ARBX_METHODS
    assert {case.id.split(":")[0] for case in _cases()} == recorded - UTA_ONLY_RECORDINGS


@pytest.mark.parametrize("entry", _cases())
def test_recorded_ccxt_request_is_understood(entry: dict[str, Any], fresh_sim_server: SimServer) -> None:
    require_recordings(FIXTURE)
    status, answer = _replay(fresh_sim_server.base_url, entry)
    assert status != 404, f"not served: {urlsplit(entry['url']).path}"
    assert isinstance(answer, dict) and answer.get("code") not in NOT_UNDERSTOOD, answer
    assert (status == 200) == (answer["code"] == "00000"), answer
