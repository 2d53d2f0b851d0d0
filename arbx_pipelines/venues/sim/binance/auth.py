"""Binance request signing, checked exactly as the venue does.

``X-MBX-APIKEY`` carries the key; ``signature`` (in the query or the form body) is the lowercase hex
HMAC-SHA256, keyed by the secret, of the query string followed by the body, without the signature itself.
``timestamp`` must be within ``recvWindow`` (default 5000 ms, at most 60000) behind the server's wall clock and at
most 1000 ms ahead of it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.venue_api import SimRequest

DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000


def _split_signature(text: str) -> tuple[str, str | None]:
    """``(text without &signature=..., signature)``."""
    parts = text.split("&") if text else []
    kept, signature = [], None
    for part in parts:
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def verify(request: SimRequest, api_key: str, secret: str) -> None:
    if request.headers.get("X-MBX-APIKEY") != api_key:
        raise SimError(ErrorKind.BAD_API_KEY, "unknown api key")
    query, query_signature = _split_signature(request.query_string)
    is_form = bool(request.body) and not request.body.lstrip().startswith("{")
    body, body_signature = _split_signature(request.body) if is_form else (request.body, None)
    signature = query_signature or body_signature
    if not signature:
        raise SimError(ErrorKind.MISSING_PARAMETER, "signature missing", parameter="signature")
    if not hmac.compare_digest(sign(secret, query + body).lower(), signature.lower()):
        raise SimError(ErrorKind.BAD_SIGNATURE, "signature mismatch")
    params = dict(parse_qsl(query)) | (dict(parse_qsl(body)) if is_form else {})
    try:
        timestamp = int(params["timestamp"])
    except (KeyError, ValueError) as exc:
        raise SimError(ErrorKind.MISSING_PARAMETER, "timestamp missing", parameter="timestamp") from exc
    try:
        window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW))
    except ValueError as exc:
        raise SimError(ErrorKind.BAD_PARAMETER, "recvWindow", parameter="recvWindow") from exc
    if not 0 < window <= MAX_RECV_WINDOW:
        raise SimError(ErrorKind.BAD_PARAMETER, "recvWindow out of range", parameter="recvWindow")
    now = int(time.time() * 1000)
    if timestamp > now + 1000 or now - timestamp > window:
        raise SimError(ErrorKind.BAD_TIMESTAMP, "timestamp outside recvWindow")
