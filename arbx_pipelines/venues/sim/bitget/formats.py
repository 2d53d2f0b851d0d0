"""Bitget wire helpers: the answer envelope, native symbols, number strings and request parameters.

Every Bitget answer is ``{"code": "00000", "msg": "success", "requestTime": <ms>, "data": ...}``; numbers travel as
strings. GET parameters come in the query string, POST parameters as a JSON body (values may be strings or numbers:
ccxt sends ``amount`` of a transfer as a JSON number).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

Params = dict[str, Any]

SUCCESS = "00000"
USDT_FUTURES = "USDT-FUTURES"
#: product types ccxt asks ``/api/v2/mix/market/contracts`` for; only USDT-FUTURES lists anything here
PRODUCT_TYPES = ("USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES", "SUSDT-FUTURES", "SCOIN-FUTURES", "SUSDC-FUTURES")
#: Bitget's order ids are 19-digit numbers; engine ids are offset into that range
ORDER_ID_BASE = 1_100_000_000_000_000_000
BILL_ID_BASE = 1_200_000_000_000_000_000


def envelope(data: Any, request_time: int) -> dict[str, Any]:
    return {"code": SUCCESS, "msg": "success", "requestTime": request_time, "data": data}


def native_id(instrument: Instrument) -> str:
    """``BTC/USDT`` and ``BTC/USDT:USDT`` are both ``BTCUSDT``; the endpoint family (spot or mix) tells them apart."""
    return f"{instrument.base}{instrument.quote}"


def text(value: Decimal | int | None) -> str:
    """A number as Bitget sends it: plain decimal notation, no exponent, no trailing zeros; ``""`` for none."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    rendered = format(value.normalize(), "f")
    return "0" if rendered in ("-0", "") else rendered


def fixed(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def decimals(step: Decimal) -> int:
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]


def params_of(request: SimRequest) -> Params:
    """Query parameters merged with a JSON body (POST)."""
    merged: Params = dict(request.query)
    if request.body.strip():
        try:
            body = json.loads(request.body)
        except json.JSONDecodeError as exc:
            raise SimError(ErrorKind.BAD_PARAMETER, "body is not JSON", parameter="body") from exc
        if not isinstance(body, dict):
            raise SimError(ErrorKind.BAD_PARAMETER, "body must be a JSON object", parameter="body")
        merged.update(body)
    return merged


def string_param(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    return str(value)


def required(params: Params, name: str) -> str:
    value = string_param(params, name)
    if value is None:
        raise SimError(ErrorKind.MISSING_PARAMETER, f"Parameter {name} cannot be empty", parameter=name)
    return value


def decimal_param(params: Params, name: str) -> Decimal | None:
    value = string_param(params, name)
    if value is None:
        return None
    try:
        result = Decimal(value)
    except InvalidOperation as exc:
        raise SimError(ErrorKind.BAD_PARAMETER, f"Parameter {name} error", parameter=name) from exc
    if not result.is_finite():
        raise SimError(ErrorKind.BAD_PARAMETER, f"Parameter {name} error", parameter=name)
    return result


def int_param(params: Params, name: str, default: int | None = None) -> int | None:
    value = string_param(params, name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise SimError(ErrorKind.BAD_PARAMETER, f"Parameter {name} error", parameter=name) from exc


def bounded_limit(params: Params, name: str, default: int, maximum: int) -> int:
    """A page size: the default when absent or not positive (``limit=0``), capped at the endpoint's maximum
    (Bitget caps, it does not refuse)."""
    value = int_param(params, name, default)
    assert value is not None
    return min(value if value > 0 else default, maximum)
