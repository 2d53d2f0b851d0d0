"""Venue-native and third-party symbol names to ccxt unified symbols (``BTC/USDT:USDT``, ``BTC/USD:BTC``)."""

from __future__ import annotations

import re

from arbx_pipelines.history.fields import FieldError

#: quote assets of Binance USD-M perpetuals, longest first so FDUSD wins over USD
_LINEAR_QUOTES: tuple[str, ...] = ("FDUSD", "USDT", "USDC", "BUSD")
_BASE = re.compile(r"^[A-Z0-9]+$")


def binance_usdm_symbol(native: str) -> str:
    """``BTCUSDT`` -> ``BTC/USDT:USDT`` (USD-M perpetual); coin-M ``BTCUSD_PERP`` -> ``BTC/USD:BTC``."""
    if native.endswith("USD_PERP"):
        return coin_margined(native.removesuffix("USD_PERP"), native)
    if "_" in native:
        raise FieldError(f"symbol {native!r} is a delivery future, not a perpetual")
    for quote in _LINEAR_QUOTES:
        base = native.removesuffix(quote)
        if base != native and _BASE.match(base):
            return f"{base}/{quote}:{quote}"
    raise FieldError(f"symbol {native!r} is not a Binance USD-M perpetual (expected e.g. BTCUSDT)")


def coin_margined(base: str, native: str) -> str:
    if not _BASE.match(base):
        raise FieldError(f"symbol {native!r} has no recognisable base asset")
    return f"{base}/USD:{base}"


def all_exchanges_symbol(pair: str, contract: str) -> str:
    """all_exchanges.csv names: spot ``BTC/USDT``; perpetual ``BTCUSDT`` (linear) and ``BTCUSDCM`` (coin-margined)."""
    if contract == "spot":
        base, _, quote = pair.partition("/")
        if not (_BASE.match(base) and _BASE.match(quote)):
            raise FieldError(f"spot pair {pair!r} is not BASE/QUOTE")
        return pair
    if contract == "perpetual":
        if pair.endswith("USDCM"):
            return coin_margined(pair.removesuffix("USDCM"), pair)
        if pair.endswith("USDT") and _BASE.match(pair.removesuffix("USDT")):
            return f"{pair.removesuffix('USDT')}/USDT:USDT"
        raise FieldError(f"perpetual pair {pair!r} is neither BASEUSDT nor BASEUSDCM")
    raise FieldError(f"contract {contract!r} is neither 'spot' nor 'perpetual'")


def binance_export_symbol(contracts: str) -> str:
    """Binance website export ``Contracts`` column: ``BTCUSDT Perpetual``, ``BTCUSD CM Perpetual``."""
    words = contracts.split()
    if len(words) == 3 and words[1:] == ["CM", "Perpetual"] and words[0].endswith("USD"):
        return coin_margined(words[0].removesuffix("USD"), contracts)
    if len(words) == 2 and words[1] == "Perpetual":
        return binance_usdm_symbol(words[0])
    raise FieldError(f"contract {contracts!r} is not 'XXXUSDT Perpetual' or 'XXXUSD CM Perpetual'")
