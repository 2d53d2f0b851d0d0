"""The report charts as PNG bytes: equity curve, drawdown, funding vs costs, per-symbol contribution.

Uses matplotlib's object API (``Figure`` + the Agg canvas): no pyplot global state and no display, so charts can
be drawn from Dagster ops and worker threads. Times are epoch seconds (UTC).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from arbx_pipelines.core.backtest.data import FloatArray, IntArray

if TYPE_CHECKING:  # matplotlib loads in ~0.6 s: only a chart being drawn pays for it, not every import of the project
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SIZE = (8.0, 3.2)
DPI = 90
FUNDING_COLOUR = "#2a9d8f"
COST_COLOUR = "#e76f51"
EQUITY_COLOUR = "#264653"


def _figure(size: tuple[float, float]) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=size)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _dates(times: IntArray) -> npt.NDArray[np.datetime64]:
    """Epoch seconds (UTC) as datetimes matplotlib can place on a time axis."""
    return np.asarray(times, dtype=np.int64).astype("datetime64[s]")


def fit_span(axes: Axes, times: IntArray) -> None:
    """A series at one instant (or none) would get matplotlib's default date span of years: show one day instead."""
    if times.size and int(np.max(times)) == int(np.min(times)):
        from matplotlib.dates import date2num

        at = np.datetime64(int(times[0]), "s")
        axes.set_xlim(float(date2num(at - np.timedelta64(12, "h"))), float(date2num(at + np.timedelta64(12, "h"))))


def _time_axis(figure: Figure) -> Axes:
    axes = figure.add_subplot()
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.grid(alpha=0.3)
    return axes


def equity_curve(times: IntArray, equity: FloatArray, title: str = "Equity (USDT)") -> bytes:
    figure = _figure(SIZE)
    axes = _time_axis(figure)
    axes.step(_dates(times), equity, where="post", color=EQUITY_COLOUR, linewidth=1.2)
    axes.set_title(title)
    return _png(figure)


def drawdown(times: IntArray, equity: FloatArray) -> bytes:
    """Fall below the running peak, in % of the peak."""
    peaks = np.maximum.accumulate(equity)
    falls = np.where(peaks > 0, (equity - peaks) / np.where(peaks > 0, peaks, 1.0), 0.0) * 100
    figure = _figure(SIZE)
    axes = _time_axis(figure)
    axes.fill_between(_dates(times), falls, 0, step="post", color=COST_COLOUR, alpha=0.6)
    axes.set_title(f"Drawdown (%), deepest {falls.min():.2f}%")
    return _png(figure)


def funding_vs_costs(times: IntArray, funding: FloatArray, costs: FloatArray) -> bytes:
    """Cumulative funding received and cumulative trading costs (fees, spread, slippage)."""
    figure = _figure(SIZE)
    axes = _time_axis(figure)
    axes.step(_dates(times), np.cumsum(funding), where="post", color=FUNDING_COLOUR, label="funding")
    axes.step(_dates(times), np.cumsum(costs), where="post", color=COST_COLOUR, label="costs (fees, spread, slippage)")
    if times.size == 1:  # a step needs two points; one day of activity still shows as two dots
        axes.plot(_dates(times), np.cumsum(funding), "o", color=FUNDING_COLOUR)
        axes.plot(_dates(times), np.cumsum(costs), "o", color=COST_COLOUR)
    fit_span(axes, times)
    axes.legend(loc="upper left")
    axes.set_title("Funding vs costs, cumulative (USDT)")
    return _png(figure)


def contribution(labels: Sequence[str], values: Sequence[float], *, limit: int = 20) -> bytes:
    """Net P&L per symbol, largest magnitudes first (at most ``limit`` bars)."""
    order = sorted(range(len(labels)), key=lambda i: -abs(values[i]))[:limit]
    names = [labels[i] for i in order][::-1]
    amounts = [values[i] for i in order][::-1]
    figure = _figure((SIZE[0], max(2.0, 0.3 * len(names) + 1.0)))
    axes = figure.add_subplot()
    colours = [FUNDING_COLOUR if v >= 0 else COST_COLOUR for v in amounts]
    axes.barh(names, amounts, color=colours)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.grid(axis="x", alpha=0.3)
    axes.set_title("Net P&L per symbol (USDT)")
    return _png(figure)
