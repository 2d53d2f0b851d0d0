"""Anomaly guard (DESIGN, "Risk"): |z-score| of the latest funding rate or price against its recent history above
a threshold (default 3) pauses new entries on that symbol. Statistics run in float: this is a screen, not money.

Public API::

    z_score(history, latest) -> float | None          # None: fewer than 2 points or zero spread
    is_anomalous(history, latest, threshold=3.0) -> bool
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from decimal import Decimal

MIN_HISTORY = 2


def z_score(history: Sequence[Decimal | float], latest: Decimal | float) -> float | None:
    """How many standard deviations ``latest`` sits from the mean of ``history`` (sample deviation)."""
    if len(history) < MIN_HISTORY:
        return None
    values = [float(value) for value in history]
    spread = statistics.stdev(values)
    if spread == 0:
        return None
    return (float(latest) - statistics.fmean(values)) / spread


def is_anomalous(history: Sequence[Decimal | float], latest: Decimal | float, threshold: float = 3.0) -> bool:
    """True when |z| > threshold. A flat history makes any change anomalous; too little history never is."""
    if threshold <= 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    if len(history) < MIN_HISTORY:
        return False
    score = z_score(history, latest)
    if score is None:
        return float(latest) != float(history[0])
    return abs(score) > threshold
