"""Point a stock ccxt client at the simulator: rewrite ``urls['api']`` and set the simulator's credentials.

Nothing inside ccxt is patched: every URL in ``exchange.urls['api']`` (nested dicts too) keeps its path and gets
``http://HOST:PORT/<venue>`` as scheme and host, e.g. ``https://fapi.binance.com/fapi/v1`` becomes
``http://127.0.0.1:8700/binance/fapi/v1``. Works for sync and async (``ccxt.async_support``) clients alike.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from arbx_pipelines.venues.sim.settings import DEFAULT_API_KEY, DEFAULT_PASSPHRASE, DEFAULT_SECRET

#: ccxt exchange id -> simulated venue prefix
VENUE_OF_EXCHANGE_ID = {
    "binance": "binance",
    "binanceusdm": "binance",
    "okx": "okx",
    "bitget": "bitget",
}


def venue_prefix(exchange: Any) -> str:
    venue = VENUE_OF_EXCHANGE_ID.get(str(exchange.id))
    if venue is None:
        raise ValueError(f"no simulated venue for ccxt exchange {exchange.id!r}; known: {sorted(VENUE_OF_EXCHANGE_ID)}")
    return venue


def _rewrite(value: Any, root: str) -> Any:
    if isinstance(value, dict):
        return {key: _rewrite(item, root) for key, item in value.items()}
    if isinstance(value, str) and "://" in value:
        path = urlsplit(value).path.rstrip("/")
        return f"{root}{path}"
    return value


def simulated_urls(api_urls: Any, base_url: str, venue: str) -> Any:
    """``urls['api']`` with every URL moved under ``base_url/venue`` (pure; for inspection and tests)."""
    return _rewrite(api_urls, f"{base_url.rstrip('/')}/{venue}")


def wire(
    exchange: Any,
    base_url: str,
    *,
    api_key: str = DEFAULT_API_KEY,
    secret: str = DEFAULT_SECRET,
    passphrase: str = DEFAULT_PASSPHRASE,
) -> Any:
    """Rewrite ``exchange``'s API URLs to the simulator at ``base_url`` and set its credentials; returns it."""
    venue = venue_prefix(exchange)
    exchange.urls["api"] = simulated_urls(exchange.urls["api"], base_url, venue)
    exchange.apiKey = api_key
    exchange.secret = secret
    exchange.password = passphrase
    return exchange
