"""Backtest and forecast parameters from the validated config, so analytics judge with the live thresholds/fees."""

from __future__ import annotations

from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.core.backtest.params import BacktestParams


def backtest_params(cfg: ArbxConfig, capital: float) -> BacktestParams:
    """The live strategy thresholds and each venue's configured taker fees, for ``capital`` USDT."""
    strategy = cfg.strategy
    return BacktestParams(
        capital=capital,
        entry_annualized=float(strategy.entry_annualized),
        exit_annualized=float(strategy.exit_annualized),
        max_holding_days=strategy.max_holding_days,
        planned_holding_hours=strategy.planned_holding_hours,
        profit_target=None if strategy.profit_target_usdt is None else float(strategy.profit_target_usdt),
        allow_negative=strategy.allow_margin_borrow,
        venue_fees=tuple(
            (str(venue), float(venue_cfg.spot_taker_fee), float(venue_cfg.swap_taker_fee))
            for venue, venue_cfg in sorted(cfg.venues.items())
        ),
    )
