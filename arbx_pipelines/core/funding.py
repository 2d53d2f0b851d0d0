"""Funding-rate maths (DESIGN, "Funding"): annualization from each symbol's real interval, settlement counts,
round-trip costs and break-even.

Conventions used throughout ``core``:

- A funding ``rate`` is the venue's per-settlement rate as a fraction (``Decimal("0.0001")`` = 0.01 %).
  Positive: longs pay shorts. Negative: shorts pay longs.
- The interval is per symbol and changes over time (8h, 4h, 2h, 1h all exist), so every function takes
  ``interval_hours`` explicitly; nothing here assumes 1095 settlements a year.
- Costs are fractions of the hedge notional (one leg's notional; both legs have the same base amount).

Public API::

    HOURS_PER_YEAR: Decimal                                          # 8760
    annualize(rate, interval_hours) -> Decimal                       # rate * (24 / interval_hours) * 365
    settlements_within(horizon_hours, interval_hours, *, now=None, next_funding_time=None) -> int
    round_trip_cost_rate(spot_fee, perp_fee, spread_cost_rate=0) -> Decimal
    break_even_settlements(rate, cost_rate, *, carry_cost_per_settlement=0) -> int | None
    funding_payment(rate, notional, *, short_perp) -> Decimal        # one settlement, signed, for us
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from arbx_pipelines.core.money import ZERO, to_decimal

HOURS_PER_DAY = Decimal(24)
DAYS_PER_YEAR = Decimal(365)
HOURS_PER_YEAR = HOURS_PER_DAY * DAYS_PER_YEAR


class FundingMathError(ValueError):
    """An input to the funding maths is out of its domain (e.g. a non-positive interval)."""


def _interval(interval_hours: int | Decimal) -> Decimal:
    value = to_decimal(interval_hours, field="interval_hours")
    if value <= 0:
        raise FundingMathError(f"interval_hours must be positive, got {interval_hours}")
    return value


def annualize(rate: Decimal, interval_hours: int | Decimal) -> Decimal:
    """Annualized rate = rate x (24 / interval_hours) x 365, as a fraction (0.5 = 50 % a year).

    Multiplies before dividing so the usual intervals (1, 2, 4, 8 h) give exact results.
    """
    return rate * HOURS_PER_YEAR / _interval(interval_hours)


def settlements_within(
    horizon_hours: int | Decimal,
    interval_hours: int | Decimal,
    *,
    now: datetime | None = None,
    next_funding_time: datetime | None = None,
) -> int:
    """Funding settlements a position opened at ``now`` collects within ``horizon_hours``.

    With the next settlement time known, the first one may be only minutes away, so the count is
    1 + floor((horizon - time to next) / interval) when the next settlement falls inside the horizon.
    Without it, floor(horizon / interval) - the conservative count. A settlement at ``now`` itself is not
    counted (we cannot be in the position in time); a next time up to one interval stale is rolled forward.
    """
    interval = _interval(interval_hours)
    horizon = to_decimal(horizon_hours, field="horizon_hours")
    if horizon < 0:
        raise FundingMathError(f"horizon_hours must not be negative, got {horizon_hours}")
    if now is None or next_funding_time is None:
        return int((horizon / interval).to_integral_value(rounding=ROUND_FLOOR))
    until_next = Decimal(str((next_funding_time - now).total_seconds())) / Decimal(3600)
    if until_next < -interval:
        raise FundingMathError(f"next_funding_time {next_funding_time} is more than one interval before now {now}")
    if until_next <= 0:
        # the venue has not rolled its next time yet (a settlement at or just before now is not ours)
        until_next += interval
    if until_next > horizon:
        return 0
    return 1 + int(((horizon - until_next) / interval).to_integral_value(rounding=ROUND_FLOOR))


def round_trip_cost_rate(spot_fee: Decimal, perp_fee: Decimal, spread_cost_rate: Decimal = ZERO) -> Decimal:
    """Cost of opening and closing the hedge, as a fraction of notional.

    Each leg pays its taker fee twice (in and out): 2 x (spot_fee + perp_fee), plus the spread cost
    (crossing the bid/ask on both legs in and out, and expected slippage) supplied by the caller.
    """
    for name, value in (("spot_fee", spot_fee), ("perp_fee", perp_fee), ("spread_cost_rate", spread_cost_rate)):
        if value < 0:
            raise FundingMathError(f"{name} must not be negative, got {value}")
    return 2 * (spot_fee + perp_fee) + spread_cost_rate


def break_even_settlements(
    rate: Decimal, cost_rate: Decimal, *, carry_cost_per_settlement: Decimal = ZERO
) -> int | None:
    """The number of settlements after which collected funding strictly exceeds the round-trip cost.

    n = floor(cost / net) + 1 where net = |rate| - carry cost per settlement (e.g. margin interest for a
    borrowed spot leg). ``None`` when the net funding per settlement is not positive: it never breaks even.
    """
    if cost_rate < 0:
        raise FundingMathError(f"cost_rate must not be negative, got {cost_rate}")
    net = abs(rate) - carry_cost_per_settlement
    if net <= 0:
        return None
    return int((cost_rate / net).to_integral_value(rounding=ROUND_FLOOR)) + 1


def funding_payment(rate: Decimal, notional: Decimal, *, short_perp: bool) -> Decimal:
    """One settlement's payment to us (negative: we pay). Shorts receive positive funding."""
    received_by_short = rate * notional
    return received_by_short if short_perp else -received_by_short
