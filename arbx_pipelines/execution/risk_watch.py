"""Which open hedges the position-risk sensor looks at now, and which it closes in batches.

Each open hedge gets the user's composite risk score (``core.position_risk.composite_risk``: liquidation 0.4,
volatility over 4h/1d/1w 0.3, liquidity 0.2, venue 0.1) from stored data only (the liquidation price the last check
recorded, snapshot mark prices, quote depths, the venue's risk factor), so no venue is asked for a hedge that is not
due; its risk level sets how soon it is checked again (300 s low .. 30 s critical). A liquidity drought (book depth
below 30 % of its mean over the last day, ``core.anomaly``) closes the hedge in batches of a third.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from arbx_pipelines.core.anomaly import RESPONSES, AnomalyKind, classify, depth_ratio
from arbx_pipelines.core.position_risk import (
    RiskScore,
    composite_risk,
    liquidation_distance,
    multi_period_volatility,
)
from arbx_pipelines.core.scoring import ScoringParams
from arbx_pipelines.execution.positions import PositionRecord
from arbx_pipelines.storage.market_history import recent_depths, recent_marks

MARK_SPAN = timedelta(days=7)
DEPTH_SPAN = timedelta(days=1)
ONE = Decimal(1)


@dataclass(frozen=True)
class WatchedPosition:
    position: PositionRecord
    risk: RiskScore
    depth_ratio: float | None
    anomalies: tuple[AnomalyKind, ...]

    @property
    def close_batches(self) -> int:
        return max((RESPONSES[kind].close_batches for kind in self.anomalies), default=0)


def watch_positions(
    engine: Engine, positions: Sequence[PositionRecord], scoring: ScoringParams, now: datetime
) -> list[WatchedPosition]:
    """The composite risk and the anomalies of each open hedge, from what the database holds."""
    markets = [(str(p.venue), p.symbol) for p in positions]
    marks = recent_marks(engine, markets, now - MARK_SPAN)
    depths = recent_depths(engine, markets, now - DEPTH_SPAN)
    watched = []
    for position in positions:
        series = marks.get((str(position.venue), position.symbol), [])
        mark = series[-1][1] if series else position.perp_entry_price
        distance = (
            liquidation_distance(mark, position.liquidation_price)
            if mark and mark > 0 and position.liquidation_price
            else None
        )
        volatility = multi_period_volatility(
            [t.timestamp() for t, _ in series], [float(m) for _, m in series], now.timestamp()
        )
        ratio = depth_ratio(depths.get((str(position.venue), position.symbol), []))
        liquidity = ONE if ratio is None else min(ONE, Decimal(repr(max(ratio, 0.0))))
        risk = composite_risk(distance, volatility, liquidity, scoring.risk_factor(position.venue))
        watched.append(WatchedPosition(position, risk, ratio, classify(None, None, ratio)))
    return watched


def due_positions(
    watched: Sequence[WatchedPosition], cursor: str | None, now: float
) -> tuple[set[int], dict[str, Any]]:
    """Ids of the hedges to check now and the next cursor (per position: next check time, batches closed)."""
    state: dict[str, Any] = json.loads(cursor) if cursor else {}
    next_check: dict[str, float] = state.get("next_check", {})
    batches: dict[str, int] = state.get("batches", {})
    due = {w.position.id for w in watched if float(next_check.get(str(w.position.id), 0.0)) <= now}
    checked = {
        str(w.position.id): (now + w.risk.check_seconds())
        if w.position.id in due
        else float(next_check.get(str(w.position.id), 0.0))
        for w in watched
    }
    kept = {key: value for key, value in batches.items() if key in checked}
    return due, {"next_check": checked, "batches": kept}


def next_batch(watched: WatchedPosition, state: dict[str, Any]) -> tuple[Decimal, int] | None:
    """(fraction of what is left to close, batch number) when the hedge is to be closed in batches, else None;
    counts the batch in ``state``."""
    batches = watched.close_batches
    if batches == 0:
        return None
    key = str(watched.position.id)
    done = int(state["batches"].get(key, 0))
    state["batches"][key] = done + 1
    return ONE / Decimal(max(1, batches - done)), done + 1
