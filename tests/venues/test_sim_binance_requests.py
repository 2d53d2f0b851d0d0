"""The simulator accepts the exact requests ccxt sends for the methods arbx uses (ccxt's recorded requests in
``../shared/fixtures/ccxt-static/request/binance.json``), re-signed with the simulator's credentials.

A replayed request may be refused for account reasons (the recorded order ids do not exist here, a balance is too
small), never because the endpoint is missing or a parameter ccxt sends is not understood.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sim_http_support import SHARED_DIR, missing_recordings, require_recordings

from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import DEFAULT_API_KEY, DEFAULT_SECRET

FIXTURE = SHARED_DIR / "fixtures" / "ccxt-static" / "request" / "binance.json"
ARBX_METHODS = {
    "fetchTime", "fetchStatus", "fetchTicker", "fetchTickers", "fetchBidsAsks", "fetchLastPrices", "fetchOrderBook",
    "fetchFundingRate", "fetchFundingRates", "fetchFundingRateHistory", "fetchFundingInterval",
    "fetchFundingIntervals", "fetchMarkPrice", "fetchMarkPrices", "fetchBalance", "createOrder", "fetchOrder",
    "fetchOrderWithClientOrderId", "cancelOrder", "fetchOpenOrders", "fetchOpenOrder", "fetchOrders",
    "fetchClosedOrders", "fetchMyTrades", "fetchPositions", "fetchPositionsRisk", "fetchLeverage", "fetchLeverages",
    "fetchMarginMode", "fetchMarginModes", "fetchLeverageTiers", "fetchPositionMode", "setLeverage",
    "setMarginMode", "transfer", "fetchFundingHistory", "fetchTradingFee", "fetchTradingFees", "fetchCurrencies",
}  # fmt: skip
#: API families arbx does not trade (portfolio margin, COIN-M, options, margin, tokenized stocks, savings, algo)
OUT_OF_SCOPE_PATHS = ("/papi/", "/dapi/", "/eapi/", "/sapi/v1/margin/", "/sapi/v1/equity/", "/sapi/v1/lending/")
OUT_OF_SCOPE_SUFFIXES = ("algoOrder", "AlgoOrders", "/order/test", "/rpiDepth", "/api/v3/ticker")
#: order features arbx never sends (conditional orders, price matching) and an underlying we do not list
OUT_OF_SCOPE_WORDS = ("trigger", "stoploss", "takeprofit", "trailing", "bbo", "pricematch", "exchange rate underlying")
MARGIN_TRANSFER_TYPES = ("MARGIN", "ISOLATED")
#: Binance codes meaning "endpoint or parameter not understood"; any of them fails the test
NOT_UNDERSTOOD = {-1100, -1101, -1102, -1104, -1106, -1116, -1121, -1130, -1022, -1000}


def _in_scope(entry: dict[str, Any]) -> bool:
    path = urlsplit(entry["url"]).path
    text = (entry["description"] + json.dumps(entry["input"])).lower().replace(" ", "")
    if path.startswith(OUT_OF_SCOPE_PATHS) or path.endswith(OUT_OF_SCOPE_SUFFIXES) or path == "/api/v3/ticker":
        return False
    if any(word.replace(" ", "") in text for word in OUT_OF_SCOPE_WORDS):
        return False
    body = entry.get("output") or ""
    return not (path.endswith("/asset/transfer") and any(t in body for t in MARGIN_TRANSFER_TYPES))


def _cases() -> list[Any]:
    if not FIXTURE.is_file():
        return missing_recordings(FIXTURE)
    methods = json.loads(FIXTURE.read_text())["methods"]
    return [
        pytest.param(entry, id=f"{name}: {entry['description']}")
        for name, entries in methods.items() if name in ARBX_METHODS
        for entry in entries if _in_scope(entry)
    ]  # fmt: skip


def _resigned(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in params if k not in ("timestamp", "recvWindow", "signature")]
    return [*kept, ("timestamp", str(int(time.time() * 1000))), ("recvWindow", "10000")]


def _replay(base: str, entry: dict[str, Any]) -> tuple[int, Any]:
    parts = urlsplit(entry["url"])
    query = parse_qsl(parts.query, keep_blank_values=True)
    body_params = parse_qsl(entry.get("output") or "", keep_blank_values=True)
    signed = any(k == "signature" for k, _ in query + body_params)
    method = "POST" if entry.get("output") else "GET"
    if entry["method"] in ("cancelOrder",):
        method = "DELETE"
    if signed:
        if body_params:
            body_params = _resigned(body_params)
        else:
            query = _resigned(query)
    query_text, body_text = urlencode(query), urlencode(body_params)
    if signed:
        signature = hmac.new(DEFAULT_SECRET.encode(), (query_text + body_text).encode(), hashlib.sha256).hexdigest()
        if body_params:
            body_text += f"&signature={signature}"
        else:
            query_text += f"&signature={signature}"
    url = f"{base}/binance{parts.path}" + (f"?{query_text}" if query_text else "")
    headers = {"X-MBX-APIKEY": DEFAULT_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
    request = urllib.request.Request(url, data=body_text.encode() or None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.mark.parametrize("entry", _cases())
def test_recorded_ccxt_request_is_understood(entry: dict[str, Any], fresh_sim_server: SimServer) -> None:
    require_recordings(FIXTURE)
    status, answer = _replay(fresh_sim_server.base_url, entry)
    assert status != 404, f"not served: {urlsplit(entry['url']).path}"
    if status != 200:
        assert isinstance(answer, dict) and answer.get("code") not in NOT_UNDERSTOOD, answer
