"""Bitget reference data served to ``load_markets()``: coin list, spot symbols, USDT-M contracts, margin currencies.

Built once per server from the instrument universe. Precision is published the way Bitget does it: spot pairs give
``pricePrecision`` / ``quantityPrecision`` as numbers of decimals; contracts give ``pricePlace`` (decimals) with
``priceEndStep`` (the tick in units of the last decimal), ``volumePlace`` with ``sizeMultiplier`` (the lot),
``minTradeNum`` (the minimum amount) and ``minTradeUSDT`` (the minimum notional).
"""

from __future__ import annotations

from typing import Any

from arbx_pipelines.venues.sim.bitget.formats import decimals, native_id, text
from arbx_pipelines.venues.sim.settings import FeeSchedule
from arbx_pipelines.venues.sim.universe import Instrument

#: contracts were listed on this date in the simulated world
LAUNCH_MS = 1_600_000_000_000


def spot_symbol(instrument: Instrument, fees: FeeSchedule) -> dict[str, Any]:
    return {
        "symbol": native_id(instrument), "baseCoin": instrument.base, "quoteCoin": instrument.quote,
        "minTradeAmount": "0", "maxTradeAmount": "10000000000",
        "takerFeeRate": text(fees.spot_taker), "makerFeeRate": text(fees.spot_maker),
        "pricePrecision": str(decimals(instrument.tick_size)), "quantityPrecision": str(decimals(instrument.lot_size)),
        "quotePrecision": "6", "status": "online", "minTradeUSDT": text(instrument.min_notional),
        "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05", "areaSymbol": "no", "orderQuantity": "200",
        "openTime": str(LAUNCH_MS), "offTime": "",
    }  # fmt: skip


def contract(instrument: Instrument, fees: FeeSchedule) -> dict[str, Any]:
    price_place = decimals(instrument.tick_size)
    end_step = instrument.tick_size.scaleb(price_place).normalize()
    return {
        "symbol": native_id(instrument), "baseCoin": instrument.base, "quoteCoin": instrument.quote,
        "buyLimitPriceRatio": "0.02", "sellLimitPriceRatio": "0.02", "feeRateUpRatio": "0.005",
        "makerFeeRate": text(fees.swap_maker), "takerFeeRate": text(fees.swap_taker), "openCostUpRatio": "0.01",
        "supportMarginCoins": ["USDT"], "minTradeNum": text(instrument.min_qty), "priceEndStep": text(end_step),
        "volumePlace": str(decimals(instrument.lot_size)), "pricePlace": str(price_place),
        "sizeMultiplier": text(instrument.lot_size), "symbolType": "perpetual",
        "minTradeUSDT": text(instrument.min_notional), "maxSymbolOrderNum": "200", "maxProductOrderNum": "400",
        "maxPositionNum": "150", "symbolStatus": "normal", "offTime": "-1", "limitOpenTime": "-1",
        "deliveryTime": "", "deliveryStartTime": "", "deliveryPeriod": "", "launchTime": str(LAUNCH_MS),
        "fundInterval": str(instrument.funding_interval_hours), "minLever": "1",
        "maxLever": str(instrument.max_leverage), "posLimit": "0.05", "maintainTime": "",
        "maxMarketOrderQty": text(instrument.lot_size * 1_000_000),
        "maxOrderQty": text(instrument.lot_size * 10_000_000),
    }  # fmt: skip


def _chain(coin: str) -> dict[str, Any]:
    return {
        "chain": coin, "needTag": "false", "withdrawable": "true", "rechargeable": "true", "withdrawFee": "0.1",
        "extraWithdrawFee": "0", "depositConfirm": "12", "withdrawConfirm": "64", "minDepositAmount": "0.0001",
        "minWithdrawAmount": "1", "browserUrl": "", "contractAddress": "", "withdrawStep": "0",
        "withdrawMinScale": "8", "congestion": "normal",
    }  # fmt: skip


def margin_currency(instrument: Instrument) -> dict[str, Any]:
    return {
        "symbol": native_id(instrument), "baseCoin": instrument.base, "quoteCoin": instrument.quote,
        "maxCrossedLeverage": "3", "maxIsolatedLeverage": "10", "warningRiskRatio": "0.8",
        "liquidationRiskRatio": "1", "minTradeAmount": "0", "maxTradeAmount": "10000000000",
        "takerFeeRate": "0.001", "makerFeeRate": "0.001", "pricePrecision": str(decimals(instrument.tick_size)),
        "quantityPrecision": str(decimals(instrument.lot_size)), "minTradeUSDT": text(instrument.min_notional),
        "isBorrowable": True, "userMinBorrow": "0.00000001", "status": "1", "isIsolatedBaseBorrowable": True,
        "isIsolatedQuoteBorrowable": True, "isCrossBorrowable": True,
    }  # fmt: skip


class BitgetReference:
    """Static payloads, built once: they never change while the server runs."""

    def __init__(self, instruments: list[Instrument], fees: FeeSchedule) -> None:
        spots = [i for i in instruments if not i.is_swap]
        swaps = [i for i in instruments if i.is_swap]
        self.spot_symbols = [spot_symbol(i, fees) for i in spots]
        self.usdt_contracts = [contract(i, fees) for i in swaps]
        self.margin_currencies = [margin_currency(i) for i in spots]
        coins = sorted({"USDT", *(i.base for i in instruments)})
        self.coins = [
            {"coinId": str(n + 1), "coin": coin, "transfer": "true", "chains": [_chain(coin)], "areaCoin": "no"}
            for n, coin in enumerate(coins)
        ]
