"""Helpers for tests of the simulated OKX over real HTTP: wired stock ccxt clients and hand-signed raw requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
from sim_http_support import FAST

from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import DEFAULT_API_KEY, DEFAULT_PASSPHRASE, DEFAULT_SECRET


def okx_client(server: SimServer, **config: Any) -> ccxt.okx:
    """A stock sync ``ccxt.okx`` pointed at ``server`` with the simulator's credentials (no client throttling)."""
    return wire(ccxt.okx(FAST | config), server.base_url)


def okx_async_client(server: SimServer, **config: Any) -> ccxt_async.okx:
    """The async counterpart (load markets inside the event loop)."""
    return wire(ccxt_async.okx(FAST | config), server.base_url)


def okx_timestamp(shift: timedelta = timedelta()) -> str:
    """``2020-12-08T09:08:57.715Z``, as OKX wants it, ``shift`` away from now."""
    moment = datetime.now(UTC) + shift
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def raw_okx(
    server: SimServer,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str = DEFAULT_API_KEY,
    secret: str = DEFAULT_SECRET,
    passphrase: str = DEFAULT_PASSPHRASE,
    timestamp: str | None = None,
    signed: bool = True,
    headers: dict[str, str] | None = None,
    body_text: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Send one request to the simulated OKX (``path`` like ``/api/v5/account/balance?ccy=USDT``), signed the way
    OKX documents it; ``body_text`` sends a body exactly as given. Returns (HTTP status, JSON body)."""
    text = body_text if body_text is not None else "" if body is None else json.dumps(body)
    sent: dict[str, str] = {"Content-Type": "application/json", **(headers or {})}
    if signed:
        stamp = timestamp or okx_timestamp()
        digest = hmac.new(secret.encode(), f"{stamp}{method}{path}{text}".encode(), hashlib.sha256).digest()
        sent |= {"OK-ACCESS-KEY": key, "OK-ACCESS-PASSPHRASE": passphrase, "OK-ACCESS-TIMESTAMP": stamp,
                 "OK-ACCESS-SIGN": base64.b64encode(digest).decode()}  # fmt: skip
    request = urllib.request.Request(f"{server.url('okx')}{path}", data=text.encode() if text else None,
                                     method=method, headers=sent)  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
