"""core/ stays pure (no I/O or framework imports), and config maps onto the core's parameter objects."""

from __future__ import annotations

import ast
from decimal import Decimal as D
from pathlib import Path

import arbx_pipelines.core as core_pkg
from arbx_pipelines.config.adapters import (
    allocation_params,
    position_risk_params,
    risk_limits,
    scoring_params,
    strategy_params,
)
from arbx_pipelines.config.schema import ArbxConfig, RiskConfig, StrategyConfig, VenueConfig
from arbx_pipelines.core.models import Venue

FORBIDDEN = {"dagster", "ccxt", "sqlalchemy", "aiohttp", "redis", "psycopg", "requests", "socket", "urllib"}
FORBIDDEN_INTERNAL = (
    "arbx_pipelines.config",
    "arbx_pipelines.storage",
    "arbx_pipelines.venues",
    "arbx_pipelines.resources",
)


def test_core_imports_nothing_with_io() -> None:
    offenders = []
    for path in sorted(Path(core_pkg.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN or name.startswith(FORBIDDEN_INTERNAL):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_adapters_carry_config_values() -> None:
    cfg = ArbxConfig(
        strategy=StrategyConfig(
            entry_annualized=D("0.8"),
            exit_annualized=D("0.2"),
            max_leverage=3,
            min_leverage=2,
            min_persistence=D("0.7"),
            spot_inventory={Venue.OKX: {"DOGE": D("7")}},
        ),
        risk=RiskConfig(max_trade_usdt=D("90"), circuit_breaker_failures=5, hedge_deviation_rebalance=D("0.05")),
        venues={Venue.OKX: VenueConfig(swap_taker_fee=D("0.0007"), risk_factor=D("0.9"), capital_share=D("0.5"))},
    )
    strategy = strategy_params(cfg)
    assert (strategy.entry_annualized, strategy.exit_annualized) == (D("0.8"), D("0.2"))
    assert (strategy.min_leverage, strategy.max_leverage, strategy.min_persistence) == (2, 3, D("0.7"))
    assert strategy.fees_for(Venue.OKX).perp_taker == D("0.0007")
    assert strategy.declared_inventory(Venue.OKX, "DOGE") == D("7") and strategy.declared_inventory("okx", "XRP") == 0
    assert strategy.declared_inventory(Venue.BINANCE, "DOGE") == 0
    assert strategy.position_risk.hedge_rebalance == D("0.05") == position_risk_params(cfg).hedge_rebalance
    limits = risk_limits(cfg)
    assert (limits.max_trade_usdt, limits.circuit_breaker_failures) == (D("90"), 5)
    assert limits.capital_share(Venue.OKX) == D("0.5")
    assert scoring_params(cfg).risk_factor(Venue.OKX) == D("0.9")
    assert allocation_params(cfg).max_leverage == 3
