"""What the real venues serve and the simulator used to miss, read with the stock ccxt clients: Binance's account
answer names every coin (zero balances included), OKX's fee rates (``account/trade-fee``), Bitget's spot ledger
(``spot/account/bills``) and transfer records (``spot/account/transferRecords``)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import ccxt
import pytest
from okx_http_support import okx_client
from sim_http_support import binance_client, bitget_client

from arbx_pipelines.venues.sim.server import SimServer


def _recorded_url(fixtures: Path, venue: str, method: str, description: str) -> str:
    calls = json.loads((fixtures / "request" / f"{venue}.json").read_text(encoding="utf-8"))["methods"][method]
    url = urlsplit(next(call["url"] for call in calls if call["description"] == description))
    return f"{url.path}?{url.query}"


def test_binance_lists_every_coin_with_zero_balances_unless_told_to_omit_them(
    fresh_sim_server: SimServer, ccxt_fixtures_dir: Path
) -> None:
    binance = binance_client(fresh_sim_server.base_url)
    listed = {row["asset"]: row for row in binance.private_get_account()["balances"]}
    coins = {m["base"] for m in binance.markets.values() if m["spot"]} | {"USDT"}
    assert coins <= set(listed) and listed["BTC"] == {"asset": "BTC", "free": "0.00000000", "locked": "0.00000000"}
    recorded = json.loads((ccxt_fixtures_dir / "response" / "binance.json").read_text(encoding="utf-8"))
    real = recorded["methods"]["fetchBalance"][0]["httpResponse"]["balances"]
    assert any(Decimal(row["free"]) == Decimal(row["locked"]) == 0 for row in real)  # the real venue lists zeros too
    assert {key for row in real for key in row} == set(listed["BTC"])
    assert binance.fetch_balance()["BTC"] == {"free": 0.0, "used": 0.0, "total": 0.0}
    held = binance.private_get_account({"omitZeroBalances": "true"})["balances"]
    assert [row["asset"] for row in held] == ["USDT"] and Decimal(held[0]["free"]) == 250


def test_okx_trade_fee_answers_the_fee_rates_negative_as_okx_writes_them(
    fresh_sim_server: SimServer, ccxt_fixtures_dir: Path
) -> None:
    okx = okx_client(fresh_sim_server)
    spot = okx.fetch_trading_fee("BTC/USDT")
    assert urlsplit(okx.last_request_url).path.endswith("/api/v5/account/trade-fee")
    assert _recorded_url(ccxt_fixtures_dir, "okx", "fetchTradingFee", "Spot trading fee").endswith(
        okx.last_request_url.split("/okx", 1)[1]
    )  # the same request ccxt sends to the real OKX
    assert (spot["maker"], spot["taker"]) == (0.001, 0.001)
    assert spot["info"]["instType"] == "SPOT" and (spot["info"]["taker"], spot["info"]["takerU"]) == ("-0.001", "")
    swap = okx.fetch_trading_fee("BTC/USDT:USDT")
    assert (swap["maker"], swap["taker"]) == (0.0002, 0.0005) and swap["info"]["takerU"] == "-0.0005"
    with pytest.raises(ccxt.ExchangeError, match="51000"):
        okx.private_get_account_trade_fee({"instType": "FUTURES"})
    with pytest.raises(ccxt.ExchangeError, match="50014"):
        okx.private_get_account_trade_fee({})


def test_bitget_spot_ledger_and_transfer_records_follow_the_wallet(
    fresh_sim_server: SimServer, ccxt_fixtures_dir: Path
) -> None:
    bitget = bitget_client(fresh_sim_server.base_url)
    before = Decimal(str(bitget.fetch_balance()["USDT"]["total"]))
    sent = bitget.transfer("USDT", 7, "spot", "swap")
    ask = bitget.fetch_order_book("ETH/USDT", 5)["asks"][0][0]
    bitget.create_order("ETH/USDT", "market", "buy", 0.01, ask, {"clientOrderId": "fidelity-1"})
    bought = bitget.fetch_order(None, "ETH/USDT", {"clientOrderId": "fidelity-1"})

    usdt = bitget.fetch_ledger("USDT")
    assert _recorded_url(ccxt_fixtures_dir, "bitget", "fetchLedger", "fetch USDT ledger") == (
        urlsplit(bitget.last_request_url).path.split("/bitget", 1)[1] + "?coin=USDT"
    )
    trade, transfer = usdt  # newest first, as Bitget pages them
    assert (transfer["type"], transfer["direction"], transfer["amount"]) == ("transfer", "out", 7.0)
    assert transfer["before"] == float(before) and transfer["info"]["businessType"] == "transfer_out"
    assert (trade["type"], trade["direction"]) == ("trade", "out") and trade["amount"] == pytest.approx(bought["cost"])
    assert trade["after"] == bitget.fetch_balance()["USDT"]["total"] and trade["before"] == transfer["after"]
    (eth,) = bitget.fetch_ledger("ETH")
    assert eth["direction"] == "in" and eth["fee"] == {"currency": "ETH", "cost": bought["fee"]["cost"]}
    assert (
        eth["after"] == bitget.fetch_balance()["ETH"]["total"] == pytest.approx(bought["filled"] - eth["fee"]["cost"])
    )

    (record,) = bitget.fetch_transfers("USDT")
    assert (record["id"], record["amount"], record["status"]) == (sent["id"], 7.0, "ok")
    assert (record["fromAccount"], record["toAccount"]) == ("spot", "swap")
    assert bitget.fetch_transfers("USDT", None, None, {"type": "swap"}) == []  # nothing went out of the futures wallet
