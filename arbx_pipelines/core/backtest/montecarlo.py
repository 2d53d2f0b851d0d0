"""Monte Carlo by bootstrapping settlements: how much of a backtest's result is luck of the order of events.

Each path redraws every series' settlements (rate and interval together) with replacement, in blocks of
``block`` consecutive settlements so runs of high funding survive, and replays the strategy on the redrawn
history with the original calendar (times) and prices. Series of equal length share the same draws, which keeps
the cross-symbol co-movement of aligned histories. Paths are reproducible for a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arbx_pipelines.core.backtest.data import IntArray, Series
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.params import BacktestParams, ParamError

REPORTED = ("net_pnl", "annualized_return", "sharpe", "max_drawdown", "funding_income", "round_trips")


@dataclass(frozen=True)
class MonteCarloResult:
    paths: int
    seed: int
    block: int
    samples: dict[str, list[float]]

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"paths": self.paths, "seed": self.seed, "block": self.block}
        for name, values in self.samples.items():
            array = np.asarray(values)
            out[name] = {
                "mean": float(array.mean()),
                "p05": float(np.percentile(array, 5)),
                "p50": float(np.percentile(array, 50)),
                "p95": float(np.percentile(array, 95)),
            }
        out["probability_of_loss"] = float(np.mean(np.asarray(self.samples["net_pnl"]) < 0))
        return out


def block_indices(n: int, block: int, rng: np.random.Generator) -> IntArray:
    """``n`` indices into 0..n-1 made of random blocks of ``block`` consecutive indices (wrapping around)."""
    starts = rng.integers(0, n, size=-(-n // block))
    return ((starts[:, None] + np.arange(block)[None, :]) % n).reshape(-1)[:n].astype(np.int64)


def resample(series: Sequence[Series], rng: np.random.Generator, block: int) -> list[Series]:
    draws: dict[int, IntArray] = {}
    out = []
    for item in series:
        n = len(item)
        if n not in draws:
            draws[n] = block_indices(n, block, rng)
        index = draws[n]
        out.append(
            Series(
                item.venue, item.symbol, item.times, item.rates[index], item.interval_hours[index], item.prices,
                perp_prices=item.perp_prices,
            )
        )  # fmt: skip
    return out


def monte_carlo(
    series: Sequence[Series],
    strategy: str,
    params: BacktestParams,
    *,
    paths: int = 200,
    seed: int = 0,
    block: int = 9,
) -> MonteCarloResult:
    if paths < 1:
        raise ParamError(f"paths must be at least 1, got {paths}")
    if block < 1:
        raise ParamError(f"block must be at least 1, got {block}")
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {name: [] for name in REPORTED}
    for _ in range(paths):
        metrics = run_backtest(resample(series, rng, block), strategy, params).total()
        for name in REPORTED:
            samples[name].append(float(metrics[name]))
    return MonteCarloResult(paths=paths, seed=seed, block=block, samples=samples)
