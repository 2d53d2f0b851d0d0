"""Parsers of single cells (times, rates, prices, venues, symbols); each raises :class:`FieldError` with a reason.

The file parsers add the ``file:line`` location, so these stay small and testable on their own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from arbx_pipelines.core.funding_history import VALID_INTERVAL_HOURS
from arbx_pipelines.history.records import HISTORY_VENUES

#: a rate beyond 5 % per settlement is above every venue's cap (0.3 % .. 3 % today) and is taken as a unit mistake
#: (a percentage written as a fraction), not as data
MAX_PLAUSIBLE_ABS_RATE = Decimal("0.05")
#: the database keeps 18 decimal places (NUMERIC(38, 18)); values are rounded to it once, here, so SQLite and
#: PostgreSQL store the same number and a re-import compares equal
STORED_QUANTUM = Decimal("1e-18")
#: epoch milliseconds accepted: 2009-01-01 .. 2100-01-01 (outside: seconds given instead of ms, or garbage)
_EPOCH_MS_MIN = 1_230_768_000_000
_EPOCH_MS_MAX = 4_102_444_800_000

LONDON = ZoneInfo("Europe/London")
_PERP_SYMBOL = re.compile(r"^[A-Z0-9]+/[A-Z0-9]+:[A-Z0-9]+$")
_ANY_SYMBOL = re.compile(r"^[A-Z0-9]+/[A-Z0-9]+(:[A-Z0-9]+)?$")


class FieldError(ValueError):
    """One cell is malformed; the message is the reason, without location."""


def parse_venue(text: str) -> str:
    venue = text.strip().lower()
    if not venue:
        raise FieldError("empty venue")
    if venue not in HISTORY_VENUES:
        raise FieldError(f"unknown venue {text!r} (expected one of: {', '.join(HISTORY_VENUES)})")
    return venue


def parse_symbol(text: str, *, perpetual: bool) -> str:
    """A ccxt unified symbol: ``BTC/USDT:USDT`` (perpetual), ``BTC/USDT`` (spot), ``BTC/USD:BTC`` (coin-margined)."""
    symbol = text.strip()
    if not symbol:
        raise FieldError("empty symbol")
    pattern = _PERP_SYMBOL if perpetual else _ANY_SYMBOL
    if not pattern.match(symbol):
        example = "BTC/USDT:USDT (USDT perpetual) or BTC/USD:BTC (coin-margined)"
        if not perpetual:
            example += " or BTC/USDT (spot)"
        what = "a perpetual" if perpetual and _ANY_SYMBOL.match(symbol) else "ccxt unified form"
        raise FieldError(f"symbol {text!r} is not {what}; expected e.g. {example}")
    return symbol


def parse_decimal(text: str, *, what: str) -> Decimal:
    raw = text.strip()
    if not raw:
        raise FieldError(f"empty {what}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise FieldError(f"{what} {text!r} is not a finite number")
    return value


def stored(value: Decimal) -> Decimal:
    """``value`` as the database will hold it: 18 decimal places at most, no trailing zeros."""
    if value.as_tuple().exponent < -18:  # type: ignore[operator]
        value = value.quantize(STORED_QUANTUM, rounding=ROUND_HALF_EVEN)
    return value.normalize() if value else Decimal(0)


def parse_rate(text: str) -> Decimal:
    """A funding rate given as a decimal fraction (``0.0001`` is 0.01 %)."""
    if text.strip().endswith("%"):
        raise FieldError(f"rate {text!r} has a percent sign; give the rate as a fraction (0.0001 for 0.01%)")
    return check_rate(parse_decimal(text, what="rate"), text)


def parse_percent_rate(text: str) -> Decimal:
    """A rate written as a percentage string, as Binance's website exports do: ``'0.010000%'`` -> 0.0001."""
    raw = text.strip()
    if not raw.endswith("%"):
        raise FieldError(f"rate {text!r} lacks the '%' of Binance's export format")
    return check_rate(parse_decimal(raw[:-1], what="rate") / 100, text)


