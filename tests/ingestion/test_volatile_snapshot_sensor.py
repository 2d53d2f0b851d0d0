"""The ``volatile_funding_snapshot`` sensor over stored snapshots: calm -> skip, a hot rate or a jump -> a run
(at most one per volatile interval), and never while the last snapshot is still fresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.venue_data import FundingInfo
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.sensors.ingestion import volatile_snapshot_sensor
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.funding import record_snapshot

VOLATILE_MINUTES = 3


def _rate(symbol: str, rate: str, at: datetime) -> FundingInfo:
    return FundingInfo(Venue.BINANCE, symbol, Decimal(rate), 8, None, None, None, at)


@pytest.fixture
def evaluate(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'arbx.db'}"
    upgrade(url)
    config = tmp_path / "arbx.yaml"
    config.write_text(f"data_dir: {tmp_path}\nstrategy: {{entry_annualized: 0.5, exit_annualized: 0.1}}\n")
    resources = {"database": DatabaseResource(url=url), "settings": SettingsResource(config_path=str(config))}
    sensor = volatile_snapshot_sensor(VOLATILE_MINUTES)
    engine = make_engine(url)

    def run(*snapshots: tuple[timedelta, dict[str, str]]) -> RunRequest | SkipReason:
        now = datetime.now(UTC)
        for age, rates in snapshots:
            at = now - age
            record_snapshot(engine, at, [_rate(symbol, rate, at) for symbol, rate in rates.items()])
        with DagsterInstance.ephemeral() as instance:
            result = sensor(build_sensor_context(instance=instance, resources=resources))
        assert isinstance(result, RunRequest | SkipReason)
        return result

    yield run
    engine.dispose()


def test_no_snapshot_yet_skips(evaluate) -> None:  # type: ignore[no-untyped-def]
    result = evaluate()
    assert isinstance(result, SkipReason) and result.skip_message == "no funding snapshot yet"


def test_a_calm_market_skips(evaluate) -> None:  # type: ignore[no-untyped-def]
    result = evaluate(
        (timedelta(minutes=20), {"BTC/USDT:USDT": "0.0001"}), (timedelta(minutes=10), {"BTC/USDT:USDT": "0.0001"})
    )
    assert isinstance(result, SkipReason) and result.skip_message == "calm market: calm"


def test_a_hot_rate_requests_one_snapshot_per_volatile_interval(evaluate) -> None:  # type: ignore[no-untyped-def]
    # 0.0006 every 8 h = 65.7 % a year, above the 50 % entry threshold
    result = evaluate((timedelta(minutes=10), {"BTC/USDT:USDT": "0.0006"}))
    assert isinstance(result, RunRequest)
    assert result.run_key is not None and result.run_key.startswith("volatile-snapshot:")
    bucket = int(result.run_key.split(":")[1])
    assert abs(bucket - datetime.now(UTC).timestamp() // (VOLATILE_MINUTES * 60)) <= 1
    assert result.tags["arbx/reason"].startswith("binance BTC/USDT:USDT at 65.70% annualized")


def test_a_jump_between_the_last_two_snapshots_requests_a_snapshot(evaluate) -> None:  # type: ignore[no-untyped-def]
    # 0.00001 -> 0.0003 every 8 h: 1.1 % -> 32.9 % a year, a move beyond the 25 points jump
    result = evaluate(
        (timedelta(minutes=20), {"ETH/USDT:USDT": "0.00001"}), (timedelta(minutes=10), {"ETH/USDT:USDT": "0.0003"})
    )
    assert isinstance(result, RunRequest) and "moved" in result.tags["arbx/reason"]


def test_a_fresh_snapshot_is_not_repeated_even_when_volatile(evaluate) -> None:  # type: ignore[no-untyped-def]
    result = evaluate((timedelta(seconds=30), {"BTC/USDT:USDT": "0.0006"}))
    assert isinstance(result, SkipReason) and "only" in (result.skip_message or "")
