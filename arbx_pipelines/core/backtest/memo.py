"""What the points of one parameter grid share, computed once: per-series results keyed by the parameters they
depend on.

A grid of ``threshold`` varies a few parameters (the bench: entry x exit thresholds) over the same series, so most
of what a grid point asks — the forecast mean at a settlement, the forecast/persistence/score veto of an entry, the
dynamic leverage, the screens, a held trade's marks — was already answered by another point. :class:`Memo` keeps
those answers per series (by identity: the grid cuts each window once and reuses the same objects), keyed by the
settlement and the parameters that answer reads (:func:`params_key` leaves out the ones it does not). The values
are the very results of the uncached calls, so a grid point gives exactly what :func:`run_backtest` gives alone
(``tests/analytics/test_backtest_grid_fast.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any, TypeVar

from arbx_pipelines.core.backtest.data import Series
from arbx_pipelines.core.backtest.params import BacktestParams

T = TypeVar("T")
#: parameters the entry decision (``decide_entry``, the forecast veto) does not read
NO_EXIT = ("exit_annualized",)
#: parameters the exit decision (``decide_exit``) does not read
NO_ENTRY = ("entry_annualized",)
#: parameters neither the forecast veto, the leverage nor the holding of a decided trade read
NO_THRESHOLDS = ("entry_annualized", "exit_annualized")


@lru_cache(maxsize=4096)
def params_key(params: BacktestParams, leave_out: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """``params`` as a hashable tuple without the fields in ``leave_out``."""
    return tuple(getattr(params, f.name) for f in dataclasses.fields(params) if f.name not in leave_out)


class SeriesMemo:
    """Answers about one series; :meth:`get` computes a missing one once."""

    def __init__(self, item: Series) -> None:
        self.item = item  # held so the series' id is not reused while the memo lives
        self.values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[..., T], *args: Any) -> T:
        """The answer stored under ``key``, else ``compute(*args)`` (stored)."""
        try:
            return self.values[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self.values[key] = compute(*args)
            return value


class NoMemo(SeriesMemo):
    """Computes every time (a backtest run alone: nothing to share)."""

    def get(self, key: Hashable, compute: Callable[..., T], *args: Any) -> T:
        return compute(*args)


class Memo:
    """The per-series memos of one grid run, and the windows cut from its series."""

    def __init__(self) -> None:
        self._series: dict[int, SeriesMemo] = {}
        self._windows: dict[tuple[int, int | None, int | None], tuple[list[Series], list[Series]]] = {}

    def of(self, item: Series) -> SeriesMemo:
        found = self._series.get(id(item))
        if found is None or found.item is not item:
            found = self._series[id(item)] = SeriesMemo(item)
        return found

    def windows(self, series: list[Series], lo: int | None, hi: int | None) -> list[Series]:
        """The non-empty cuts of ``series`` to ``lo <= time < hi``, the same objects for every grid point."""
        key = (id(series), lo, hi)
        found = self._windows.get(key)
        if found is not None and found[0] is series:
            return found[1]
        cut = [w for w in (s.window(lo, hi) for s in series) if len(w)]
        self._windows[key] = (series, cut)  # the source list is held so its id is not reused
        return cut
