"""Storage on SQLite and PostgreSQL: migrations, exact Decimal money, UTC times, natural-key uniqueness."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError

from arbx_pipelines.storage.db import current_revision, make_engine, normalize_url, transaction
from arbx_pipelines.storage.models import Base, FundingRateRow, Order

PROJECT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 7, 1, 8, tzinfo=UTC)


def test_migrations_create_every_model_table(migrated_engine: Engine) -> None:
    tables = set(inspect(migrated_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert current_revision(migrated_engine) is not None


def test_money_round_trips_exactly(migrated_engine: Engine) -> None:
    rate = Decimal("0.000123456789012345")
    price = Decimal("98765.4321")
    with transaction(migrated_engine) as s:
        s.add(FundingRateRow(venue="binance", symbol="BTC/USDT:USDT", funding_time=T0, rate=rate, mark_price=price))
    with transaction(migrated_engine) as s:
        row = s.execute(select(FundingRateRow)).scalar_one()
    assert isinstance(row.rate, Decimal) and row.rate == rate
    assert row.mark_price == price
    assert row.funding_time == T0 and row.funding_time.tzinfo is not None


def test_times_are_stored_as_utc(migrated_engine: Engine) -> None:
    shanghai = timezone(timedelta(hours=8))
    with transaction(migrated_engine) as s:
        local = T0.astimezone(shanghai)
        s.add(FundingRateRow(venue="okx", symbol="ETH/USDT:USDT", funding_time=local, rate=Decimal(0)))
    with transaction(migrated_engine) as s:
        assert s.execute(select(FundingRateRow.funding_time)).scalar_one() == T0


def test_naive_times_are_refused(migrated_engine: Engine) -> None:
    with pytest.raises(Exception, match="naive datetime"), transaction(migrated_engine) as s:
        s.add(FundingRateRow(venue="okx", symbol="X/USDT:USDT", funding_time=datetime(2025, 1, 1), rate=Decimal(0)))
        s.flush()


def test_funding_rate_natural_key_is_unique(migrated_engine: Engine) -> None:
    with transaction(migrated_engine) as s:
        s.add(FundingRateRow(venue="binance", symbol="BTC/USDT:USDT", funding_time=T0, rate=Decimal("0.0001")))
    with pytest.raises(IntegrityError), transaction(migrated_engine) as s:
        s.add(FundingRateRow(venue="binance", symbol="BTC/USDT:USDT", funding_time=T0, rate=Decimal("0.0002")))
    with transaction(migrated_engine) as s:  # the failed transaction left nothing behind
        assert s.execute(select(FundingRateRow.rate)).scalars().all() == [Decimal("0.0001")]


def test_client_order_id_is_unique(migrated_engine: Engine) -> None:
    def order() -> Order:
        return Order(
            client_order_id="arbx-1-perp", leg="perp", venue="binance", symbol="BTC/USDT:USDT", side="sell",
            order_type="limit", amount=Decimal("0.002"), status="intent", created_at=T0, updated_at=T0,
        )  # fmt: skip

    with transaction(migrated_engine) as s:
        s.add(order())
    with pytest.raises(IntegrityError), transaction(migrated_engine) as s:
        s.add(order())


def test_plain_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_cli_db_upgrade_on_an_empty_database(db_url: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "arbx_pipelines.cli.main", "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"ARBX_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT)},
    )
    assert proc.returncode == 0, proc.stderr
    from alembic.script import ScriptDirectory

    from arbx_pipelines.storage.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    assert proc.stdout.startswith(f"database at revision {head}:")
    assert set(Base.metadata.tables) <= set(inspect(make_engine(db_url)).get_table_names())


def test_migrations_match_the_models(migrated_engine: Engine) -> None:
    """A model change without its migration would show up here as a difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with migrated_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
