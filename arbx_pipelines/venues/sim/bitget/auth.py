"""Bitget request signing, checked as the venue does.

Headers: ``ACCESS-KEY``, ``ACCESS-SIGN``, ``ACCESS-TIMESTAMP`` (ms), ``ACCESS-PASSPHRASE``. The signature is the
base64 HMAC-SHA256, keyed by the secret, of ``timestamp + METHOD + requestPath [+ "?" + queryString] + body``, where
``requestPath`` is the full path (``/api/v2/...``) as Bitget sees it. The timestamp must lie within 30 seconds of the
server's wall clock. ``PAPTRADING: 1`` (the demo environment header) is accepted and changes nothing.

ccxt signs the query *unencoded* (``rawencode``) while sending it percent-encoded; Bitget's own SDKs sign it as sent.
Both are accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import unquote

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.venue_api import SimRequest

#: how far ACCESS-TIMESTAMP may be from the server clock, either way
TIMESTAMP_WINDOW_MS = 30_000


def sign(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _header(request: SimRequest, name: str) -> str:
    return str(request.headers.get(name) or "")


def signed_payloads(request: SimRequest, timestamp: str) -> list[str]:
    """What the client may have signed: the query as sent and decoded. ``request.path`` is below the venue
    prefix the server strips (``/bitget``), i.e. the ``/api/...`` path the client signed."""
    base = timestamp + request.method.upper() + request.path
    if not request.query_string:
        return [base + request.body]
    sent = f"{base}?{request.query_string}{request.body}"
    decoded = f"{base}?{unquote(request.query_string.replace('+', ' '))}{request.body}"
    return [sent] if sent == decoded else [sent, decoded]


def verify(request: SimRequest, api_key: str, secret: str, passphrase: str) -> None:
    key = _header(request, "ACCESS-KEY")
    if not key:
        raise SimError(ErrorKind.BAD_API_KEY, "ACCESS_KEY cannot be empty", code="40001")
    if key != api_key:
        raise SimError(ErrorKind.BAD_API_KEY, "Apikey does not exist", code="40037")
    timestamp = _header(request, "ACCESS-TIMESTAMP")
    if not timestamp.isdigit():
        raise SimError(ErrorKind.BAD_TIMESTAMP, "Invalid ACCESS_TIMESTAMP", code="40005")
    if abs(int(time.time() * 1000) - int(timestamp)) > TIMESTAMP_WINDOW_MS:
        raise SimError(ErrorKind.BAD_TIMESTAMP, "Request timestamp expired", code="40008")
    given_passphrase = _header(request, "ACCESS-PASSPHRASE")
    if not given_passphrase:
        raise SimError(ErrorKind.BAD_PASSPHRASE, "ACCESS_PASSPHRASE cannot be empty", code="40011")
    if not hmac.compare_digest(given_passphrase, passphrase):
        raise SimError(ErrorKind.BAD_PASSPHRASE, "apikey/password is incorrect", code="40012")
    signature = _header(request, "ACCESS-SIGN")
    if not signature:
        raise SimError(ErrorKind.BAD_SIGNATURE, "Signature cannot be empty", code="40003")
    payloads = signed_payloads(request, timestamp)
    if not any(hmac.compare_digest(sign(secret, payload), signature) for payload in payloads):
        raise SimError(ErrorKind.BAD_SIGNATURE, "sign signature error", code="40009")
