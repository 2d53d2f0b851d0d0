"""When is the funding market "volatile" (snapshot every 3 minutes instead of every 10)?

Rule: volatile when, in the latest snapshot, any perpetual's |annualized funding| is at or above the entry
threshold (an opportunity is live, so its decision data must be fresh), or any perpetual's annualized rate moved
by at least ``jump`` (default 25 percentage points) since the snapshot before.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

DEFAULT_JUMP = Decimal("0.25")


def market_is_volatile(
    latest: Mapping[tuple[str, str], Decimal],
    previous: Mapping[tuple[str, str], Decimal],
    entry_threshold: Decimal,
    jump: Decimal = DEFAULT_JUMP,
) -> tuple[bool, str]:
    """``latest``/``previous``: annualized rate by (venue, symbol). Returns (volatile, why)."""
    hot = [key for key, value in latest.items() if abs(value) >= entry_threshold]
    if hot:
        venue, symbol = max(hot, key=lambda k: abs(latest[k]))
        return True, f"{venue} {symbol} at {latest[(venue, symbol)]:.2%} annualized >= entry {entry_threshold:.0%}"
    moves = {key: abs(value - previous[key]) for key, value in latest.items() if key in previous}
    if moves:
        key = max(moves, key=lambda k: moves[k])
        if moves[key] >= jump:
            return True, f"{key[0]} {key[1]} moved {moves[key]:.2%} annualized since the previous snapshot"
    return False, "calm"
