"""OKX request signing, checked as the venue does.

Private requests carry ``OK-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE``, ``OK-ACCESS-TIMESTAMP`` (ISO 8601 UTC with
milliseconds, e.g. ``2020-12-08T09:08:57.715Z``) and ``OK-ACCESS-SIGN``: the base64 HMAC-SHA256, keyed by the
secret, of ``timestamp + METHOD + requestPath + body``, where ``requestPath`` is ``/api/v5/...`` with ``?query`` for
GET requests and ``body`` the raw JSON of a POST. A timestamp more than 30 s away from the wall clock is expired
(50102). The demo-trading header ``x-simulated-trading: 1`` is accepted: the simulator is one environment for both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.venue_api import SimRequest

MAX_SKEW_MS = 30_000
DEMO_HEADER = "x-simulated-trading"

_MISSING = {
    "OK-ACCESS-KEY": ("50103", ErrorKind.BAD_API_KEY),
    "OK-ACCESS-PASSPHRASE": ("50104", ErrorKind.BAD_PASSPHRASE),
    "OK-ACCESS-TIMESTAMP": ("50107", ErrorKind.BAD_TIMESTAMP),
    "OK-ACCESS-SIGN": ("50106", ErrorKind.BAD_SIGNATURE),
}


def prehash(request: SimRequest, timestamp: str) -> str:
    path = request.path + (f"?{request.query_string}" if request.query_string else "")
    body = "" if request.method == "GET" else request.body
    return f"{timestamp}{request.method.upper()}{path}{body}"


def sign(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_timestamp(text: str) -> int:
    """``2020-12-08T09:08:57.715Z`` -> epoch ms; ValueError when malformed."""
    if not text.endswith("Z"):
        raise ValueError(text)
    return int(datetime.fromisoformat(text[:-1] + "+00:00").timestamp() * 1000)


def verify(request: SimRequest, api_key: str, secret: str, passphrase: str) -> None:
    headers = request.headers
    for name, (code, kind) in _MISSING.items():
        if not headers.get(name):
            raise SimError(kind, f'Request header "{name}" can not be empty.', code=code)
    if not hmac.compare_digest(headers["OK-ACCESS-KEY"], api_key):
        raise SimError(ErrorKind.BAD_API_KEY, "Invalid OK-ACCESS-KEY")
    timestamp = headers["OK-ACCESS-TIMESTAMP"]
    try:
        sent_ms = parse_timestamp(timestamp)
    except ValueError as exc:
        raise SimError(ErrorKind.BAD_TIMESTAMP, "Invalid OK-ACCESS-TIMESTAMP", code="50112") from exc
    if abs(time.time() * 1000 - sent_ms) > MAX_SKEW_MS:
        raise SimError(ErrorKind.BAD_TIMESTAMP, "Timestamp request expired")
    if not hmac.compare_digest(headers["OK-ACCESS-PASSPHRASE"], passphrase):
        raise SimError(ErrorKind.BAD_PASSPHRASE, "OK-ACCESS-PASSPHRASE incorrect")
    if not hmac.compare_digest(sign(secret, prehash(request, timestamp)), headers["OK-ACCESS-SIGN"]):
        raise SimError(ErrorKind.BAD_SIGNATURE, "Invalid Sign")
