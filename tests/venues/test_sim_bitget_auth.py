"""The simulated Bitget checks ACCESS-KEY / ACCESS-SIGN / ACCESS-TIMESTAMP / ACCESS-PASSPHRASE like the venue and
refuses with Bitget's own codes and HTTP status; stock ccxt raises AuthenticationError / InvalidNonce for them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

import ccxt
import pytest
from sim_http_support import bitget_client

from arbx_pipelines.venues.sim.settings import DEFAULT_API_KEY, DEFAULT_PASSPHRASE, DEFAULT_SECRET

ASSETS = "/api/v2/spot/account/assets"


def _call(base_url: str, method: str, path: str, query: str = "", body: str = "", *, key: str = DEFAULT_API_KEY,
          secret: str = DEFAULT_SECRET, passphrase: str = DEFAULT_PASSPHRASE, skew_ms: int = 0,
          sign_body: str | None = None, extra: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """One signed request over real HTTP: (HTTP status, JSON answer)."""
    timestamp = str(int(time.time() * 1000) + skew_ms)
    target = f"{path}?{query}" if query else path
    payload = timestamp + method + target + (body if sign_body is None else sign_body)
    signature = base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()
    headers = {"ACCESS-KEY": key, "ACCESS-SIGN": signature, "ACCESS-TIMESTAMP": timestamp,
               "ACCESS-PASSPHRASE": passphrase, "Content-Type": "application/json", **(extra or {})}  # fmt: skip
    request = urllib.request.Request(f"{base_url}/bitget{target}", data=body.encode() if body else None,
                                     method=method, headers=headers)  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_correctly_signed_request_passes_with_or_without_the_demo_header(sim_url: str) -> None:
    status, answer = _call(sim_url, "GET", ASSETS, "coin=USDT")
    assert status == 200 and answer["code"] == "00000" and answer["data"][0]["coin"] == "USDT"
    status, answer = _call(sim_url, "GET", ASSETS, extra={"PAPTRADING": "1"})
    assert status == 200 and answer["msg"] == "success"


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"secret": "not-the-secret"}, "40009", "sign signature error"),
        ({"key": "unknown-key"}, "40037", "Apikey does not exist"),
        ({"key": ""}, "40001", "ACCESS_KEY cannot be empty"),
        ({"passphrase": "wrong-pass"}, "40012", "apikey/password is incorrect"),
        ({"passphrase": ""}, "40011", "ACCESS_PASSPHRASE cannot be empty"),
        ({"skew_ms": -60_000}, "40008", "Request timestamp expired"),
        ({"skew_ms": 60_000}, "40008", "Request timestamp expired"),
    ],
)
def test_bad_credentials_get_bitgets_refusals(sim_url: str, change: dict[str, Any], code: str, message: str) -> None:
    status, answer = _call(sim_url, "GET", ASSETS, "coin=USDT", **change)
    assert status == 400
    assert answer["code"] == code and answer["msg"] == message and answer["data"] is None
    assert isinstance(answer["requestTime"], int)


def test_the_signature_covers_query_and_body(sim_url: str) -> None:
    body = json.dumps({"fromType": "spot", "toType": "usdt_futures", "amount": "1", "coin": "USDT"})
    tampered = body.replace('"1"', '"100"')
    status, answer = _call(sim_url, "POST", "/api/v2/spot/wallet/transfer", body=tampered, sign_body=body)
    assert (status, answer["code"]) == (400, "40009")
    timestamp = str(int(time.time() * 1000))
    signed = timestamp + "GET" + ASSETS + "?coin=USDT"
    signature = base64.b64encode(hmac.new(DEFAULT_SECRET.encode(), signed.encode(), hashlib.sha256).digest()).decode()
    request = urllib.request.Request(f"{sim_url}/bitget{ASSETS}?coin=BTC", headers={
        "ACCESS-KEY": DEFAULT_API_KEY, "ACCESS-SIGN": signature, "ACCESS-TIMESTAMP": timestamp,
        "ACCESS-PASSPHRASE": DEFAULT_PASSPHRASE})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400 and json.loads(refused.value.read())["code"] == "40009"


@pytest.mark.parametrize("credential", ["secret", "apiKey", "password"])
def test_stock_ccxt_with_a_wrong_credential_raises_authentication_error(sim_url: str, credential: str) -> None:
    exchange = bitget_client(sim_url)  # markets are public
    setattr(exchange, credential, "wrong-" + credential)
    with pytest.raises(ccxt.AuthenticationError):
        exchange.fetch_balance()


def test_stock_ccxt_with_a_stale_clock_raises_invalid_nonce(sim_url: str) -> None:
    exchange = bitget_client(sim_url)
    exchange.options["timeDifference"] = 120_000  # ccxt signs with a timestamp two minutes behind
    with pytest.raises(ccxt.InvalidNonce, match="40008"):
        exchange.fetch_balance()


def test_stock_ccxt_demo_mode_sends_paptrading_and_is_accepted(sim_url: str) -> None:
    exchange = bitget_client(sim_url)
    exchange.set_sandbox_mode(True)
    assert exchange.sign("v2/spot/account/assets", ["private", "spot"], "GET", {})["headers"]["PAPTRADING"] == "1"
    assert exchange.fetch_balance()["USDT"]["total"] > 0
