"""Small generated funding histories for the analytics tests (no files, deterministic for a seed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from arbx_pipelines.core.backtest.data import PricePoint, Settlement

START = datetime(2024, 1, 1, tzinfo=UTC)


def ar_rates(n: int, *, seed: int, mean: float = 0.0001, phi: float = 0.8, noise: float = 0.0002) -> list[float]:
    """An AR(1) funding-rate path around ``mean``."""
    rng = np.random.default_rng(seed)
    out = []
    value = mean
    for shock in rng.normal(0.0, noise, n):
        value = mean + phi * (value - mean) + shock
        out.append(float(value))
    return out


def settlements(
    rates: list[float],
    *,
    venue: str = "binance",
    symbol: str = "BTC/USDT:USDT",
    hours: int = 8,
    start: datetime = START,
) -> list[Settlement]:
    return [
        Settlement(venue, symbol, start + timedelta(hours=hours * i), rate, float(hours))
        for i, rate in enumerate(rates)
    ]


def prices(
    values: list[float], *, venue: str = "binance", symbol: str = "BTC/USDT:USDT", hours: int = 8
) -> list[PricePoint]:
    return [PricePoint(venue, symbol, START + timedelta(hours=hours * i), v) for i, v in enumerate(values)]
