"""Migration 0003 (natural primary keys of funding_rates and prices) keeps the data, both ways, on both backends."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from arbx_pipelines.storage.db import alembic_config, make_engine, upgrade

INSERT_FUNDING = (
    "INSERT INTO funding_rates (venue, symbol, funding_time, rate, source) VALUES "
    "('binance', 'A/USDT:USDT', '2024-01-01 00:00:00+00:00', 0.0001, 'x'), "
    "('binance', 'A/USDT:USDT', '2024-01-01 08:00:00+00:00', 0.0002, 'x')"
)


def test_upgrade_keeps_rows_and_downgrade_restores_ids(db_url: str) -> None:
    upgrade(db_url, "0002")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(INSERT_FUNDING))
            conn.execute(text("INSERT INTO prices (venue, symbol, time, close, source) "
                              "VALUES ('okx', 'A/USDT', '2024-01-01 00:00:00+00:00', 1.5, 'x')"))  # fmt: skip
        engine.dispose()
        upgrade(db_url, "0003")
        for table, time_col in (("funding_rates", "funding_time"), ("prices", "time")):
            pk = inspect(engine).get_pk_constraint(table)
            assert pk["constrained_columns"] == ["venue", "symbol", time_col]
            assert "id" not in {c["name"] for c in inspect(engine).get_columns(table)}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM funding_rates")).scalar() == 2
            assert conn.execute(text("SELECT count(*) FROM prices")).scalar() == 1
        engine.dispose()
        command.downgrade(alembic_config(db_url), "0002")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT id FROM funding_rates ORDER BY id")).scalars().all() == [1, 2]
            conn.execute(text("INSERT INTO funding_rates (venue, symbol, funding_time, rate, source) "
                              "VALUES ('okx', 'B/USDT:USDT', '2024-01-01 00:00:00+00:00', 0.0001, 'x')"))  # fmt: skip
            assert conn.execute(text("SELECT max(id) FROM funding_rates")).scalar() == 3
        engine.dispose()
        upgrade(db_url)
    finally:
        engine.dispose()
