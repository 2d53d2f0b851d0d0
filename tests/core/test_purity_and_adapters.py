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

# Libraries that do I/O or belong to a framework; the core computes, the layers above talk to the world.
FORBIDDEN = {
    "dagster", "ccxt", "sqlalchemy", "alembic", "aiohttp", "redis", "psycopg", "requests", "httpx", "socket",
    "urllib", "http", "smtplib", "sqlite3", "subprocess", "shutil", "os", "pathlib", "io", "asyncio", "yaml",
    "matplotlib", "playwright",
}  # fmt: skip


def _imported_names(source: str, package: list[str]) -> list[str]:
    """Absolute names of every import in one module's source (relative imports resolved against its package)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names += [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
    return names


def _offenders(source: str, package: list[str]) -> list[str]:
    offenders = []
    for name in _imported_names(source, package):
        top = name.split(".")[0]
        if top in FORBIDDEN or (top == "arbx_pipelines" and not (name + ".").startswith("arbx_pipelines.core.")):
            offenders.append(name)
    return offenders


def test_core_imports_nothing_with_io_nor_any_other_arbx_package() -> None:
    root = Path(core_pkg.__file__).parents[1]
    offenders = []
    for path in sorted(Path(core_pkg.__file__).parent.rglob("*.py")):
        package = ["arbx_pipelines", *path.relative_to(root).parent.parts]
        offenders += [f"{path.name}: {name}" for name in _offenders(path.read_text(), package)]
    assert offenders == []


def test_the_purity_check_catches_relative_internal_and_io_imports() -> None:
    package = ["arbx_pipelines", "core", "backtest"]
    source = "from ...storage import db\nfrom .. import funding\nfrom arbx_pipelines.notify.alerts import x\n"
    source += "import os.path\nfrom arbx_pipelines.core.money import ZERO\nfrom . import engine\n"
    assert _offenders(source, package) == ["arbx_pipelines.storage", "arbx_pipelines.notify.alerts", "os.path"]


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
