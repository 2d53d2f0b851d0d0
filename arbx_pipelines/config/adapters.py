"""Build the pure core's parameter objects from the validated config, so ``core`` never imports config.

Live sensors and the backtester both go through these, so a threshold means the same in both.

Public API::

    strategy_params(cfg) -> StrategyParams
    risk_limits(cfg) -> RiskLimits
    scoring_params(cfg) -> ScoringParams
    allocation_params(cfg) -> AllocationParams
    position_risk_params(cfg) -> PositionRiskParams
"""

from __future__ import annotations

from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.core.allocation import AllocationParams
from arbx_pipelines.core.decision import StrategyParams
from arbx_pipelines.core.decision_inputs import VenueFees
from arbx_pipelines.core.position_risk import PositionRiskParams
from arbx_pipelines.core.risk import RiskLimits
from arbx_pipelines.core.scoring import ScoringParams


def position_risk_params(cfg: ArbxConfig) -> PositionRiskParams:
    return PositionRiskParams(hedge_rebalance=cfg.risk.hedge_deviation_rebalance)


def strategy_params(cfg: ArbxConfig) -> StrategyParams:
    strategy = cfg.strategy
    return StrategyParams(
        entry_annualized=strategy.entry_annualized,
        exit_annualized=strategy.exit_annualized,
        max_holding_days=strategy.max_holding_days,
        planned_holding_hours=strategy.planned_holding_hours,
        profit_target_usdt=strategy.profit_target_usdt,
        allow_margin_borrow=strategy.allow_margin_borrow,
        fees={
            venue: VenueFees(spot_taker=venue_cfg.spot_taker_fee, perp_taker=venue_cfg.swap_taker_fee)
            for venue, venue_cfg in cfg.venues.items()
        },
        position_risk=position_risk_params(cfg),
        spot_inventory={venue: dict(coins) for venue, coins in strategy.spot_inventory.items()},
        min_leverage=strategy.min_leverage,
        max_leverage=strategy.max_leverage,
        min_persistence=strategy.min_persistence,
    )


def risk_limits(cfg: ArbxConfig) -> RiskLimits:
    risk = cfg.risk
    return RiskLimits(
        min_trade_usdt=risk.min_trade_usdt,
        max_trade_usdt=risk.max_trade_usdt,
        daily_amount_usdt=risk.daily_amount_usdt,
        daily_trade_count=risk.daily_trade_count,
        max_single_loss_usdt=risk.max_single_loss_usdt,
        max_daily_loss_usdt=risk.max_daily_loss_usdt,
        min_profit_rate=risk.min_profit_rate,
        circuit_breaker_failures=risk.circuit_breaker_failures,
        venue_capital_share={venue: venue_cfg.capital_share for venue, venue_cfg in cfg.venues.items()},
        venue_reserve_usdt={venue: venue_cfg.reserve_balance_usdt for venue, venue_cfg in cfg.venues.items()},
    )


def scoring_params(cfg: ArbxConfig) -> ScoringParams:
    return ScoringParams(venue_risk_factor={venue: venue_cfg.risk_factor for venue, venue_cfg in cfg.venues.items()})


def allocation_params(cfg: ArbxConfig) -> AllocationParams:
    return AllocationParams(
        max_coin_share=cfg.risk.max_coin_share,
        max_account_share=cfg.risk.max_account_share,
        max_leverage=cfg.strategy.max_leverage,
        min_trade_usdt=cfg.risk.min_trade_usdt,
        max_trade_usdt=cfg.risk.max_trade_usdt,
    )
