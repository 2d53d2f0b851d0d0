"""Analytics assets: funding forecasts, opportunity ranking, capital allocation (thin: read, call core, record).

No ``from __future__ import annotations`` here: Dagster reads the ``context`` annotation at definition time.
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from dagster import AllPartitionMapping, AssetDep, AssetExecutionContext, Config, MetadataValue, Output, asset
from pydantic import Field

from arbx_pipelines.assets.funding_history import funding_history
from arbx_pipelines.assets.market_data import funding_snapshot
from arbx_pipelines.config.adapters import allocation_params, scoring_params
from arbx_pipelines.config.analytics_adapters import backtest_params
from arbx_pipelines.core.backtest.data import attach_prices, build_series
from arbx_pipelines.core.forecast.allocation import allocate_ranked
from arbx_pipelines.core.forecast.arima import MIN_OBSERVATIONS, ForecastError
from arbx_pipelines.core.forecast.outlook import OutlookSettings, SymbolOutlook, outlooks
from arbx_pipelines.core.forecast.ranking import RankedOpportunity, rank_outlooks
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.storage.funding import latest_snapshots, settlements
from arbx_pipelines.storage.pnl import open_exposure
from arbx_pipelines.storage.prices import price_points

TABLE_ROWS = 25


class ForecastConfig(Config):
    lookback_days: int = 400
    holdout_months: int = 3
    symbols: list[str] = Field(default_factory=list, description="empty: every symbol with history")
    workers: int = 1
    capital_usdt: float = 500.0


class AllocationConfig(Config):
    capital_usdt: float = 500.0


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@asset(
    group_name="analytics",
    deps=[AssetDep(funding_history, partition_mapping=AllPartitionMapping())],
    description="Per-symbol ARIMA forecasts of the annualized funding rate with persistence, anomaly z-scores, "
    "dynamic leverage and optimal holding time; out-of-sample accuracy vs the naive forecast on held-back months. "
    "Reads the funding_rates table (filled by funding_history or `arbx history import`).",
)
def funding_forecasts(
    context: AssetExecutionContext, config: ForecastConfig, database: DatabaseResource, settings: SettingsResource
) -> Output[dict[str, Any]]:
    cfg = settings.config
    since = datetime.now(UTC) - timedelta(days=config.lookback_days)
    records = settlements(database.engine, since=since, symbols=config.symbols or None)
    series = [s for s in build_series(records) if len(s) >= MIN_OBSERVATIONS]
    unpriced = attach_prices(series, price_points(database.engine, since=since), required=False)
    settings_ = OutlookSettings(
        strategy=backtest_params(cfg, config.capital_usdt),
        anomaly_z=cfg.risk.anomaly_z,
        max_leverage=cfg.strategy.max_leverage,
        risk_factors={str(v): float(c.risk_factor) for v, c in cfg.venues.items()},
    )
    modelled, skipped = outlooks(series, settings_, workers=config.workers)
    from arbx_pipelines.core.forecast.accuracy import evaluate_forecasts  # pandas (~50 MB): only in this asset's run

    accuracy: dict[str, Any] | None = None
    try:
        accuracy = evaluate_forecasts(series, holdout_months=config.holdout_months, workers=config.workers).to_dict()
    except ForecastError as exc:
        context.log.warning(f"forecast accuracy not measured: {exc}")
    context.log.info(f"{len(modelled)} symbols forecast, {len(skipped)} skipped, {len(unpriced)} without prices")
    metadata: dict[str, Any] = {
        "symbols": len(modelled),
        "skipped": MetadataValue.json(skipped),
        "without_prices": len(unpriced),
        "settlements_read": len(records),
        "forecasts": MetadataValue.md(_forecast_table(modelled)),
    }
    if accuracy is not None:
        metadata["accuracy_vs_naive"] = MetadataValue.md(_accuracy_table(accuracy))
        metadata["holdout_from"] = accuracy["cutoff"]
    generated_at = datetime.now(UTC).isoformat()
    value = {"generated_at": generated_at, "outlooks": modelled, "skipped": skipped, "accuracy": accuracy}
    write_outlook_file(settings, generated_at, modelled)
    return Output(value, metadata=metadata)


def outlook_file(settings: SettingsResource) -> Path:
    """Where funding_forecasts leaves its latest outlook for the reports (``reports/forecasts/latest.json``)."""
    return settings.loaded().data_dir / "reports" / "forecasts" / "latest.json"


def write_outlook_file(settings: SettingsResource, generated_at: str, outlooks: list[SymbolOutlook]) -> None:
    rows = [{"symbol": o.key, "annualized": o.annualized, "forecast_mean": o.forecast_mean, "eligible": o.eligible,
             "reason": o.reason} for o in outlooks]  # fmt: skip
    path = outlook_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"generated_at": generated_at, "outlooks": rows}, indent=2) + "\n", encoding="utf-8")


def _forecast_table(items: list[SymbolOutlook]) -> str:
    header = ["symbol", "annualized", "next", "mean (hold)", "hold h", "persist h", "z", "lev", "eligible"]
    rows = [
        [o.key, _pct(o.annualized), _pct(o.forecast_next), _pct(o.forecast_mean), f"{o.holding.hours:.0f}",
         f"{o.persistence.expected_hours:.0f}", "-" if o.anomaly.funding_z is None else f"{o.anomaly.funding_z:.1f}",
         str(o.leverage), "yes" if o.eligible else o.reason]
        for o in items[:TABLE_ROWS]
    ]  # fmt: skip
    return _md_table(header, rows)


def _accuracy_table(accuracy: dict[str, Any]) -> str:
    header = ["symbol", "test", "naive MAE", "ARIMA MAE", "ARIMA skill", "regression MAE", "regression skill"]
    rows = []
    for key, item in accuracy["by_symbol"].items():
        regression = item["regression"]
        rows.append([
            key, str(item["test_settlements"]), f"{item['naive']['mae']:.4f}", f"{item['arima']['mae']:.4f}",
            _pct(item["arima_skill"]), "-" if regression is None else f"{regression['mae']:.4f}",
            _pct(item["regression_skill"]),
        ])  # fmt: skip
    summary = accuracy["summary"]
    head = (
        f"Held back {accuracy['cutoff'][:10]} .. {accuracy['end'][:10]}; ARIMA beats naive on "
        f"{summary.get('arima_beats_naive', 0)}/{summary.get('symbols', 0)} symbols, regression on "
        f"{summary.get('regression_beats_naive', 0)}/{summary.get('symbols', 0)} (MAE of the annualized rate).\n\n"
    )
    return head + _md_table(header, rows)


@asset(
    group_name="analytics",
    deps=[funding_snapshot],
    description="Symbols ranked by forecast net return per day, with the live score of the latest funding snapshot.",
)
def opportunity_ranking(
    context: AssetExecutionContext,
    funding_forecasts: dict[str, Any],
    database: DatabaseResource,
    settings: SettingsResource,
) -> Output[list[RankedOpportunity]]:
    snapshot = next(iter(latest_snapshots(database.engine, 1)), None)
    live = {f"{v}:{s}": rate for (v, s), rate in snapshot.annualized().items()} if snapshot is not None else {}
    ranked = rank_outlooks(funding_forecasts["outlooks"], scoring_params(settings.config), live_annualized=live)
    eligible = [r for r in ranked if r.outlook.eligible]
    context.log.info(f"{len(eligible)} of {len(ranked)} symbols eligible")
    header = ["rank", "symbol", "forecast score", "live score", "annualized", "hold h", "lev", "eligible"]
    rows = [
        [str(r.rank), r.outlook.key, f"{r.outlook.score:.5f}", f"{r.live_score:.3f}", _pct(r.outlook.annualized),
         f"{r.outlook.holding.hours:.0f}", str(r.outlook.leverage), "yes" if r.outlook.eligible else r.outlook.reason]
        for r in ranked[:TABLE_ROWS]
    ]  # fmt: skip
    metadata: dict[str, Any] = {
        "symbols": len(ranked),
        "eligible": len(eligible),
        "top": eligible[0].outlook.key if eligible else "-",
        "live_snapshot": snapshot.time.isoformat() if snapshot is not None else "none yet (last settled rates)",
        "ranking": MetadataValue.md(_md_table(header, rows)),
    }
    return Output(ranked, metadata=metadata)


@asset(group_name="analytics", description="Capital per eligible symbol through the live allocator and risk caps.")
def capital_allocation(
    context: AssetExecutionContext,
    config: AllocationConfig,
    opportunity_ranking: list[RankedOpportunity],
    database: DatabaseResource,
    settings: SettingsResource,
) -> Output[dict[str, Any]]:
    used_by_coin, used_total = open_exposure(database.engine)
    capital = Decimal(str(config.capital_usdt))
    plan = allocate_ranked(
        [r.outlook for r in opportunity_ranking],
        capital,
        allocation_params(settings.config),
        used_by_coin=used_by_coin,
        used_total=used_total,
    )
    result = plan.to_dict()
    context.log.info(f"allocated {result['allocated']} of {capital} USDT over {len(plan.allocations)} symbols")
    header = ["symbol", "notional", "capital", "leverage"]
    rows = [
        [f"{a['venue']}:{a['symbol']}", a["notional"], a["capital"], str(a["leverage"])] for a in result["allocations"]
    ]
    metadata: dict[str, Any] = {
        "capital": float(capital),
        "already_used": float(used_total),
        "allocated": float(plan.allocated),
        "symbols": len(plan.allocations),
        "allocations": MetadataValue.md(_md_table(header, rows) if rows else "nothing allocated"),
        "skipped": MetadataValue.json(plan.skipped),
    }
    return Output(result, metadata=metadata)
