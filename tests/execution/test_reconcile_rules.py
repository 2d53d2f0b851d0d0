"""Pure rules reconcile completes executions by: an order the venue does not list is absent only once its last
request can no longer arrive; an interrupted cut is completed to a hedge of what is held, never cut again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arbx_pipelines.core.hedge import FundingDirection, Leg
from arbx_pipelines.core.models import Side, Venue
from arbx_pipelines.execution.close_hedge import HEDGE_ONLY, close_targets
from arbx_pipelines.execution.reconcile import in_flight_left
from arbx_pipelines.storage.orders import OrderRecord
from arbx_pipelines.storage.positions import PositionRecord

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
ORDER = OrderRecord(
    id=1, client_order_id="arbx-x-perp", execution_id=1, leg="perp", venue="bitget", symbol="DOGE/USDT:USDT",
    side=Side.SELL, amount=Decimal(400), price=None, status="sending", venue_order_id=None, filled=Decimal(0),
    reduce_only=False, time_in_force="IOC",
)  # fmt: skip


@pytest.mark.parametrize(
    ("sent_ago_s", "status", "left"),
    [(1.0, "sending", 5.0), (6.0, "sending", 0.0), (30.0, "unknown", 0.0), (0.5, "abandoned", 0.0)],
)
def test_an_order_is_absent_only_after_its_in_flight_window(sent_ago_s: float, status: str, left: float) -> None:
    order = replace(ORDER, status=status, sent_at=NOW - timedelta(seconds=sent_ago_s))
    assert in_flight_left(order, 6.0, NOW) == left


def test_an_intent_never_sent_is_absent_at_once() -> None:
    assert in_flight_left(replace(ORDER, status="intent"), 6.0, NOW) == 0.0


def _position(spot: str, perp: str) -> PositionRecord:
    return PositionRecord(
        id=1, venue=Venue.OKX, symbol="DOGE/USDT:USDT", spot_symbol="DOGE/USDT", direction=FundingDirection.POSITIVE,
        status="broken", perp_amount=Decimal(perp), spot_amount=Decimal(spot), perp_entry_price=None,
        spot_entry_price=None, leverage=5, liquidation_price=None, fees_paid=Decimal(0), funding_received=Decimal(0),
        realized_pnl=None, close_reason=None, opened_at=NOW, closed_at=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("spot", "perp", "hedge"),
    [("899.1", "500", "500"), ("300", "700", "300"), ("499.1", "500", "499.1"), ("0", "100", "0")],
)
def test_completing_a_cut_brings_both_legs_to_the_smaller(spot: str, perp: str, hedge: str) -> None:
    """Seed 45: the cut's perp half done, its spot half not; completing it by cutting half again left 400 naked."""
    targets = close_targets(_position(spot, perp), HEDGE_ONLY, Decimal(100))
    assert targets == {Leg.SPOT: Decimal(hedge), Leg.PERP: Decimal(hedge)}


def test_a_cut_and_a_close_keep_their_targets() -> None:
    position = _position("899.1", "900")
    assert close_targets(position, Decimal("0.5"), Decimal(100)) == {Leg.SPOT: Decimal("499.1"), Leg.PERP: Decimal(500)}
    assert close_targets(position, Decimal(1), Decimal(100)) == {Leg.SPOT: Decimal(0), Leg.PERP: Decimal(0)}
