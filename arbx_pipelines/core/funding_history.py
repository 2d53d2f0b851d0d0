"""Pure rules about funding settlement times: one instant per settlement, and the interval between them.

Every source (the venues' APIs, website exports, third-party CSVs) must agree on the key of a settlement, or the same
settlement is stored twice. Venues settle on whole hours, but recorded times carry jitter: Binance's
``fundingTime`` is a few milliseconds after the instant (e.g. ``1751644800001``). :func:`settlement_instant` rounds
to the minute, and every writer of ``funding_rates`` (import and live ingestion alike) must use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

#: funding intervals (hours) accepted when a source states them: every divisor of a day
VALID_INTERVAL_HOURS: frozenset[int] = frozenset({1, 2, 3, 4, 6, 8, 12, 24})
#: intervals the venues actually use (Binance, OKX, Bitget, Bybit: 8h default, 4h, 2h, 1h). Only these are inferred
#: from spacing: a 12h or 24h spacing is far likelier missing settlements than a real interval.
DERIVABLE_INTERVAL_HOURS: frozenset[int] = frozenset({1, 2, 4, 8})

_MINUTE = timedelta(minutes=1)


def settlement_instant(time: datetime) -> datetime:
    """The settlement instant a recorded funding time stands for: UTC, rounded to the nearest minute."""
    if time.tzinfo is UTC and not time.second and not time.microsecond:
        return time  # already an instant (every stored time): the checks call this millions of times per backfill
    if time.tzinfo is None:
        raise ValueError(f"naive datetime {time.isoformat()}: funding times must be timezone-aware")
    utc = time.astimezone(UTC)
    floored = utc.replace(second=0, microsecond=0)
    return floored + _MINUTE if utc - floored >= _MINUTE / 2 else floored


def gap_hours(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def derive_interval_hours(times: Sequence[datetime]) -> list[int | None]:
    """The funding interval of each settlement of ONE symbol, from the spacing of its neighbours.

    ``times`` must be sorted and distinct. A settlement gets an interval when it is unambiguous: both neighbouring
    gaps are the same venue interval (:data:`DERIVABLE_INTERVAL_HOURS`), or only one neighbouring gap is one (the
    other is absent at the edge of the data, or longer because settlements are missing). When the two gaps are
    different venue intervals (the venue changed the interval here) or neither is one, the result is ``None``.
    """
    gaps = [gap_hours(a, b) for a, b in pairwise(times)]
    result: list[int | None] = []
    for index in range(len(times)):
        before = _as_interval(gaps[index - 1]) if index > 0 else None
        after = _as_interval(gaps[index]) if index < len(gaps) else None
        if before is not None and after is not None:
            result.append(before if before == after else None)
        else:
            result.append(before if before is not None else after)
    return result


def _as_interval(hours: float) -> int | None:
    whole = round(hours)
    return whole if abs(hours - whole) < 1e-9 and whole in DERIVABLE_INTERVAL_HOURS else None
