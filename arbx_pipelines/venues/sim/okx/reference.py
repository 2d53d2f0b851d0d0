"""OKX reference data: the instruments it lists (with contract sizes) and the currency list ``load_markets`` reads.

Swaps trade in contracts of ``ctVal`` coins, as on OKX (BTC 0.01, ETH 0.1, SOL 1, DOGE 1000): ``ctVal`` is the
power of ten nearest to a contract worth ~300 USDT, ``lotSz`` = ``minSz`` a power of ten between 0.01 and 1
contract. The engine works in coins, so a swap's engine lot is ``lotSz * ctVal``. OKX publishes no minimum
notional, only ``minSz``; the engine's minimum notional is therefore zero here.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.history import History
from arbx_pipelines.venues.sim.okx.formats import inst_id, num
from arbx_pipelines.venues.sim.universe import Coin, Instrument, build_instruments, venue_coins

CONTRACT_VALUE_USD = 300.0
MIN_LOT_CONTRACTS = Decimal("0.01")
SPOT_LOT_FLOOR = Decimal("0.00000001")
MAX_LEVERAGE = 100
#: listing time of the simulated instruments (OKX's BTC-USDT-SWAP listing)
LIST_TIME_MS = 1611916828000


def _power_of_ten(exponent: float) -> Decimal:
    return Decimal(1).scaleb(int(exponent))


def okx_swap(instrument: Instrument, price: float) -> Instrument:
    contract = _power_of_ten(round(math.log10(CONTRACT_VALUE_USD / price)))
    lot_contracts = min(Decimal(1), max(MIN_LOT_CONTRACTS, instrument.lot_size / contract))
    lot = lot_contracts * contract
    return replace(instrument, contract_size=contract, lot_size=lot, min_qty=lot, min_notional=Decimal(0),
                   max_leverage=min(instrument.max_leverage, MAX_LEVERAGE))  # fmt: skip


def okx_spot(instrument: Instrument) -> Instrument:
    lot = max(SPOT_LOT_FLOOR, instrument.min_qty / 1000)
    return replace(instrument, lot_size=lot, min_notional=Decimal(0))


def okx_instruments(name: str, seed: int, history: History) -> dict[str, Instrument]:
    coins: dict[str, Coin] = {coin.base: coin for coin in venue_coins(name, seed, history)}
    result: dict[str, Instrument] = {}
    for symbol, instrument in build_instruments(list(coins.values())).items():
        price = coins[instrument.base].price
        result[symbol] = okx_swap(instrument, price) if instrument.is_swap else okx_spot(instrument)
    return result


def lot_contracts(instrument: Instrument) -> Decimal:
    """``lotSz``/``minSz`` in the venue's unit (contracts for swaps, coins for spot)."""
    if instrument.is_swap:
        return instrument.lot_size / instrument.contract_size
    return instrument.lot_size


def min_size(instrument: Instrument) -> Decimal:
    if instrument.is_swap:
        return instrument.min_qty / instrument.contract_size
    return instrument.min_qty


def instrument_payload(instrument: Instrument) -> dict[str, Any]:
    swap = instrument.is_swap
    family = f"{instrument.base}-{instrument.quote}"
    return {
        "alias": "", "auctionEndTime": "", "baseCcy": "" if swap else instrument.base, "category": "1",
        "ctMult": "1" if swap else "", "ctType": "linear" if swap else "",
        "ctVal": num(instrument.contract_size) if swap else "", "ctValCcy": instrument.base if swap else "",
        "expTime": "", "instFamily": family if swap else "", "instId": inst_id(instrument),
        "instType": "SWAP" if swap else "SPOT", "lever": str(instrument.max_leverage if swap else 10),
        "listTime": str(LIST_TIME_MS), "lotSz": num(lot_contracts(instrument)),
        "maxIcebergSz": "100000000.0000000000000000", "maxLmtAmt": "20000000", "maxLmtSz": "100000000",
        "maxMktAmt": "" if swap else "1000000", "maxMktSz": "12000" if swap else "1000000",
        "maxStopSz": "12000" if swap else "1000000", "maxTriggerSz": "100000000.0000000000000000",
        "maxTwapSz": "100000000.0000000000000000", "minSz": num(min_size(instrument)), "optType": "",
        "quoteCcy": "" if swap else instrument.quote, "ruleType": "normal",
        "settleCcy": instrument.quote if swap else "", "state": "live", "stk": "",
        "tickSz": num(instrument.tick_size), "uly": family if swap else "",
    }  # fmt: skip


def currency_payload(coin: str) -> dict[str, Any]:
    """One chain of a currency as ``/api/v5/asset/currencies`` lists it (one chain per coin here)."""
    return {
        "burningFeeRate": "", "canDep": True, "canInternal": True, "canWd": True, "ccy": coin,
        "chain": f"{coin}-{'TRC20' if coin == 'USDT' else coin}", "ctAddr": "", "depEstOpenTime": "",
        "depQuotaFixed": "", "depQuoteDailyLayer2": "", "fee": "0.1", "logoLink": "", "mainNet": True,
        "maxFee": "0.2", "maxFeeForCtAddr": "", "maxWd": "10000000", "minDep": "0.00000001",
        "minDepArrivalConfirm": "1", "minFee": "0.1", "minFeeForCtAddr": "", "minInternal": "0.0001",
        "minWd": "1", "minWdUnlockConfirm": "2", "name": coin, "needTag": False, "usedDepQuotaFixed": "",
        "usedWdQuota": "0", "wdQuota": "10000000", "wdTickSz": "8",
    }  # fmt: skip


class OkxReference:
    """Payloads built once per server: they never change and ``load_markets`` asks for them every time."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self.by_id = {inst_id(i): i for i in instruments}
        self.spot = [instrument_payload(i) for i in instruments if not i.is_swap]
        self.swap = [instrument_payload(i) for i in instruments if i.is_swap]
        coins = sorted({"USDT", *(i.base for i in instruments)})
        self.currencies = [currency_payload(coin) for coin in coins]
