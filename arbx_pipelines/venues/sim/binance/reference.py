"""Binance reference data served to ``load_markets()``: exchange info (spot, USD-M, COIN-M), coin config, margin pairs.

Built once per server from the instrument universe (these payloads are large and never change), so a
``load_markets()`` costs a dictionary copy, not a rebuild.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.binance.formats import decimals, fixed8, native_id, plain
from arbx_pipelines.venues.sim.universe import Instrument

SPOT_RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]
FUTURES_RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
]
#: perpetuals were listed on this date in the simulated world (Binance's own BTCUSDT onboard date)
ONBOARD_MS = 1569398400000
PERPETUAL_DELIVERY_MS = 4133404800000


def spot_symbol(instrument: Instrument) -> dict[str, Any]:
    max_qty = Decimal(9000000) * instrument.lot_size
    return {
        "symbol": native_id(instrument), "status": "TRADING",
        "baseAsset": instrument.base, "baseAssetPrecision": 8,
        "quoteAsset": instrument.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True, "cancelReplaceAllowed": True, "amendAllowed": True,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": True,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fixed8(instrument.tick_size),
             "maxPrice": fixed8(instrument.tick_size * 10**9), "tickSize": fixed8(instrument.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": fixed8(instrument.min_qty), "maxQty": fixed8(max_qty),
             "stepSize": fixed8(instrument.lot_size)},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": fixed8(max_qty / 10),
             "stepSize": "0.00000000"},
            {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
             "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
             "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
            {"filterType": "NOTIONAL", "minNotional": fixed8(instrument.min_notional), "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"],
    }  # fmt: skip


def futures_symbol(instrument: Instrument) -> dict[str, Any]:
    tick, lot = instrument.tick_size, instrument.lot_size
    return {
        "symbol": native_id(instrument), "pair": native_id(instrument), "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_MS, "onboardDate": ONBOARD_MS, "status": "TRADING",
        "maintMarginPercent": "2.5000", "requiredMarginPercent": "5.0000",
        "baseAsset": instrument.base, "quoteAsset": instrument.quote, "marginAsset": "USDT",
        "pricePrecision": decimals(tick), "quantityPrecision": decimals(lot),
        "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [],
        "settlePlan": 0, "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": plain(tick), "maxPrice": plain(tick * 10**8),
             "tickSize": plain(tick)},
            {"filterType": "LOT_SIZE", "stepSize": plain(lot), "maxQty": plain(lot * 10**7), "minQty": plain(lot)},
            {"filterType": "MARKET_LOT_SIZE", "stepSize": plain(lot), "maxQty": plain(lot * 10**6),
             "minQty": plain(lot)},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": plain(instrument.min_notional)},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
             "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                       "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "permissionSets": ["GRID", "COPY"],
    }  # fmt: skip


def _network(coin: str) -> dict[str, Any]:
    return {
        "network": coin, "coin": coin, "withdrawIntegerMultiple": "0.00000001", "isDefault": True,
        "depositEnable": True, "withdrawEnable": True, "depositDesc": "", "withdrawDesc": "", "specialTips": "",
        "name": coin, "resetAddressStatus": False, "addressRegex": "^[0-9a-zA-Z]{20,64}$", "memoRegex": "",
        "withdrawFee": "0.1", "withdrawMin": "1", "withdrawMax": "10000000", "withdrawInternalMin": "0.00000001",
        "depositDust": "0.00000001", "minConfirm": 12, "unLockConfirm": 0, "sameAddress": False,
        "estimatedArrivalTime": 5, "busy": False, "contractAddressUrl": "", "contractAddress": "",
        "denomination": 1,
    }  # fmt: skip


class BinanceReference:
    def __init__(self, instruments: list[Instrument]) -> None:
        spots = [i for i in instruments if not i.is_swap]
        swaps = [i for i in instruments if i.is_swap]
        self.spot_info = {"timezone": "UTC", "serverTime": 0, "rateLimits": SPOT_RATE_LIMITS, "exchangeFilters": [],
                          "symbols": [spot_symbol(i) for i in spots]}  # fmt: skip
        self.futures_info = {
            "timezone": "UTC", "serverTime": 0, "futuresType": "U_MARGINED", "rateLimits": FUTURES_RATE_LIMITS,
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [futures_symbol(i) for i in swaps],
        }  # fmt: skip
        self.coin_futures_info = {"timezone": "UTC", "serverTime": 0, "rateLimits": FUTURES_RATE_LIMITS,
                                  "exchangeFilters": [], "symbols": []}  # fmt: skip
        coins = sorted({"USDT", *(i.base for i in instruments)})
        self.coins = [
            {"coin": coin, "depositAllEnable": True, "withdrawAllEnable": True, "name": coin, "free": "0",
             "locked": "0", "freeze": "0", "withdrawing": "0", "ipoing": "0", "ipoable": "0", "storage": "0",
             "isLegalMoney": False, "trading": True, "networkList": [_network(coin)]}
            for coin in coins
        ]  # fmt: skip
        self.cross_margin_pairs = [
            {"id": str(351637150141315861 + n), "symbol": native_id(i), "base": i.base, "quote": i.quote,
             "isMarginTrade": True, "isBuyAllowed": True, "isSellAllowed": True}
            for n, i in enumerate(spots)
        ]  # fmt: skip
        self.isolated_margin_pairs = [
            {"symbol": native_id(i), "base": i.base, "quote": i.quote, "isMarginTrade": True, "isBuyAllowed": True,
             "isSellAllowed": True}
            for i in spots
        ]  # fmt: skip
