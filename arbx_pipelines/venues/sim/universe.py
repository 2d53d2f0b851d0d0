"""The instruments each simulated venue lists: a spot pair and a USDT perpetual per coin.

Engine instruments are keyed by ccxt unified symbols (``BTC/USDT``, ``BTC/USDT:USDT``); venue modules map them to
native ids. Amounts inside the engine are always in base currency; ``contract_size`` only tells a venue module how to
convert (OKX swaps trade in contracts).

Deterministic for a seed: which coins a venue lists and each perpetual's funding interval come from hashes of
(seed, venue, coin). Replayed coins keep their recorded interval; every venue gets 8h, 4h and 1h perpetuals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from arbx_pipelines.venues.sim.history import History
from arbx_pipelines.venues.sim.noise import label_key, uniform

#: coin -> (reference price in USDT, book depth per level in USD): the generator's starting point
BUILTIN_COINS: dict[str, tuple[float, float]] = {
    "BTC": (65000, 400000), "ETH": (3200, 250000), "BNB": (580, 60000), "SOL": (150, 120000),
    "XRP": (0.6, 80000), "DOGE": (0.15, 60000), "ADA": (0.45, 40000), "AVAX": (30, 30000),
    "DOT": (6.5, 25000), "LINK": (14, 30000), "TRX": (0.12, 20000), "LTC": (75, 25000),
    "BCH": (400, 20000), "UNI": (8, 15000), "ATOM": (7, 15000), "XLM": (0.1, 10000),
    "ETC": (23, 12000), "FIL": (5, 12000), "NEAR": (5, 15000), "APT": (8, 15000),
    "ARB": (0.8, 20000), "OP": (1.8, 15000), "INJ": (22, 10000), "SUI": (1.2, 20000),
    "SEI": (0.4, 10000), "TIA": (6, 10000), "AAVE": (120, 10000), "MKR": (2000, 6000),
    "CRV": (0.35, 8000), "SAND": (0.35, 6000), "MANA": (0.35, 5000), "AXS": (5, 4000),
    "GALA": (0.025, 5000), "APE": (0.9, 5000), "LDO": (1.6, 8000), "GRT": (0.2, 6000),
    "ALGO": (0.15, 5000), "VET": (0.025, 5000), "ICP": (9, 6000), "HBAR": (0.08, 8000),
    "EGLD": (30, 3000), "THETA": (1.5, 3000), "RUNE": (4, 5000), "KAVA": (0.4, 3000),
    "SNX": (2, 3000), "COMP": (55, 3000), "1INCH": (0.35, 3000), "ENS": (20, 3000),
    "DYDX": (1.5, 5000), "WLD": (2, 10000), "ORDI": (35, 6000), "STX": (1.8, 5000),
    "IMX": (1.5, 4000), "FET": (1.3, 8000), "AR": (25, 4000), "JUP": (0.9, 6000),
    "PYTH": (0.35, 4000), "TON": (6, 8000), "WIF": (2, 10000), "ENA": (0.5, 10000),
    "PENDLE": (4, 5000), "ZRO": (3, 4000), "ONDO": (1.0, 6000), "STRK": (0.6, 4000),
    "BLUR": (0.25, 3000), "CHZ": (0.07, 3000), "ZEC": (30, 3000), "ETHFI": (2.5, 3000),
}  # fmt: skip

#: coins every venue lists and that settle every 8h (the majors)
CORE_COINS = ("BTC", "ETH", "SOL", "XRP", "DOGE")
MIN_PAIRS_PER_VENUE = 50
#: share of the built-in coins a venue lists (seeded per venue, so venues differ a little)
LISTING_SHARE = 0.9


class MarketKind(StrEnum):
    SPOT = "spot"
    SWAP = "swap"


@dataclass(frozen=True)
class Coin:
    """One listed coin on one venue: the base of a spot pair and of a USDT perpetual."""

    base: str
    price: float
    depth_usd: float
    funding_interval_hours: int
    replayed: bool


@dataclass(frozen=True)
class Instrument:
    symbol: str
    base: str
    quote: str
    kind: MarketKind
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    depth_usd: float
    contract_size: Decimal = Decimal(1)
    funding_interval_hours: int = 8
    max_leverage: int = 20
    maint_margin_rate: Decimal = Decimal("0.01")

    @property
    def is_swap(self) -> bool:
        return self.kind is MarketKind.SWAP

    @property
    def spot_symbol(self) -> str:
        return f"{self.base}/{self.quote}"


def _power_of_ten(exponent: float) -> Decimal:
    return Decimal(1).scaleb(int(exponent))


def spot_instrument(coin: Coin) -> Instrument:
    price = coin.price
    tick = min(Decimal("0.01"), _power_of_ten(math.floor(math.log10(price)) - 5))
    lot = _power_of_ten(math.floor(math.log10(1 / price)))
    return Instrument(
        symbol=f"{coin.base}/USDT", base=coin.base, quote="USDT", kind=MarketKind.SPOT, tick_size=tick,
        lot_size=lot, min_qty=lot, min_notional=Decimal(5), depth_usd=coin.depth_usd,
    )  # fmt: skip


def swap_instrument(coin: Coin) -> Instrument:
    price = coin.price
    tick = min(Decimal("0.1"), _power_of_ten(math.floor(math.log10(price)) - 4))
    lot = _power_of_ten(round(math.log10(5 / price)))
    major = coin.base in ("BTC", "ETH")
    return Instrument(
        symbol=f"{coin.base}/USDT:USDT", base=coin.base, quote="USDT", kind=MarketKind.SWAP, tick_size=tick,
        lot_size=lot, min_qty=lot, min_notional=Decimal(100 if coin.base == "BTC" else 20 if major else 5),
        depth_usd=coin.depth_usd, funding_interval_hours=coin.funding_interval_hours,
        max_leverage=125 if major else 75 if coin.depth_usd >= 20000 else 50,
        maint_margin_rate=Decimal("0.004") if major else Decimal("0.01"),
    )  # fmt: skip


def _generated_interval(key: int, index: int) -> int:
    draw = uniform(key, index)
    return 1 if draw < 0.12 else 4 if draw < 0.35 else 8


def venue_coins(venue: str, seed: int, history: History) -> list[Coin]:
    """The coins ``venue`` lists: replayed coins of that venue plus a seeded share of the built-in ones.

    Guarantees at least :data:`MIN_PAIRS_PER_VENUE` coins and at least two perpetuals each on 8h, 4h and 1h.
    """
    key = label_key(seed, "universe", venue)
    coins: dict[str, Coin] = {}
    for base in history.coins(venue):
        series = history.get(venue, base)
        assert series is not None
        depth = BUILTIN_COINS.get(base, (0.0, 3000.0))[1]
        coins[base] = Coin(base, series.perp_prices[0], depth, series.interval_hours, True)
    builtin = sorted(BUILTIN_COINS)
    for index, base in enumerate(builtin):
        if base in coins:
            continue
        if base not in CORE_COINS and uniform(key, index) >= LISTING_SHARE:
            continue
        price, depth = BUILTIN_COINS[base]
        reference = history.reference(base)
        if reference is not None:
            price = reference.perp_prices[0]
        interval = 8 if base in CORE_COINS else _generated_interval(key, 1000 + index)
        coins[base] = Coin(base, price, depth, interval, False)
    for base in builtin:  # top up to the minimum count with the built-ins left out above
        if len(coins) >= MIN_PAIRS_PER_VENUE:
            break
        if base not in coins:
            price, depth = BUILTIN_COINS[base]
            coins[base] = Coin(base, price, depth, 8, False)
    _ensure_intervals(coins)
    return [coins[base] for base in sorted(coins)]


def _ensure_intervals(coins: dict[str, Coin], minimum: int = 2) -> None:
    """Re-time a few generated coins so every interval the venues use (8h, 4h, 1h) is present."""
    for interval in (1, 4, 8):
        have = sum(1 for coin in coins.values() if coin.funding_interval_hours == interval)
        candidates = [c for c in coins.values() if not c.replayed and c.base not in CORE_COINS]
        candidates = [c for c in candidates if c.funding_interval_hours == 8] if interval != 8 else candidates
        for coin in candidates[: max(0, minimum - have)]:
            coins[coin.base] = Coin(coin.base, coin.price, coin.depth_usd, interval, coin.replayed)


def build_instruments(coins: list[Coin]) -> dict[str, Instrument]:
    """Spot and perpetual instruments of each coin, keyed by unified symbol."""
    result: dict[str, Instrument] = {}
    for coin in coins:
        for instrument in (spot_instrument(coin), swap_instrument(coin)):
            result[instrument.symbol] = instrument
    return result
