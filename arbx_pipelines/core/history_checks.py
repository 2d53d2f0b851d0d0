"""Pure checks of stored funding history: freshness, gaps, duplicates and rates outside the venue's cap and floor.

The Dagster asset checks and ``arbx history check`` feed these with rows read from the database; nothing here does
I/O, so every rule is unit-tested on plain lists.

Rate caps (|rate| per settlement) used when the configuration names none:

====================  ==========  ===========================================================================
venue                 default     why
====================  ==========  ===========================================================================
binance               0.03        ±3 % is Binance's widest USD-M cap (announced 2023-10 for contracts up to 25x
                                  leverage); majors are tighter (BTCUSDT ±0.3 %, visible in its export)
okx, bitget, bybit    0.03        no wider cap is documented for them; Bitget BTCUSDT is ±0.3 % (its
                                  fundingRate API's min/maxFundingRate)
====================  ==========  ===========================================================================

The defaults are deliberately the WIDEST cap a venue applies, so the check never flags a legitimate settlement;
tighter per-symbol caps can be configured (``history.rate_caps``: ``"bitget:BTC/USDT:USDT": 0.003``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from arbx_pipelines.core.funding_history import settlement_instant

DEFAULT_INTERVAL_HOURS = 8
DEFAULT_RATE_CAPS: Mapping[str, Decimal] = {
    "binance": Decimal("0.03"),
    "okx": Decimal("0.03"),
    "bitget": Decimal("0.03"),
    "bybit": Decimal("0.03"),
}
#: cap for a venue missing from every table: the same conservative ±3 %
FALLBACK_RATE_CAP = Decimal("0.03")


@dataclass(frozen=True, slots=True)
class Settlement:
    time: datetime
    rate: Decimal
    interval_hours: int | None = None


@dataclass(frozen=True, slots=True)
class OutOfRange:
    time: datetime
    rate: Decimal
    cap: Decimal


def rate_cap(venue: str, symbol: str, overrides: Mapping[str, Decimal] | None = None) -> Decimal:
    """The |rate| cap of ``symbol`` on ``venue``: ``"venue:SYMBOL"`` override, then ``"venue"``, then defaults."""
    table = overrides or {}
    for key in (f"{venue}:{symbol}", venue):
        if key in table:
            return abs(table[key])
    return DEFAULT_RATE_CAPS.get(venue, FALLBACK_RATE_CAP)


def rates_out_of_range(settlements: Iterable[Settlement], cap: Decimal) -> list[OutOfRange]:
    """Settlements whose rate lies outside [-cap, +cap]."""
    return [OutOfRange(s.time, s.rate, cap) for s in settlements if abs(s.rate) > cap]


def duplicate_settlements(times: Iterable[datetime]) -> list[datetime]:
    """Settlement instants stored more than once (after rounding jitter away), each listed once, sorted."""
    counts = Counter(settlement_instant(t) for t in times)
    return sorted(t for t, n in counts.items() if n > 1)


def missing_settlements(
    settlements: Sequence[Settlement], *, default_interval_hours: int = DEFAULT_INTERVAL_HOURS
) -> list[datetime]:
    """Settlement instants absent between the first and the last given (sorted by time, one symbol).

    Between two stored settlements ``a`` and ``b`` the interval in force is ``b``'s (the period ending at ``b``),
    else ``a``'s, else the default; every multiple of it after ``a`` and before ``b`` is missing. Where the venue
    changed the interval, the settlements on either side carry their own and no gap is invented.
    """
    missing: list[datetime] = []
    for a, b in pairwise(settlements):
        hours = b.interval_hours or a.interval_hours or default_interval_hours
        step = timedelta(hours=hours)
        expected = settlement_instant(a.time) + step
        end = settlement_instant(b.time)
        while expected < end:
            missing.append(expected)
            expected += step
    return missing


def overdue(
    last_settlement: datetime | None,
    now: datetime,
    interval_hours: int | None,
    *,
    grace: timedelta = timedelta(minutes=30),
) -> timedelta | None:
    """How long the next settlement after ``last_settlement`` is overdue at ``now`` (None: fresh).

    Fresh means the settlement due one interval after the last has not been due for longer than ``grace``. No
    history at all counts as overdue by the whole interval.
    """
    step = timedelta(hours=interval_hours or DEFAULT_INTERVAL_HOURS)
    if last_settlement is None:
        return step
    late = now - (last_settlement + step)
    return late if late > grace else None
