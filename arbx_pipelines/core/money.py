"""Decimal money helpers: money never passes through float in execution or accounting."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

ZERO = Decimal("0")
CENT = Decimal("0.01")


class MoneyError(ValueError):
    """A value that should be a decimal number is not one."""


def to_decimal(value: object, *, field: str = "value") -> Decimal:
    """Convert exchange or config input to Decimal without float rounding noise.

    Floats are converted through ``repr`` so 0.1 becomes Decimal('0.1'), not its binary expansion.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise MoneyError(f"{field}: expected a number, got a boolean {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise MoneyError(f"{field}: {value!r} is not a decimal number") from exc
    else:
        raise MoneyError(f"{field}: expected a number, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise MoneyError(f"{field}: {value!r} is not a finite number")
    return result


def optional_decimal(value: object, *, field: str = "value") -> Decimal | None:
    """Like :func:`to_decimal` but passes ``None`` (and empty strings) through."""
    if value is None or value == "":
        return None
    return to_decimal(value, field=field)


def quantize_down(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` down to a multiple of ``step`` (lot sizes never round up)."""
    if step <= 0:
        raise MoneyError(f"step must be positive, got {step}")
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step
