"""Bitget's error answers: ``{"code": "<5 digits>", "msg": "...", "requestTime": <ms>, "data": null}``.

Bitget answers business and authentication failures with HTTP 400 and the code in the body (an unknown key, for
instance, is ``400 {"code":"40037","msg":"Apikey does not exist"}``), the rate limit with HTTP 429 and code ``429``.
Spot (``/api/v2/spot``) and futures (``/api/v2/mix``) use different codes for the same cause; the codes and messages
below are the ones the venue sends (Bitget's published error-code table and recorded answers).
"""

from __future__ import annotations

import time

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.venue_api import Reply, SimRequest


def _is_mix(request: SimRequest) -> bool:
    return request.path.startswith("/api/v2/mix/")


def _is_transfer(request: SimRequest) -> bool:
    return request.path.startswith("/api/v2/spot/wallet/")


def _minimum(error: SimError) -> str:
    value = error.detail.get("min_notional", 5)
    return format(value, "f") if not isinstance(value, str) else value


def bitget_error(error: SimError, request: SimRequest) -> tuple[int, str, str]:
    """(HTTP status, code, msg) for an engine error raised while serving ``request``."""
    explicit = error.detail.get("code")
    if isinstance(explicit, str):
        status = 429 if explicit == "429" else 404 if explicit == "40404" else 400
        return status, explicit, error.message
    mix = _is_mix(request)
    kind = error.kind
    parameter = str(error.detail.get("parameter", ""))
    if kind is ErrorKind.BAD_SIGNATURE:
        return 400, "40009", "sign signature error"
    if kind is ErrorKind.BAD_API_KEY:
        return 400, "40037", "Apikey does not exist"
    if kind is ErrorKind.BAD_PASSPHRASE:
        return 400, "40012", "apikey/password is incorrect"
    if kind is ErrorKind.BAD_TIMESTAMP:
        return 400, "40008", "Request timestamp expired"
    if kind is ErrorKind.MISSING_PARAMETER:
        return 400, "40019", f"Parameter {parameter} cannot be empty"
    if kind is ErrorKind.BAD_PARAMETER:
        return 400, "40020", f"Parameter {parameter} error"
    if kind is ErrorKind.BAD_SYMBOL:
        return 400, "40034", f"Parameter {error.detail.get('symbol', '')} does not exist"
    if kind in (ErrorKind.INSUFFICIENT_BALANCE, ErrorKind.INSUFFICIENT_MARGIN):
        if _is_transfer(request):
            return 400, "43117", "Exceeds the maximum amount that can be transferred"
        if mix:
            return 400, "40762", "The order amount exceeds the balance"
        return 400, "43012", "Insufficient balance"
    if kind is ErrorKind.MIN_NOTIONAL:
        if mix:
            return 400, "45110", f"less than the minimum amount {_minimum(error)} USDT"
        return 400, "43027", f"The minimum order value {_minimum(error)} is not met"
    if kind is ErrorKind.LOT_SIZE:
        lot = error.detail.get("lot")
        return 400, "40808", f"Parameter verification exception size checkBDScale error value={lot}"
    if kind is ErrorKind.PRICE_FILTER:
        return 400, "41103", "param price scale error error"
    if kind is ErrorKind.REDUCE_ONLY_REJECTED:
        return 400, "22002", "No position to close"
    if kind is ErrorKind.POST_ONLY_REJECTED:
        return 400, "43002", "Pending order failed"
    if kind is ErrorKind.UNKNOWN_ORDER:
        if mix:
            return 400, "40109", "The data of the order cannot be found, please confirm the order number"
        return 400, "43001", "The order does not exist"
    if kind is ErrorKind.CANCEL_UNKNOWN_ORDER:
        if mix:
            return 400, "40768", "Order does not exist"
        return 400, "43001", "The order does not exist"
    if kind is ErrorKind.DUPLICATE_CLIENT_ORDER_ID:
        if mix:
            return 400, "45034", "clientOid duplicate"
        return 400, "43118", "clientOrderId duplicate"
    if kind is ErrorKind.LEVERAGE_INVALID:
        return 400, "43050", "Leverage exceeds the effective range"
    if kind is ErrorKind.MARGIN_MODE_LOCKED:
        return 400, "45117", "Currently holding positions or orders, the margin mode cannot be adjusted"
    if kind is ErrorKind.MARGIN_MODE_UNCHANGED:
        return 400, "40020", "Parameter marginMode error"
    if kind is ErrorKind.RATE_LIMITED:
        return 429, "429", "Too Many Requests"
    if kind is ErrorKind.NOT_FOUND:
        return 404, "40404", "Request URL NOT FOUND"
    return 500, "40015", "System is abnormal, please try again later"


def render(error: SimError, request: SimRequest) -> Reply:
    status, code, message = bitget_error(error, request)
    body = {"code": code, "msg": message, "requestTime": int(time.time() * 1000), "data": None}
    return Reply(body, status=status)
