"""The Dagster code location loads and its resources follow the configuration."""

from __future__ import annotations

from pathlib import Path

from dagster import materialize
from sqlalchemy import inspect

from arbx_pipelines.assets.system import database_schema
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.definitions import build_definitions
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.storage.db import make_engine


def test_definitions_load_with_sim_defaults(tmp_path: Path) -> None:
    loaded = load_config(env={"ARBX_DATA_DIR": str(tmp_path)})
    defs = build_definitions(loaded)
    assert loaded.config.mode.value == "sim"
    assert defs.resolve_asset_graph().get_all_asset_keys()
    assert str(tmp_path) in loaded.database_url


LINEAGE = [
    ("markets", "funding_snapshot"),
    ("funding_snapshot", "opportunity_ranking"),
    ("opportunity_ranking", "capital_allocation"),
    ("funding_history", "symbol_funding_stats"),
    ("funding_history", "funding_forecasts"),
    ("funding_forecasts", "opportunity_ranking"),
    ("funding_history", "backtest_report"),
    ("funding_forecasts", "backtest_report"),
    ("positions", "daily_pnl"),
    ("funding_payments", "daily_pnl"),
    ("daily_pnl", "performance_report"),
    ("spot_arbitrage", "performance_report"),
    ("funding_snapshot", "quotes"),
]


def test_assets_declare_the_data_flow(tmp_path: Path) -> None:
    graph = build_definitions(load_config(env={"ARBX_DATA_DIR": str(tmp_path)})).resolve_asset_graph()
    edges = {(parent.to_user_string(), key.to_user_string()) for key in graph.get_all_asset_keys()
             for parent in graph.get(key).parent_keys}  # fmt: skip
    assert set(LINEAGE) <= edges, set(LINEAGE) - edges


def test_database_schema_asset_creates_every_table(db_url: str) -> None:
    result = materialize([database_schema], resources={"database": DatabaseResource(url=db_url)})
    assert result.success
    tables = set(inspect(make_engine(db_url)).get_table_names())
    expected = {
        "markets", "funding_rates", "quotes", "opportunities", "executions", "orders", "fills",
        "positions", "funding_payments", "account_transactions", "alerts", "system_logs",
    }  # fmt: skip
    assert expected <= tables
