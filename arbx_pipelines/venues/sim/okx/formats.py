"""OKX wire helpers: instrument ids, the ``{"code", "msg", "data"}`` envelope, number strings and parameters.

OKX writes every number as a string without exponent (``"0.0001"``), ids as strings, and booleans inside order
payloads as ``"true"``/``"false"``. Swap sizes are contracts (``ctVal`` coins each); spot sizes are base coins.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

Params = dict[str, Any]


def inst_id(instrument: Instrument) -> str:
    """``BTC/USDT`` -> ``BTC-USDT``; ``BTC/USDT:USDT`` -> ``BTC-USDT-SWAP``."""
    base = f"{instrument.base}-{instrument.quote}"
    return f"{base}-SWAP" if instrument.is_swap else base


def inst_type(instrument: Instrument) -> str:
    return "SWAP" if instrument.is_swap else "SPOT"


def envelope(data: list[Any], code: str = "0", msg: str = "") -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": data}


def num(value: Decimal | int | None) -> str:
    """A plain decimal string as OKX writes it: no exponent, no trailing zeros; ``""`` for none."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def ms(value: int | None) -> str:
    return "" if value is None else str(int(value))


def flag(value: bool) -> str:
    return "true" if value else "false"


def contracts(instrument: Instrument, base_amount: Decimal) -> Decimal:
    """Base coins -> the venue's size unit (contracts for swaps, coins for spot)."""
    return base_amount / instrument.contract_size if instrument.is_swap else base_amount


def base_amount(instrument: Instrument, size: Decimal) -> Decimal:
    """The venue's size unit -> base coins."""
    return size * instrument.contract_size if instrument.is_swap else size


def query_params(request: SimRequest) -> Params:
    return dict(request.query)


def body_json(request: SimRequest) -> Any:
    """The JSON body of a POST (OKX rejects anything else with 50002)."""
    if not request.body.strip():
        raise SimError(ErrorKind.MISSING_PARAMETER, "Body can not be empty", parameter="body", code="50000")
    try:
        return json.loads(request.body)
    except json.JSONDecodeError as exc:
        raise SimError(ErrorKind.BAD_PARAMETER, "Json data format error", parameter="body", code="50002") from exc


def body_object(request: SimRequest) -> Params:
    data = body_json(request)
    if not isinstance(data, dict):
        raise SimError(ErrorKind.BAD_PARAMETER, "Json data format error", parameter="body", code="50002")
    return data


def required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or str(value) == "":
        raise SimError(ErrorKind.MISSING_PARAMETER, f"Parameter {name} can not be empty", parameter=name)
    return str(value)


def optional(params: Params, name: str) -> str | None:
    value = params.get(name)
    return None if value is None or str(value) == "" else str(value)


def decimal_param(params: Params, name: str) -> Decimal:
    text = required(params, name)
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise SimError(ErrorKind.BAD_PARAMETER, f"Parameter {name} error", parameter=name) from exc
    if not value.is_finite():
        raise SimError(ErrorKind.BAD_PARAMETER, f"Parameter {name} error", parameter=name)
    return value


def int_param(params: Params, name: str, default: int | None = None) -> int | None:
    text = optional(params, name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError as exc:
        raise SimError(ErrorKind.BAD_PARAMETER, f"Parameter {name} error", parameter=name) from exc


def limit_param(params: Params, default: int = 100, maximum: int = 100) -> int:
    """OKX's ``limit``: 1..``maximum``; default ``default``."""
    limit = int_param(params, "limit", default)
    assert limit is not None
    if not 1 <= limit <= maximum:
        raise SimError(ErrorKind.BAD_PARAMETER, "Parameter limit error", parameter="limit")
    return limit


def bool_value(value: Any) -> bool:
    """OKX accepts ``true``/``"true"`` for booleans."""
    return value is True or str(value).lower() == "true"
