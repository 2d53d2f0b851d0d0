"""ccxt's parse of the simulated Bitget's answers has a value wherever ccxt's parse of Bitget's recorded real answers
has one (``../shared/fixtures/ccxt-static/response/bitget.json``), for every recorded method arbx uses.

In scope: the recordings of the classic (v2) endpoints the simulator serves; unified-account (``uta``) recordings
only for methods without a classic one (their unified keys do not depend on the account type). Recordings of
features arbx does not use (spot margin, trigger / trailing / TP-SL orders, hedge-mode ``posSide``) are out.
Each call is replayed against a fresh simulator with the state it needs (an order of the same kind, a position,
a settled funding payment).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ccxt
import pytest
from ccxt_fixture_support import RecordedCall, missing_paths, non_null_paths, recorded_calls
from sim_http_support import Admin, amount_for_usd, bitget_client

from arbx_pipelines.venues.sim.server import SimServer

FIXTURES = Path(os.environ.get("ARBX_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared")) / (
    "fixtures/ccxt-static"
)
ARBX_METHODS = {
    "fetchTicker", "fetchTickers", "fetchOrderBook", "fetchFundingRate", "fetchFundingRates", "fetchFundingInterval",
    "fetchFundingRateHistory", "fetchBalance", "transfer", "createOrder", "fetchOrder", "cancelOrder",
    "fetchOpenOrders", "fetchPositions", "fetchPosition", "setLeverage", "setMarginMode", "fetchFundingHistory",
}  # fmt: skip
UNUSED_FEATURES = {"marginMode", "trigger", "trailing", "stopLoss", "takeProfit", "stopLossPrice", "takeProfitPrice",
                   "posSide"}  # fmt: skip
PERP = "BTC/USDT:USDT"
#: keys a unified-account recording has that the classic endpoint cannot carry, with the reason
UTA_ONLY_KEYS = {
    ("fetchFundingInterval", "fundingRate"): "classic accounts read the interval from funding-time, which has no rate "
    "(ccxt's own classic recording of that endpoint, fetchFundingRate via publicMixGetV2MixMarketFundingTime, "
    "parses fundingRate as null)",
    ("setLeverage", "data"): "ccxt returns the raw answer: the v3 endpoint's data is the string 'success', the v2 "
    "one's the new leverage settings (symbol, longLeverage, ...), also non-null",
}


def in_scope(calls: list[RecordedCall]) -> list[RecordedCall]:
    usable = [c for c in calls if not UNUSED_FEATURES & c.params.keys()]
    classic = [c for c in usable if not c.params.get("uta")]
    covered = {c.method for c in classic}
    return classic + [c for c in usable if c.params.get("uta") and c.method not in covered]


def _scope() -> list[RecordedCall]:
    if not (FIXTURES / "response" / "bitget.json").is_file():
        return []
    return in_scope(list(recorded_calls(FIXTURES, "bitget", ARBX_METHODS)))


CALLS = _scope()


class Replayer:
    """Replays a recorded call on the simulator after setting up the state the recording had."""

    def __init__(self, bitget: ccxt.bitget, admin: Admin) -> None:
        self.bitget = bitget
        self.admin = admin

    def args(self, call: RecordedCall) -> list[Any]:
        args = list(call.args)
        if args and isinstance(args[-1], dict):
            args[-1] = {k: v for k, v in args[-1].items() if k != "uta"}
        return args

    def run(self, call: RecordedCall) -> Any:
        setup = {
            ("fetchOrder", "swap market buy"): lambda: self.order("LTC/USDT:USDT", "buy", 20),
            ("fetchOrder", "Swap market sell"): lambda: self.order("LTC/USDT:USDT", "sell", 40),
            ("fetchOrder", "swap reduceOnly sell order"): self.reduce_only_order,
            ("fetchOrder", "fetch spot order"): self.spot_market_buy,
            ("cancelOrder", "linear swap cancelOrder by clientOrderId"): lambda: self.resting(PERP, "abc321"),
            ("fetchOpenOrders", "open spot orders"): lambda: self.resting("LTC/USDT", None),
            ("fetchPositions", "Linear position"): lambda: self.order("LTC/USDT:USDT", "buy", 20),
            ("fetchFundingHistory", "Fetch the funding history UTA"): self.funding_payment,
        }.get((call.method, call.description))
        args = self.args(call)
        if setup is not None:
            order_id = setup()
            if call.method == "fetchOrder":
                args[0] = order_id
        return getattr(self.bitget, call.snake_method)(*args)

    def order(self, symbol: str, side: str, usd: float) -> str:
        amount = amount_for_usd(self.bitget.market(symbol), self.bitget.fetch_order_book(symbol, 5)["asks"][0][0], usd)
        return str(self.bitget.create_order(symbol, "market", side, amount)["id"])

    def reduce_only_order(self) -> str:
        self.order("LTC/USDT:USDT", "buy", 20)
        held = self.bitget.fetch_position("LTC/USDT:USDT")["contracts"]
        return str(self.bitget.create_order("LTC/USDT:USDT", "market", "sell", held, None, {"reduceOnly": True})["id"])

    def spot_market_buy(self) -> str:
        return str(self.bitget.create_order("LTC/USDT", "market", "buy", 6, None, {"cost": 6})["id"])

    def resting(self, symbol: str, client_id: str | None) -> str:
        bid = self.bitget.fetch_order_book(symbol, 5)["bids"][0][0]
        price = float(self.bitget.price_to_precision(symbol, bid * 0.9))
        amount = amount_for_usd(self.bitget.market(symbol), price, 20)
        params = {"clientOrderId": client_id} if client_id else {}
        return str(self.bitget.create_order(symbol, "limit", "buy", amount, price, params)["id"])

    def funding_payment(self) -> str:
        order_id = self.order(PERP, "sell", 60)
        upcoming = self.bitget.fetch_funding_rate(PERP)["fundingTimestamp"]
        self.admin.advance((upcoming - self.bitget.fetch_time()) / 3_600_000 + 0.01)
        return order_id

    def clean_up(self) -> None:
        for symbol in (PERP, "LTC/USDT:USDT", "LTC/USDT"):
            for order in self.bitget.fetch_open_orders(symbol):
                self.bitget.cancel_order(order["id"], symbol)
        for position in self.bitget.fetch_positions():
            side = "buy" if position["side"] == "short" else "sell"
            self.bitget.create_order(position["symbol"], "market", side, position["contracts"], None,
                                     {"reduceOnly": True})  # fmt: skip


@pytest.fixture(scope="module")
def replayer(fresh_sim_server: SimServer) -> Iterator[Replayer]:
    yield Replayer(bitget_client(fresh_sim_server.base_url), Admin(fresh_sim_server.base_url))


def test_the_scope_covers_every_recorded_method_arbx_uses(ccxt_fixtures_dir: Path) -> None:
    recorded = {c.method for c in recorded_calls(ccxt_fixtures_dir, "bitget", ARBX_METHODS)}
    assert {c.method for c in CALLS} == recorded and len(CALLS) >= 20


@pytest.mark.parametrize("call", CALLS, ids=[c.label for c in CALLS])
def test_parse_of_the_simulated_answer_has_the_recorded_keys(replayer: Replayer, call: RecordedCall) -> None:
    try:
        ours = replayer.run(call)
    finally:
        replayer.clean_up()
    ignore = {key for method, key in UTA_ONLY_KEYS if method == call.method} if call.params.get("uta") else set()
    assert non_null_paths(call.parsed), "the recording has no non-null unified field to compare"
    assert missing_paths(call.parsed, ours, ignore) == [], "null or absent in the simulator's answer"


def test_missing_paths_names_what_has_no_value() -> None:
    recorded = {"id": "1", "fee": {"cost": 1.0, "currency": "USDT"}, "trades": [], "info": {"x": 1}, "price": None,
                "levels": [[1.0, 2.0]], "free": {"USDT": 1.0}, "total": {"USDT": 1.0, "BGB": 2.0}}  # fmt: skip
    ours: dict[str, Any] = {"id": "9", "fee": {"cost": None, "currency": "USDT"}, "trades": [], "info": {},
                            "price": None, "levels": [], "free": {"BTC": None}, "total": {"BTC": 3.0}}  # fmt: skip
    levels = ["levels[*][*]", "levels[*][]", "levels[]"]
    assert missing_paths(recorded, ours) == ["fee.cost", "free.<code>", *levels]
    assert missing_paths(recorded, ours, ignore={"cost", "<code>"}) == levels
