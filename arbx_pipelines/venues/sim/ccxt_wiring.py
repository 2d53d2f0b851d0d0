"""Point a stock ccxt client at the simulator: rewrite ``urls['api']`` and set the simulator's credentials.

Nothing inside ccxt is patched: every URL in ``exchange.urls['api']`` (nested dicts too) keeps its path and gets
``http://HOST:PORT/<venue>`` as scheme and host, e.g. ``https://fapi.binance.com/fapi/v1`` becomes
``http://127.0.0.1:8700/binance/fapi/v1``. Works for sync and async (``ccxt.async_support``) clients alike.

WebSocket URLs (``ws://``/``wss://``, ccxt.pro's ``urls['api']['ws']``) become
``ws://HOST:PORT/<venue>/ws/<first label of the host><path>``: ``wss://stream.binance.com:9443/ws`` becomes
``ws://127.0.0.1:8700/binance/ws/stream/ws`` (ccxt tells Binance spot streams by ``/stream`` in the URL), served by
``venues/sim/streams``. Binance clients take their REST snapshot at the depth the simulated streams maintain.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from arbx_pipelines.venues.sim.settings import DEFAULT_API_KEY, DEFAULT_PASSPHRASE, DEFAULT_SECRET
from arbx_pipelines.venues.sim.streams.frames import STREAM_DEPTH

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


def _rewrite(value: Any, root: str, ws_root: str) -> Any:
    if isinstance(value, dict):
        return {key: _rewrite(item, root, ws_root) for key, item in value.items()}
    if isinstance(value, str) and "://" in value:
        parts = urlsplit(value)
        path = parts.path.rstrip("/")
        if parts.scheme in ("ws", "wss"):
            label = (parts.hostname or "ws").split(".")[0]
            return f"{ws_root}/{label}{path}"
        return f"{root}{path}"
    return value


def simulated_urls(api_urls: Any, base_url: str, venue: str) -> Any:
    """``urls['api']`` with every URL moved under ``base_url/venue`` (pure; for inspection and tests)."""
    root = f"{base_url.rstrip('/')}/{venue}"
    scheme, _, rest = root.partition("://")
    ws_root = f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws"
    return _rewrite(api_urls, root, ws_root)


#: market-type sections of ``exchange.exceptions`` arbx trades, lowest precedence first
_MARKET_SECTIONS = ("spot", "linear")


def keep_error_classes(exchange: Any) -> Any:
    """Give error codes the exception classes ccxt picks on the real hosts.

    ccxt's Binance refines errors by the request's host (``https://fapi.binance.com/...`` -> its USD-M table), which a
    loopback URL never matches, so e.g. ``-2019 Margin is insufficient.`` would surface as ``ExchangeError`` instead
    of ``InsufficientFunds``. This copies the spot and USD-M code tables under the instance's generic table (the
    generic entries keep precedence, so nothing ccxt already maps changes). Instance data only; ccxt is untouched.
    """
    exceptions = copy.deepcopy(exchange.exceptions)
    merged: dict[str, Any] = {}
    for section in _MARKET_SECTIONS:
        table = exceptions.get(section)
        if isinstance(table, dict) and isinstance(table.get("exact"), dict):
            merged.update(table["exact"])
    if merged:
        merged.update(exceptions.get("exact", {}))
        exceptions["exact"] = merged
        exchange.exceptions = exceptions
    return exchange


def wire(
    exchange: Any,
    base_url: str,
    *,
    api_key: str = DEFAULT_API_KEY,
    secret: str = DEFAULT_SECRET,
    passphrase: str = DEFAULT_PASSPHRASE,
    live_error_classes: bool = True,
) -> Any:
    """Rewrite ``exchange``'s API URLs to the simulator at ``base_url`` and set its credentials; returns it.

    ``live_error_classes`` (default) applies :func:`keep_error_classes` so errors raise what they raise live.
    """
    venue = venue_prefix(exchange)
    exchange.urls["api"] = simulated_urls(exchange.urls["api"], base_url, venue)
    exchange.apiKey = api_key
    exchange.secret = secret
    exchange.password = passphrase
    if venue == "binance":
        exchange.options["watchOrderBookLimit"] = STREAM_DEPTH
    if live_error_classes:
        keep_error_classes(exchange)
    return exchange
