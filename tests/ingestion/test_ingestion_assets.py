"""Ingestion assets against the simulated venues through ccxt: snapshot, markets, quotes, 90-day history."""

from __future__ import annotations

from datetime import timedelta

import ccxt
from dagster import AssetSelection, DagsterInstance, SensorResult, build_sensor_context, materialize
from sqlalchemy import func, select

from arbx_pipelines.assets.funding_history import FUNDING_HISTORY_CHECKS, funding_history
from arbx_pipelines.assets.market_data import funding_snapshot, markets
from arbx_pipelines.marketdata.backfill import RANGE_END_TAG, RANGE_START_TAG, last_complete_day, partition_range
from arbx_pipelines.sensors.quotes import quotes_monitor_sensor
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import FundingRateRow, FundingSnapshotRow, Market, QuoteRow
from arbx_pipelines.venues.sim.ccxt_wiring import wire
from tests.ingestion.conftest import IngestionSetup


def _linear_usdt_perps(setup: IngestionSetup, venue: str) -> int:
    """Counted independently of arbx's client: a stock sync ccxt client on the simulator."""
    exchange = wire(getattr(ccxt, venue)(), setup.sim.base_url)
    found = exchange.load_markets()
    return sum(1 for m in found.values() if m.get("swap") and m.get("linear") and m.get("settle") == "USDT")


def test_funding_snapshot_covers_every_perpetual(ingestion: IngestionSetup) -> None:
    result = materialize([funding_snapshot], resources=ingestion.resources)
    assert result.success
    with transaction(ingestion.engine) as session:
        per_venue = dict(
            session.execute(select(FundingSnapshotRow.venue, func.count()).group_by(FundingSnapshotRow.venue)).all()
        )
        intervals = set(session.execute(select(FundingSnapshotRow.interval_hours).distinct()).scalars())
        row = session.execute(select(FundingSnapshotRow).limit(1)).scalar_one()
    assert per_venue == {venue: _linear_usdt_perps(ingestion, venue) for venue in ingestion.venues}
    assert {1, 4, 8} <= intervals
    assert row.annualized == row.rate * 24 * 365 / row.interval_hours


def test_markets_then_quotes_of_the_top_symbols(ingestion: IngestionSetup) -> None:
    assert materialize([markets, funding_snapshot], resources=ingestion.resources).success
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, resources=ingestion.resources)
        result = quotes_monitor_sensor(1)(context)
    assert isinstance(result, SensorResult) and not result.run_requests
    (event,) = result.asset_events or []
    assert event.asset_key.path == ["quotes"] and event.metadata["books"].value == 20
    with transaction(ingestion.engine) as session:
        stored = session.execute(select(Market).where(Market.symbol == "BTC/USDT:USDT")).scalars().all()
        quote_rows = session.execute(select(QuoteRow)).scalars().all()
    assert {m.venue for m in stored} == set(ingestion.venues)
    assert all(m.min_notional is not None or m.min_amount is not None for m in stored)
    assert len(quote_rows) == 20  # top 10 perpetuals by |annualized|, each with its spot market
    assert all(q.bid is not None and q.ask is not None and q.bid < q.ask for q in quote_rows)


def _backfill(setup: IngestionSetup, days: int) -> int:
    start, end = partition_range(days)
    result = materialize(
        [funding_history, *FUNDING_HISTORY_CHECKS],
        resources=setup.resources,
        tags={RANGE_START_TAG: start, RANGE_END_TAG: end},
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert not failed, [c.description for c in failed]
    with transaction(setup.engine) as session:
        return int(session.execute(select(func.count()).select_from(FundingRateRow)).scalar_one())


def test_ninety_day_backfill_is_idempotent_and_passes_checks(ingestion: IngestionSetup) -> None:
    rows = _backfill(ingestion, 90)
    with transaction(ingestion.engine) as session:
        first, last = session.execute(
            select(func.min(FundingRateRow.funding_time), func.max(FundingRateRow.funding_time))
        ).one()
        snapshot_of_rows = session.execute(
            select(FundingRateRow.venue, FundingRateRow.symbol, FundingRateRow.funding_time, FundingRateRow.rate)
        ).all()
    assert rows > 90 * 3 * 50  # >= 50 perpetuals per venue, at least three settlements a day
    assert first.date() == last_complete_day() - timedelta(days=89)
    assert last.date() == last_complete_day()
    assert _backfill(ingestion, 90) == rows  # a second run changes no row
    with transaction(ingestion.engine) as session:
        again = session.execute(
            select(FundingRateRow.venue, FundingRateRow.symbol, FundingRateRow.funding_time, FundingRateRow.rate)
        ).all()
    assert sorted(again) == sorted(snapshot_of_rows)


def test_gap_check_names_the_symbol_and_time(ingestion: IngestionSetup) -> None:
    _backfill(ingestion, 3)
    with transaction(ingestion.engine) as session:
        victim = session.execute(
            select(FundingRateRow)
            .where(FundingRateRow.symbol == "ETH/USDT:USDT")
            .order_by(FundingRateRow.funding_time)
            .offset(3)
            .limit(1)
        ).scalar_one()
        session.delete(victim)
    result = materialize(
        [funding_history, *FUNDING_HISTORY_CHECKS],
        resources=ingestion.resources,
        selection=AssetSelection.checks(*FUNDING_HISTORY_CHECKS),
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    gaps = {c.check_name: c for c in result.get_asset_check_evaluations()}["funding_history_gaps"]
    assert not gaps.passed
    assert f"{victim.venue} ETH/USDT:USDT at {victim.funding_time:%Y-%m-%d %H:%M}" in (gaps.description or "")
