"""The position-risk sensor's pacing: each hedge is due again after its risk level's interval, a liquidity drought
closes it in three equal batches, and typed anomalies of the funding scan are alerted once and recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from arbx_pipelines.core.anomaly import AnomalyKind
from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.position_risk import composite_risk
from arbx_pipelines.execution.positions import PositionRecord
from arbx_pipelines.execution.risk_state import halted
from arbx_pipelines.execution.risk_watch import WatchedPosition, due_positions, next_batch
from arbx_pipelines.execution.signals import FundingScan, SymbolAnomaly
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.sensors.funding_opportunity import record_anomalies
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert
from tests.execution.simkit import make_deps

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _watched(position_id: int, distance: str | None, anomalies: tuple[AnomalyKind, ...] = ()) -> WatchedPosition:
    record = PositionRecord(
        id=position_id, venue=Venue.BINANCE, symbol="BTC/USDT:USDT", spot_symbol="BTC/USDT",
        direction=FundingDirection.POSITIVE, status="open", perp_amount=Decimal(1), spot_amount=Decimal(1),
        perp_entry_price=Decimal(100), spot_entry_price=Decimal(100), leverage=2, liquidation_price=None,
        fees_paid=Decimal(0), funding_received=Decimal(0), realized_pnl=None, close_reason=None, opened_at=T0,
        closed_at=None,
    )  # fmt: skip
    risk = composite_risk(None if distance is None else Decimal(distance), (0.01, 0.01, 0.01), Decimal(1), Decimal(1))
    return WatchedPosition(record, risk, 0.1 if anomalies else None, anomalies)


def test_each_hedge_is_due_again_after_its_risk_levels_interval() -> None:
    calm, near = _watched(1, None), _watched(2, "0.01")
    assert calm.risk.check_seconds() == 300 and near.risk.check_seconds() < 300
    now = T0.timestamp()
    due, state = due_positions([calm, near], None, now)
    assert due == {1, 2}
    due, state = due_positions([calm, near], json.dumps(state), now + near.risk.check_seconds())
    assert due == {2}  # the riskier hedge is checked again first
    due, _ = due_positions([calm, near], json.dumps(state), now + 300)
    assert due == ({1, 2} if 2 * near.risk.check_seconds() <= 300 else {1})


def test_a_liquidity_drought_closes_in_three_equal_batches() -> None:
    dry = _watched(7, None, (AnomalyKind.LIQUIDITY_DRYING,))
    state: dict[str, dict[str, int]] = {"next_check": {}, "batches": {}}
    fractions = [next_batch(dry, state) for _ in range(3)]
    assert fractions == [(Decimal(1) / 3, 1), (Decimal(1) / 2, 2), (Decimal(1), 3)]  # a third of the original each
    assert next_batch(_watched(8, None), state) is None


def test_anomalies_are_recorded_and_alerted_once_and_manipulation_pauses_everything(sqlite_url: str) -> None:
    engine = make_deps(sqlite_url).engine
    spike = SymbolAnomaly("binance", "BTC/USDT:USDT", AnomalyKind.FUNDING_SPIKE, "funding z 5", T0)
    cursor = record_anomalies(engine, AlertSink(engine), FundingScan([], [spike]), None)
    assert record_anomalies(engine, AlertSink(engine), FundingScan([], [spike]), cursor) == cursor
    assert halted(engine) is None
    manipulated = SymbolAnomaly("okx", "ETH/USDT:USDT", AnomalyKind.SUSPECTED_MANIPULATION, "price z 8", T0)
    jump = SymbolAnomaly("okx", "XRP/USDT:USDT", AnomalyKind.PRICE_JUMP, "price z 4", T0)  # the watcher's to tell
    record_anomalies(engine, AlertSink(engine), FundingScan([], [spike, manipulated, jump]), cursor)
    with transaction(engine) as session:
        kinds = [(a.kind, a.severity) for a in session.query(Alert).order_by(Alert.id)]
    assert kinds == [("funding_spike", "warning"), ("suspected_manipulation", "critical")]
    assert "suspected_manipulation" in (halted(engine) or "")
