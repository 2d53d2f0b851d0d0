"""Binance wire helpers: native symbols, number formatting and request parameters."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

Params = dict[str, str]


def native_id(instrument: Instrument) -> str:
    """``BTC/USDT`` and ``BTC/USDT:USDT`` are both ``BTCUSDT`` on Binance (different hosts tell them apart)."""
    return f"{instrument.base}{instrument.quote}"


def fixed8(value: Decimal) -> str:
    """Spot style: always eight decimals (``"0.00100000"``)."""
    return f"{value:.8f}"


def plain(value: Decimal, places: int | None = None) -> str:
    """Futures style: as few decimals as the value needs, or exactly ``places``; never exponent notation."""
    if places is not None:
        return f"{value:.{places}f}"
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def decimals(step: Decimal) -> int:
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]


def params_of(request: SimRequest) -> Params:
    """Query and form body merged (Binance accepts parameters in either), signature removed."""
    merged = dict(request.query)
    if request.body and not request.body.lstrip().startswith("{"):
        merged.update(parse_qsl(request.body, keep_blank_values=True))
    merged.pop("signature", None)
    return merged


def required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise SimError(ErrorKind.MISSING_PARAMETER, f"missing {name}", parameter=name)
    return value


def decimal_param(params: Params, name: str, *, optional: bool = False) -> Decimal | None:
    value = params.get(name)
    if value is None or value == "":
        if optional:
            return None
        raise SimError(ErrorKind.MISSING_PARAMETER, f"missing {name}", parameter=name)
    try:
        result = Decimal(value)
    except InvalidOperation as exc:
        raise SimError(ErrorKind.BAD_PARAMETER, f"{name} is not a number", parameter=name) from exc
    if not result.is_finite():
        raise SimError(ErrorKind.BAD_PARAMETER, f"{name} is not a number", parameter=name)
    return result


def int_param(params: Params, name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise SimError(ErrorKind.BAD_PARAMETER, f"{name} is not an integer", parameter=name) from exc


def bool_param(params: Params, name: str) -> bool:
    return params.get(name, "").lower() == "true"
