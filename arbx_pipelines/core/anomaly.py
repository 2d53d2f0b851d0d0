"""Anomaly guard (DESIGN, "Risk"): |z-score| of the latest funding rate or price against its recent history above
a threshold (default 3) pauses new entries on that symbol. Statistics run in float: this is a screen, not money.

Anomalies are typed, each with the handling of the user's design (:func:`classify`, :data:`RESPONSES`):

- ``funding_spike`` (|funding z| above the threshold): pause new entries on the symbol and watch it closer;
- ``suspected_manipulation`` (the price jumps with the funding, or the price alone by twice the threshold): pause
  all new entries and alert at once;
- ``price_jump`` (|price z| above the threshold, funding calm): pause new entries on the symbol (DESIGN's guard);
- ``liquidity_drying`` (book depth below ``drought_ratio`` of its recent average): close open hedges in batches.

Public API::

    z_score(history, latest) -> float | None          # None: fewer than 2 points or zero spread
    is_anomalous(history, latest, threshold=3.0) -> bool
    classify(funding_z, price_z, depth_ratio, *, threshold=3.0, drought_ratio=0.3) -> tuple[AnomalyKind, ...]
    RESPONSES[kind] -> AnomalyResponse(pause_symbol, pause_all, severity, check_seconds, close_batches)
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

MIN_HISTORY = 2
#: the screen's window: funding snapshots younger than this, the latest against up to PRICE_HISTORY before it
DEFAULT_MAX_AGE = timedelta(minutes=30)
PRICE_HISTORY = 30
#: fewer recent prices than this: no anomaly screen (a z-score of a handful of points means nothing)
MIN_PRICE_HISTORY = 10


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


class AnomalyKind(StrEnum):
    FUNDING_SPIKE = "funding_spike"
    SUSPECTED_MANIPULATION = "suspected_manipulation"
    PRICE_JUMP = "price_jump"
    LIQUIDITY_DRYING = "liquidity_drying"


@dataclass(frozen=True, slots=True)
class AnomalyResponse:
    pause_symbol: bool  # no new entry on the symbol while it lasts
    pause_all: bool  # no new entry anywhere until the trader resumes
    severity: str  # of the alert
    check_seconds: int | None  # watch the symbol's positions this often (None: the usual interval)
    close_batches: int  # close open hedges of the symbol in this many batches (0: keep them)
    alert: bool = True  # False: the lifecycle watcher already notifies it (a price jump is its ``anomaly_pause``)


RESPONSES: dict[AnomalyKind, AnomalyResponse] = {
    AnomalyKind.FUNDING_SPIKE: AnomalyResponse(True, False, "warning", 60, 0),
    AnomalyKind.SUSPECTED_MANIPULATION: AnomalyResponse(True, True, "critical", 60, 0),
    AnomalyKind.PRICE_JUMP: AnomalyResponse(True, False, "warning", None, 0, alert=False),
    AnomalyKind.LIQUIDITY_DRYING: AnomalyResponse(True, False, "warning", 60, 3),
}
#: a price move this many times the threshold is suspected manipulation even without a funding move
MANIPULATION_PRICE_FACTOR = 2.0


def classify(
    funding_z: float | None,
    price_z: float | None,
    depth_ratio: float | None,
    *,
    threshold: float = 3.0,
    drought_ratio: float = 0.3,
) -> tuple[AnomalyKind, ...]:
    """The anomalies of one symbol now, most severe first (``depth_ratio``: book depth now / its recent mean)."""
    if threshold <= 0 or not 0 < drought_ratio < 1:
        raise ValueError(f"threshold must be positive and drought_ratio in (0, 1), got {threshold}, {drought_ratio}")
    funding = funding_z is not None and abs(funding_z) > threshold
    price = price_z is not None and abs(price_z) > threshold
    found: list[AnomalyKind] = []
    if price and (funding or abs(price_z or 0.0) > threshold * MANIPULATION_PRICE_FACTOR):
        found.append(AnomalyKind.SUSPECTED_MANIPULATION)
    elif funding:
        found.append(AnomalyKind.FUNDING_SPIKE)
    elif price:
        found.append(AnomalyKind.PRICE_JUMP)
    if depth_ratio is not None and depth_ratio < drought_ratio:
        found.append(AnomalyKind.LIQUIDITY_DRYING)
    return tuple(found)


def depth_ratio(depths: Sequence[Decimal | float]) -> float | None:
    """Book depth now (the last value) over its mean before (None: fewer than 3 readings or no depth before)."""
    if len(depths) < 3:
        return None
    before = statistics.fmean(float(d) for d in depths[:-1])
    return float(depths[-1]) / before if before > 0 else None