def check_rate(value: Decimal, text: str) -> Decimal:
    if abs(value) > MAX_PLAUSIBLE_ABS_RATE:
        raise FieldError(
            f"rate {text!r} is implausible: |rate| > {MAX_PLAUSIBLE_ABS_RATE} per settlement, above every venue's "
            "cap (was a percentage given as a fraction?)"
        )
    return stored(value)


def parse_price(text: str, *, what: str = "close") -> Decimal:
    value = parse_decimal(text, what=what)
    if value <= 0:
        raise FieldError(f"{what} {text!r} is not positive")
    return stored(value)


def parse_interval_hours(text: str) -> int | None:
    """``8``, ``8h``, ``8.0`` (pandas writes whole floats so) or empty (unknown)."""
    raw = text.strip().lower().removesuffix("h")
    if not raw:
        return None
    whole, dot, fraction = raw.partition(".")
    if dot and fraction.strip("0") == "" and whole.isdigit():
        raw = whole
    if not raw.isdigit() or int(raw) not in VALID_INTERVAL_HOURS:
        raise FieldError(f"interval_hours {text!r} is not one of 1, 2, 3, 4, 6, 8, 12, 24")
    return int(raw)


def epoch_ms_to_utc(value: int) -> datetime:
    if not _EPOCH_MS_MIN <= value <= _EPOCH_MS_MAX:
        hint = " (epoch seconds instead of milliseconds?)" if value < _EPOCH_MS_MIN else ""
        raise FieldError(f"epoch milliseconds {value} outside 2009..2100{hint}")
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)


def parse_utc_time(text: str, *, what: str = "time") -> datetime:
    """ISO-8601 with an explicit offset (``Z``, ``+00:00``, any offset converted to UTC) or epoch milliseconds."""
    raw = text.strip()
    if not raw:
        raise FieldError(f"empty {what}")
    if raw.isdigit():
        return epoch_ms_to_utc(int(raw))
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError(f"{what} {text!r} is neither ISO-8601 nor epoch milliseconds") from None
    if parsed.tzinfo is None:
        raise FieldError(f"{what} {text!r} has no time zone; write it in UTC with 'Z' or '+00:00'")
    return parsed.astimezone(UTC)


def parse_naive(text: str, *, what: str = "time") -> datetime:
    """A ``YYYY-MM-DD HH:MM:SS`` wall-clock time without zone (the zone is known from the format)."""
    raw = text.strip()
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError(f"{what} {text!r} is not a 'YYYY-MM-DD HH:MM:SS' time") from None
    if parsed.tzinfo is not None:
        raise FieldError(f"{what} {text!r} carries a zone, but this format is documented as local time")
    return parsed


@lru_cache(maxsize=1 << 16)  # a file repeats each bar time once per series
def london_to_utc(wall: datetime, *, grid_hours: int) -> datetime:
    """Europe/London wall-clock time to UTC, DST included.

    A wall time that does not exist (the hour skipped in March) is an error. A wall time that exists twice (the
    hour repeated in October) is resolved to the reading that falls on the ``grid_hours`` UTC grid (00/08/16 for
    8-hourly bars and settlements); if both or neither do, it is an error.
    """
    readings = {wall.replace(tzinfo=LONDON, fold=fold).astimezone(UTC) for fold in (0, 1)}
    valid = [r for r in readings if r.astimezone(LONDON).replace(tzinfo=None) == wall]
    if not valid:
        raise FieldError(f"time {wall.isoformat(sep=' ')} does not exist in Europe/London (clocks went forward)")
    if len(valid) == 1:
        return valid[0]
    on_grid = [r for r in valid if r.minute == 0 and r.second == 0 and r.hour % grid_hours == 0]
    if len(on_grid) != 1:
        raise FieldError(
            f"time {wall.isoformat(sep=' ')} is ambiguous in Europe/London (clocks went back) and neither reading "
            f"is singled out by the {grid_hours}h UTC grid"
        )
    return on_grid[0]
