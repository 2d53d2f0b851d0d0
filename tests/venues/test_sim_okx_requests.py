"""The simulated OKX accepts the exact requests ccxt sends for the methods arbx uses (ccxt's recorded requests in
``../shared/fixtures/ccxt-static/request/okx.json``), re-signed with the simulator's credentials.

A replayed request may be refused for account reasons (recorded order ids do not exist here, a coin is not held),
never because the endpoint is missing or a parameter ccxt sends is not understood.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from ccxt_fixture_support import CCXT_STATIC, recorded_methods
from okx_http_support import raw_okx
from sim_http_support import missing_recordings, require_recordings

from arbx_pipelines.venues.sim.server import SimServer

ARBX_METHODS = {
    "fetchTime", "fetchStatus", "fetchTicker", "fetchTickers", "fetchOrderBook", "fetchFundingRate",
    "fetchFundingRates", "fetchFundingRateHistory", "fetchFundingInterval", "fetchMarkPrice", "fetchMarkPrices",
    "fetchBalance", "createOrder", "fetchOrder", "cancelOrder", "fetchOpenOrders", "fetchClosedOrders",
    "fetchMyTrades", "fetchPositions", "fetchPosition", "fetchLeverage", "setLeverage", "setMarginMode", "transfer",
    "fetchFundingHistory", "fetchCurrencies", "fetchLedger", "fetchAccounts",
}  # fmt: skip
#: what arbx never does on OKX: algo orders (trigger, TP/SL, trailing), inverse swaps, spot margin, hedge mode
OUT_OF_SCOPE_PATHS = ("/api/v5/trade/order-algo", "/api/v5/trade/cancel-algos", "/api/v5/trade/orders-algo-history")
OUT_OF_SCOPE_TEXT = ("attachAlgoOrds", '"posSide":"long"', '"posSide":"short"', "-USD-SWAP", '"ccy":"USDT","tdMode"')
#: OKX codes meaning "endpoint, parameter or signature not understood"; any of them fails the test
NOT_UNDERSTOOD = {"404", "50000", "50002", "50014", "50015", "51000", "50102", "50103", "50104", "50105", "50106",
                  "50107", "50111", "50112", "50113"}  # fmt: skip


def _in_scope(entry: dict[str, Any]) -> bool:
    path = urlsplit(entry["url"]).path
    text = entry["url"] + (entry.get("output") or "")
    return not path.startswith(OUT_OF_SCOPE_PATHS) and not any(word in text for word in OUT_OF_SCOPE_TEXT)


def _cases() -> list[Any]:
    if not (CCXT_STATIC / "request" / "okx.json").is_file():
        return missing_recordings(CCXT_STATIC / "request" / "okx.json")
    return [
        pytest.param(entry, id=f"{name}: {entry['description']}")
        for name, entries in recorded_methods("request", "okx").items() if name in ARBX_METHODS
        for entry in entries if _in_scope(entry)
    ]  # fmt: skip


@pytest.mark.parametrize("entry", _cases())
def test_recorded_ccxt_request_is_understood(entry: dict[str, Any], fresh_sim_server: SimServer) -> None:
    require_recordings(CCXT_STATIC / "request" / "okx.json")
    parts = urlsplit(entry["url"])
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    body = entry.get("output")
    status, answer = raw_okx(fresh_sim_server, "POST" if body else "GET", path, json.loads(body) if body else None,
                             body_text=body)  # fmt: skip
    assert status != 404, f"not served: {parts.path}"
    codes = {str(answer.get("code"))} | {str(item.get("sCode")) for item in answer.get("data") or []
                                          if isinstance(item, dict) and "sCode" in item}  # fmt: skip
    assert not codes & NOT_UNDERSTOOD, answer
