"""The history checks over stored rows, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from arbx_pipelines.history.checks import check_funding_history
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import FundingRateRow

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _row(symbol: str, time: datetime, rate: str, interval: int | None = 8) -> FundingRateRow:
    return FundingRateRow(venue="bitget", symbol=symbol, funding_time=time, rate=Decimal(rate),
                          interval_hours=interval, source="test")  # fmt: skip


def test_gaps_duplicates_caps_and_freshness(migrated_engine: Engine) -> None:
    h = timedelta(hours=1)
    with transaction(migrated_engine) as session:
        session.add_all([
            _row("BTC/USDT:USDT", T0, "0.0001"),
            _row("BTC/USDT:USDT", T0 + 8 * h, "0.004"),  # above the configured ±0.3 % for this symbol
            # a writer that did not round Binance-style jitter away stored the same settlement twice
            _row("BTC/USDT:USDT", T0 + 8 * h + timedelta(milliseconds=7), "0.0001"),
            _row("BTC/USDT:USDT", T0 + 32 * h, "0.0001"),  # 16h and 24h missing
            _row("ETH/USDT:USDT", T0, "0.0001", 4),
            _row("ETH/USDT:USDT", T0 + 4 * h, "-0.0002", 4),
        ])  # fmt: skip
    caps = {"bitget:BTC/USDT:USDT": Decimal("0.003")}
    now = T0 + 32 * h + 8 * h + 2 * h  # BTC's next settlement (+40h) is 2h late; ETH's (+8h) 34h late
    results = {r.symbol: r for r in check_funding_history(migrated_engine, now=now, rate_caps=caps)}
    btc, eth = results["BTC/USDT:USDT"], results["ETH/USDT:USDT"]
    assert btc.settlements == 4
    assert btc.missing == [T0 + 16 * h, T0 + 24 * h]
    assert btc.duplicates == [T0 + 8 * h]
    assert [(o.rate, o.cap) for o in btc.out_of_range] == [(Decimal("0.004"), Decimal("0.003"))]
    assert btc.overdue_by == 2 * h
    assert not btc.passed
    assert (eth.missing, eth.duplicates, eth.out_of_range) == ([], [], [])
    assert eth.overdue_by == 34 * h
    # without ``now`` freshness is not judged; without caps the venue default (±3 %) lets 0.004 pass
    quiet = {r.symbol: r for r in check_funding_history(migrated_engine, venue="bitget")}
    assert quiet["ETH/USDT:USDT"].passed
    assert quiet["BTC/USDT:USDT"].out_of_range == []
    assert check_funding_history(migrated_engine, venue="okx") == []
