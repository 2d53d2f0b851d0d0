"""Test data builders for the core tests (plain values, no mocks)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from arbx_pipelines.core.decision import MarketSnapshot
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.sizing import MarketRules

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def snapshot(rate: str = "0.001", **changes: object) -> MarketSnapshot:
    """BTC perp on Binance at 00:00, next funding 08:00; spot and perp both quoted 99.95 / 100.05 (relative
    spread 0.1 / 100 = 0.001 on each leg); spot step 0.001, perp step 0.01, min notional 5 on both."""
    base = MarketSnapshot(
        venue=Venue.BINANCE,
        symbol="BTC/USDT:USDT",
        time=T0,
        rate=D(rate),
        interval_hours=8,
        next_funding_time=T0 + timedelta(hours=8),
        mark_price=D("100"),
        spot_bid=D("99.95"),
        spot_ask=D("100.05"),
        perp_bid=D("99.95"),
        perp_ask=D("100.05"),
        spot_rules=MarketRules(amount_step=D("0.001"), min_notional=D("5")),
        perp_rules=MarketRules(amount_step=D("0.01"), min_amount=D("0.01"), min_notional=D("5")),
    )
    return replace(base, **changes)  # type: ignore[arg-type]
