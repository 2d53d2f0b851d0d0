"""Report assets: daily P&L (one partition per UTC day) and the on-demand performance and backtest reports.

Reports are written under ``<data_dir>/reports/`` as markdown + PNG and as a self-contained HTML page. The
materialization's *description* is the same markdown with the charts inline: the Dagster UI renders a description
on the materialization page itself (markdown metadata would hide behind "Show Markdown"). That is why the two
reports yield their ``AssetMaterialization`` instead of returning a result (which carries no description).
No ``from __future__ import annotations`` here: Dagster reads the ``context`` annotation at definition time.
"""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from dagster import (
    AllPartitionMapping,
    AssetDep,
    AssetExecutionContext,
    AssetMaterialization,
    Config,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from arbx_pipelines.assets.analytics import outlook_file
from arbx_pipelines.assets.funding_history import funding_history
from arbx_pipelines.assets.positions import funding_payments, positions
from arbx_pipelines.config.analytics_adapters import backtest_params
from arbx_pipelines.core.backtest.data import BacktestInputError, attach_prices, build_series, select_series
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.params import STRATEGIES, ParamError, parse_params
from arbx_pipelines.core.daily_pnl import DayActivity, day_bounds
from arbx_pipelines.engine.executor import SPOT_ARB_KIND
from arbx_pipelines.engine.report import stats_per_day
from arbx_pipelines.reports.backtest_report import add_forecast_outlook, build_backtest_report
from arbx_pipelines.reports.documents import MIN_ANNUALIZE_DAYS, Report, ReportFiles, metadata_markdown, write_report
from arbx_pipelines.reports.performance import build_performance_report
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.storage.funding import last_settlement_time, settlements
from arbx_pipelines.storage.pnl import activity
from arbx_pipelines.storage.prices import price_points
from arbx_pipelines.storage.spot_arbitrage import fills_of_execution, spot_executions

DAILY_PARTITIONS = DailyPartitionsDefinition(start_date="2024-01-01", timezone="UTC")


class PerformanceReportConfig(Config):
    capital_usdt: float = 500.0
    days: int = 365


class BacktestReportConfig(Config):
    strategy: str = "threshold"
    symbols: list[str] = Field(default_factory=list, description="empty: every symbol with history")
    lookback_days: int = Field(365, description="days of history before the newest stored settlement")
    capital_usdt: float = 500.0
    params: dict[str, str] = Field(default_factory=dict, description="backtest parameters, as arbx backtest --param")


def reports_dir(settings: SettingsResource) -> Path:
    return settings.loaded().data_dir / "reports"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def report_materialization(
    context: AssetExecutionContext, report: Report, files: ReportFiles, figures: dict[str, Any]
) -> AssetMaterialization:
    """The report's materialization: its markdown with the charts inline as the description, files as metadata."""
    return AssetMaterialization(
        asset_key=context.asset_key,
        description=metadata_markdown(report),
        metadata={
            **figures,
            "html": MetadataValue.path(str(files.html)),
            "markdown": MetadataValue.path(str(files.markdown)),
            "charts": MetadataValue.json([str(p) for p in files.charts]),
        },
    )


@asset(
    group_name="reports",
    partitions_def=DAILY_PARTITIONS,
    deps=[positions, funding_payments],
    description="P&L of one UTC day: funding received, fees paid, price P&L of hedges closed that day.",
)
def daily_pnl(
    context: AssetExecutionContext, database: DatabaseResource, settings: SettingsResource
) -> MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    start, end = day_bounds(day)
    found = activity(database.engine, start, end)
    today = found[0] if found else DayActivity(day)
    rows = {
        key: {**{k: str(v) for k, v in vars(row).items()}, "net": str(row.net)} for key, row in today.symbols.items()
    }
    summary: dict[str, Any] = {
        "day": day.isoformat(),
        "funding": str(today.funding),
        "fees": str(today.fees),
        "price_pnl": str(today.price_pnl),
        "net": str(today.net),
        "by_symbol": rows,
        "unconverted_fees": {c: str(a) for c, a in today.unconverted_fees.items()},
        "closed_without_pnl": today.closed_without_pnl,
    }
    target = reports_dir(settings) / "daily_pnl" / f"{day.isoformat()}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    context.log.info(f"{day}: net {today.net} USDT over {len(rows)} symbols")
    table = "\n".join(
        ["| symbol | funding | fees | price P&L | net |", "|---|---|---|---|---|"]
        + [f"| {k} | {r['funding']} | {r['fees']} | {r['price_pnl']} | {r['net']} |" for k, r in rows.items()]
    )
    return MaterializeResult(
        metadata={
            "net": float(today.net),
            "funding": float(today.funding),
            "fees": float(today.fees),
            "price_pnl": float(today.price_pnl),
            "symbols": len(rows),
            "by_symbol": MetadataValue.md(table if rows else "no activity"),
            "file": MetadataValue.path(str(target)),
        }
    )


@asset(
    group_name="reports",
    output_required=False,
    deps=[
        AssetDep("daily_pnl", partition_mapping=AllPartitionMapping()),
        AssetDep("spot_arbitrage", partition_mapping=AllPartitionMapping()),
    ],
    description="On demand: equity, drawdown, funding vs fees and per-symbol P&L charts, and the spot arbitrages.",
)
def performance_report(
    context: AssetExecutionContext,
    config: PerformanceReportConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> Iterator[AssetMaterialization]:
    end = datetime.now(UTC) + timedelta(days=1)
    days = activity(database.engine, end - timedelta(days=config.days + 1), end)
    executions = spot_executions(database.engine, SPOT_ARB_KIND, start=end - timedelta(days=config.days + 1), end=end)
    spot = stats_per_day([(e, fills_of_execution(database.engine, e.id)) for e in executions])
    report = build_performance_report(days, Decimal(str(config.capital_usdt)), spot=spot)
    files = write_report(report, reports_dir(settings) / f"performance-{_stamp()}")
    context.log.info(f"performance report over {len(days)} days written to {files.html}")
    yield report_materialization(context, report, files, {"days_with_activity": len(days)})


@asset(
    group_name="reports",
    output_required=False,
    deps=[AssetDep(funding_history, partition_mapping=AllPartitionMapping()), "funding_forecasts"],
    description="On demand: backtest of the funding_rates table (funding_history or `arbx history import`) "
    "with charts.",
)
def backtest_report(
    context: AssetExecutionContext,
    config: BacktestReportConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> Iterator[AssetMaterialization]:
    if config.strategy not in STRATEGIES:
        raise ValueError(f"strategy {config.strategy!r}: choose one of {', '.join(STRATEGIES)}")
    params = parse_params(config.params, backtest_params(settings.config, config.capital_usdt))
    last = last_settlement_time(database.engine)
    if last is None:
        raise ValueError("no funding history stored: run `arbx history import` or materialize funding_history first")
    since = last - timedelta(days=config.lookback_days)  # the stored history's last year, however old it is
    records = settlements(database.engine, since=since)
    try:
        series = select_series(build_series(records), config.symbols or None)
        unpriced = attach_prices(series, price_points(database.engine, since=since), required=False)
        if unpriced:  # one constant-notional rule for the whole book keeps the symbols comparable
            for item in series:
                item.prices = None
        result = run_backtest(series, config.strategy, params)
    except (BacktestInputError, ParamError) as exc:
        raise ValueError(str(exc)) from exc
    report = build_backtest_report(result, f"Backtest: {config.strategy}, {len(series)} symbols")
    add_forecast_outlook(report, outlook_file(settings), {item.key for item in series})
    files = write_report(report, reports_dir(settings) / f"backtest-{config.strategy}-{_stamp()}")
    (files.directory / "backtest.json").write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    total = result.total()
    context.log.info(f"backtest report written to {files.html}")
    figures: dict[str, Any] = {
        "net_pnl": float(total["net_pnl"]),
        "sharpe": float(total["sharpe"]),
        "max_drawdown": float(total["max_drawdown"]),
        "round_trips": int(total["round_trips"]),
        "priced": not unpriced,
        "history_until": last.isoformat(),
    }
    if total["days"] >= MIN_ANNUALIZE_DAYS:
        figures["annualized_return"] = float(total["annualized_return"])
    yield report_materialization(context, report, files, figures)
