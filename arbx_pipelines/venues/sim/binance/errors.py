"""Binance's error answers: ``{"code": <negative int>, "msg": "..."}`` with the HTTP status Binance uses.

Codes and messages are the ones the real API returns (spot and USD-M futures differ for the same cause).
"""

from __future__ import annotations

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.venue_api import Reply, SimRequest

RATE_LIMIT_MESSAGE = (
    "Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
    "Please use the websocket for live updates to avoid polling the API."
)


def _futures(request: SimRequest) -> bool:
    return request.path.startswith(("/fapi/", "/futures/"))


def binance_error(error: SimError, request: SimRequest) -> tuple[int, int, str]:
    """(HTTP status, code, msg) for an engine error on this request's API (spot, sapi or USD-M futures)."""
    futures = _futures(request)
    sapi = request.path.startswith("/sapi/")
    detail = error.detail
    kind = error.kind
    if kind is ErrorKind.BAD_SIGNATURE:
        return 400, -1022, "Signature for this request is not valid."
    if kind in (ErrorKind.BAD_API_KEY, ErrorKind.BAD_PASSPHRASE):
        return 401, -2015, "Invalid API-key, IP, or permissions for action."
    if kind is ErrorKind.BAD_TIMESTAMP:
        return 400, -1021, "Timestamp for this request is outside of the recvWindow."
    if kind is ErrorKind.MISSING_PARAMETER:
        name = detail.get("parameter", "")
        return 400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    if kind is ErrorKind.BAD_PARAMETER:
        if detail.get("parameter") == "positionSide":
            return 400, -4061, "Order's position side does not match user's setting."
        if detail.get("parameter") == "type":
            return 400, -1116, "Invalid orderType."
        return 400, -1130, f"Data sent for parameter '{detail.get('parameter', '')}' is not valid."
    if kind is ErrorKind.BAD_SYMBOL:
        return 400, -1121, "Invalid symbol."
    if kind in (ErrorKind.INSUFFICIENT_BALANCE, ErrorKind.INSUFFICIENT_MARGIN):
        if sapi:
            return 400, -5002, "You have insufficient balance."
        if futures:
            return 400, -2019, "Margin is insufficient."
        return 400, -2010, "Account has insufficient balance for requested action."
    if kind is ErrorKind.MIN_NOTIONAL:
        if futures:
            minimum = detail.get("min_notional", 5)
            return 400, -4164, f"Order's notional must be no smaller than {minimum} (unless you choose reduce only)."
        return 400, -1013, "Filter failure: NOTIONAL"
    if kind is ErrorKind.LOT_SIZE:
        if futures:
            return 400, -1111, "Precision is over the maximum defined for this asset."
        return 400, -1013, "Filter failure: LOT_SIZE"
    if kind is ErrorKind.PRICE_FILTER:
        if futures:
            return 400, -4014, "Price not increased by tick size."
        return 400, -1013, "Filter failure: PRICE_FILTER"
    if kind is ErrorKind.REDUCE_ONLY_REJECTED:
        return 400, -2022, "ReduceOnly Order is rejected."
    if kind is ErrorKind.POST_ONLY_REJECTED:
        if futures:
            return 400, -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected."
        return 400, -2010, "Order would immediately match and take."
    if kind is ErrorKind.UNKNOWN_ORDER:
        return 400, -2013, "Order does not exist."
    if kind is ErrorKind.CANCEL_UNKNOWN_ORDER:
        return 400, -2011, "Unknown order sent."
    if kind is ErrorKind.DUPLICATE_CLIENT_ORDER_ID:
        if futures:
            return 400, -4116, "ClientOrderId is duplicated."
        return 400, -2010, "Duplicate order sent."
    if kind is ErrorKind.LEVERAGE_INVALID:
        return 400, -4028, f"Leverage {detail.get('leverage', '')} is not valid".replace("  ", " ")
    if kind is ErrorKind.MARGIN_MODE_UNCHANGED:
        return 400, -4046, "No need to change margin type."
    if kind is ErrorKind.MARGIN_MODE_LOCKED:
        return 400, -4048, "Margin type cannot be changed if there exists position."
    if kind is ErrorKind.RATE_LIMITED:
        limit = 2400 if futures else 6000
        return 429, -1003, RATE_LIMIT_MESSAGE.format(limit=limit)
    if kind is ErrorKind.NOT_FOUND:
        return 404, -1000, f"Path {request.path} not found."
    return 500, -1000, "An unknown error occured while processing the request."


def render(error: SimError, request: SimRequest) -> Reply:
    status, code, message = binance_error(error, request)
    headers = {"Retry-After": "60"} if status == 429 else {}
    return Reply({"code": code, "msg": message}, status=status, headers=headers)
