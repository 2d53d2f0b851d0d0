"""OKX's error answers, with the codes and messages the real API returns.

Two shapes (both with the usual envelope):

* request-level: ``{"code": "50113", "msg": "Invalid Sign", "data": []}``, HTTP 401 for authentication, 429 for
  rate limits, 400 for malformed parameters, 200 for business errors such as ``51603`` (order does not exist);
* order-level, for order placement and cancellation: ``{"code": "1", "msg": "All operations failed", "data":
  [{"clOrdId", "ordId", "sCode": "51008", "sMsg": "...", "tag", "ts"}]}`` with HTTP 200 (``"2"`` when a batch
  partly succeeded), which ccxt maps through ``sCode``.

A ``SimError`` may carry ``code="..."`` in its detail to pin the exact OKX code (e.g. 50103 for a missing key).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.okx.formats import envelope
from arbx_pipelines.venues.sim.venue_api import Reply, SimRequest

#: endpoints whose business errors come back per order (``sCode``/``sMsg``)
ORDER_PATHS = frozenset(
    {"/api/v5/trade/order", "/api/v5/trade/batch-orders", "/api/v5/trade/cancel-order",
     "/api/v5/trade/cancel-batch-orders"}
)  # fmt: skip

#: error kinds a venue reports per order rather than for the whole request
ORDER_LEVEL = frozenset(
    {ErrorKind.INSUFFICIENT_BALANCE, ErrorKind.INSUFFICIENT_MARGIN, ErrorKind.MIN_NOTIONAL, ErrorKind.LOT_SIZE,
     ErrorKind.PRICE_FILTER, ErrorKind.REDUCE_ONLY_REJECTED, ErrorKind.POST_ONLY_REJECTED,
     ErrorKind.DUPLICATE_CLIENT_ORDER_ID, ErrorKind.CANCEL_UNKNOWN_ORDER, ErrorKind.LEVERAGE_INVALID,
     ErrorKind.MARGIN_MODE_LOCKED}
)  # fmt: skip


@dataclass(frozen=True)
class OkxError:
    status: int
    code: str
    msg: str


def _insufficient(error: SimError) -> str:
    asset = error.detail.get("asset", "USDT")
    if error.kind is ErrorKind.INSUFFICIENT_MARGIN:
        return f"Order failed. Insufficient {asset} margin in account"
    return f"Order failed. Insufficient {asset} balance in account"


def okx_error(error: SimError) -> OkxError:
    """HTTP status, OKX code and message for an engine error."""
    kind, detail = error.kind, error.detail
    pinned = detail.get("code")
    parameter = str(detail.get("parameter", ""))
    table: dict[ErrorKind, OkxError] = {
        ErrorKind.BAD_SIGNATURE: OkxError(401, "50113", "Invalid Sign"),
        ErrorKind.BAD_API_KEY: OkxError(401, "50111", "Invalid OK-ACCESS-KEY"),
        ErrorKind.BAD_PASSPHRASE: OkxError(401, "50105", "OK-ACCESS-PASSPHRASE incorrect"),
        ErrorKind.BAD_TIMESTAMP: OkxError(401, "50102", "Timestamp request expired"),
        ErrorKind.MISSING_PARAMETER: OkxError(400, "50014", f"Parameter {parameter} can not be empty"),
        ErrorKind.BAD_PARAMETER: OkxError(400, "51000", f"Parameter {parameter} error"),
        ErrorKind.BAD_SYMBOL: OkxError(400, "51001", "Instrument ID does not exist"),
        ErrorKind.INSUFFICIENT_BALANCE: OkxError(200, "51008", _insufficient(error)),
        ErrorKind.INSUFFICIENT_MARGIN: OkxError(200, "51008", _insufficient(error)),
        ErrorKind.MIN_NOTIONAL: OkxError(200, "51020", "Order amount should be greater than the min available amount."),
        ErrorKind.LOT_SIZE: OkxError(200, "51121", "Order quantity must be a multiple of the lot size."),
        ErrorKind.PRICE_FILTER: OkxError(200, "51000", "Parameter px error"),
        ErrorKind.REDUCE_ONLY_REJECTED: OkxError(200, "51205", "Reduce Only is not available."),
        ErrorKind.POST_ONLY_REJECTED: OkxError(200, "51000", "Parameter ordType error"),
        ErrorKind.UNKNOWN_ORDER: OkxError(200, "51603", "Order does not exist"),
        ErrorKind.CANCEL_UNKNOWN_ORDER: OkxError(
            200, "51400", "Order cancellation failed as the order has been filled, canceled or does not exist."
        ),
        ErrorKind.DUPLICATE_CLIENT_ORDER_ID: OkxError(200, "51016", "Duplicated clOrdId"),
        ErrorKind.LEVERAGE_INVALID: OkxError(
            200, "59102", "Leverage exceeds the maximum leverage. Please adjust the leverage."
        ),
        ErrorKind.MARGIN_MODE_LOCKED: OkxError(
            200, "59000", "Your settings failed as you have positions or open orders"
        ),
        ErrorKind.RATE_LIMITED: OkxError(429, "50011", "Too Many Requests"),
        ErrorKind.NOT_FOUND: OkxError(404, "404", "Not Found"),
    }
    found = table.get(kind, OkxError(500, "50026", "System error, please try again later."))
    if pinned is not None:  # the raiser wrote the venue's own message for that code
        found = OkxError(found.status, str(pinned), error.message)
    if kind is ErrorKind.LOT_SIZE and detail.get("below_min"):
        found = OkxError(200, "51020", "Order amount should be greater than the min available amount.")
    return found


def order_result(client_order_id: str, tag: str, code: str = "0", msg: str = "", order_id: str = "") -> dict[str, Any]:
    """One entry of ``data`` in an order placement/cancellation answer."""
    return {"clOrdId": client_order_id, "ordId": order_id, "sCode": code, "sMsg": msg, "tag": tag,
            "ts": str(int(time.time() * 1000))}  # fmt: skip


def batch_reply(results: list[dict[str, Any]]) -> Reply:
    """``code`` "0" when every entry succeeded, "1" when all failed, "2" when some did."""
    failed = sum(1 for result in results if result["sCode"] != "0")
    if failed == 0:
        code, msg = "0", ""
    elif failed == len(results):
        code, msg = "1", "All operations failed"
    else:
        code, msg = "2", "Bulk operation partially succeeded"
    now_us = str(int(time.time() * 1_000_000))
    return Reply(envelope(results, code, msg) | {"inTime": now_us, "outTime": now_us})


def _orders_in(request: SimRequest) -> list[dict[str, Any]]:
    try:
        body = json.loads(request.body) if request.body.strip() else {}
    except json.JSONDecodeError:
        return [{}]
    items = body if isinstance(body, list) else [body]
    return [item if isinstance(item, dict) else {} for item in items] or [{}]


def render(error: SimError, request: SimRequest) -> Reply:
    """The OKX answer for ``error`` raised while serving ``request`` (also used for injected rejects)."""
    if request.path in ORDER_PATHS and error.kind in ORDER_LEVEL:
        failure = okx_error(error)
        return batch_reply(
            [order_result(str(item.get("clOrdId", "")), str(item.get("tag", "")), failure.code, failure.msg,
                          str(item.get("ordId", "")) if "cancel" in request.path else "")
             for item in _orders_in(request)]
        )  # fmt: skip
    failure = okx_error(error)
    return Reply(envelope([], failure.code, failure.msg), status=failure.status)
