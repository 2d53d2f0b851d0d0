"""Backtest input: funding settlements (and optional prices) as per-symbol numpy series.

The backtester is pure: it receives plain records (from the history importer, the database or a generator) and
turns them into one :class:`Series` per (venue, symbol), sorted by time, with the funding interval of every
settlement. Floats are fine here: this is analytics, not accounting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_INTERVAL_HOURS = 8.0
_SETTLE_SUFFIX = re.compile(r":[A-Z0-9]+$")
_NON_ALNUM = re.compile(r"[^A-Z0-9]")


class BacktestInputError(ValueError):
    """The settlements or prices cannot be backtested as given (the message names the record)."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """One funding settlement: ``rate`` is paid by longs to shorts when positive."""

    venue: str
    symbol: str
    time: datetime
    rate: float | Decimal
    interval_hours: float | None = None


@dataclass(frozen=True, slots=True)
class PricePoint:
    venue: str
    symbol: str
    time: datetime
    close: float | Decimal


@dataclass
class Series:
    """The settlements of one perpetual, sorted by time (``times`` are UTC epoch seconds)."""

    venue: str
    symbol: str
    times: IntArray
    rates: FloatArray
    interval_hours: FloatArray
    prices: FloatArray | None = None  # spot closes at the settlements (the perp's when no spot series was given)
    extra: dict[str, FloatArray] = field(default_factory=dict)
    perp_prices: FloatArray | None = None  # perp closes at the settlements; None: the perp is marked at ``prices``

    @property
    def perp(self) -> FloatArray | None:
        """The prices the perp leg is marked at: its own series, else the one series given."""
        return self.prices if self.perp_prices is None else self.perp_prices

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.symbol}"

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def period_start(self) -> int:
        """When the first funding period began: one interval before the first settlement."""
        return int(self.times[0]) - int(float(self.interval_hours[0]) * 3600 + 0.5)

    @property
    def annualized(self) -> FloatArray:
        return annualize_array(self.rates, self.interval_hours)

    def window(self, start: int | None, end: int | None) -> Series:
        """The settlements with ``start <= time < end`` (epoch seconds; None: unbounded)."""
        lo = 0 if start is None else int(np.searchsorted(self.times, start, side="left"))
        hi = len(self) if end is None else int(np.searchsorted(self.times, end, side="left"))
        return Series(
            venue=self.venue,
            symbol=self.symbol,
            times=self.times[lo:hi],
            rates=self.rates[lo:hi],
            interval_hours=self.interval_hours[lo:hi],
            prices=None if self.prices is None else self.prices[lo:hi],
            extra={name: values[lo:hi] for name, values in self.extra.items()},
            perp_prices=None if self.perp_prices is None else self.perp_prices[lo:hi],
        )

    def with_rates(self, rates: FloatArray) -> Series:
        return Series(
            self.venue, self.symbol, self.times, rates, self.interval_hours, self.prices, dict(self.extra),
            self.perp_prices,
        )  # fmt: skip


def annualize_array(rates: FloatArray, interval_hours: FloatArray) -> FloatArray:
    """DESIGN's annualized rate, vectorised: rate x (24 / interval_hours) x 365, per settlement's own interval."""
    return rates * (24.0 / interval_hours) * 365.0


def compact_symbol(symbol: str) -> str:
    """``BTC/USDT:USDT``, ``BTC-USDT-SWAP``, ``btcusdt`` -> ``BTCUSDT``: one spelling for matching symbols."""
    text = _SETTLE_SUFFIX.sub("", symbol.upper().removesuffix("-SWAP"))
    return _NON_ALNUM.sub("", text)


def to_epoch_seconds(when: datetime) -> int:
    if when.tzinfo is None:
        raise BacktestInputError(f"time {when.isoformat()} has no time zone; settlements must be UTC-aware")
    return int(when.timestamp())


def from_epoch_seconds(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def infer_intervals(times: IntArray, given: FloatArray) -> FloatArray:
    """Whole-hour funding intervals; unknown ones (NaN) from the spacing of the neighbouring settlements.

    Venues move symbols between 8h, 4h and 1h, so the spacing is the best witness of an interval; the shorter of
    the gaps before and after a settlement is used, so one missing settlement does not double an interval. A
    single settlement with no interval falls back to 8h (the venues' default when they state none). Venues settle
    on whole hours, so every interval is rounded to whole hours (the live rules take whole hours too).
    """
    result = given.astype(np.float64, copy=True)
    missing = np.isnan(result)
    if missing.any():
        gaps = np.diff(times).astype(np.float64) / 3600.0
        if gaps.size == 0:
            result[missing] = DEFAULT_INTERVAL_HOURS
        else:
            before = np.concatenate([[np.inf], gaps])
            after = np.concatenate([gaps, [np.inf]])
            result[missing] = np.minimum(before, after)[missing]
    return np.maximum(np.floor(result + 0.5), 1.0)


def build_series(
    settlements: Iterable[Settlement],
    prices: Iterable[PricePoint] | None = None,
    *,
    price_tolerance_hours: float | None = None,
) -> list[Series]:
    """Group settlements per (venue, symbol), sort them, reject duplicates and attach prices when given."""
    grouped: dict[tuple[str, str], list[Settlement]] = {}
    for item in settlements:
        grouped.setdefault((item.venue, item.symbol), []).append(item)
    series: list[Series] = []
    for (venue, symbol), items in sorted(grouped.items()):
        times = np.fromiter((to_epoch_seconds(s.time) for s in items), dtype=np.int64, count=len(items))
        rates = np.fromiter((float(s.rate) for s in items), dtype=np.float64, count=len(items))
        given = np.fromiter(
            (np.nan if s.interval_hours is None else float(s.interval_hours) for s in items),
            dtype=np.float64,
            count=len(items),
        )
        series.append(make_series(venue, symbol, times, rates, given))
    if prices is not None:
        attach_prices(series, prices, tolerance_hours=price_tolerance_hours)
    return series


def make_series(venue: str, symbol: str, times: IntArray, rates: FloatArray, intervals: FloatArray) -> Series:
    """One sorted, validated series from raw arrays (used by the importer path and the generators)."""
    order = np.argsort(times, kind="stable")
    times, rates, intervals = times[order], rates[order], intervals[order]
    duplicate = np.flatnonzero(np.diff(times) == 0)
    if duplicate.size:
        when = from_epoch_seconds(times[duplicate[0]]).isoformat()
        raise BacktestInputError(f"{venue}:{symbol}: two settlements at {when}")
    bad = np.flatnonzero(~np.isfinite(rates))
    if bad.size:
        when = from_epoch_seconds(times[bad[0]]).isoformat()
        raise BacktestInputError(f"{venue}:{symbol}: funding rate at {when} is not a number")
    if (intervals <= 0).any():
        raise BacktestInputError(f"{venue}:{symbol}: funding interval must be positive")
    intervals = infer_intervals(times, intervals)
    return Series(venue=venue, symbol=symbol, times=times, rates=rates, interval_hours=intervals)


def attach_prices(
    series: Sequence[Series],
    prices: Iterable[PricePoint],
    *,
    tolerance_hours: float | None = None,
    required: bool = True,
) -> list[str]:
    """Give every settlement the spot and perp prices nearest in time (same venue, same coin).

    The perp leg takes the perpetual's own closes (the exact symbol, or a ``BTC/USDT:USDT`` spelling of the coin),
    the spot leg a spot series of the coin (``BTC/USDT``); with only one of them, both legs use it. A settlement
    with no price within ``tolerance_hours`` (default: its funding interval) is an error naming it, never silently
    priced from far away. With ``required=False`` such series
    are left without prices instead, and their keys are returned.
    """
    by_exact: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for point in prices:
        value = float(point.close)
        if not np.isfinite(value) or value <= 0:
            raise BacktestInputError(
                f"{point.venue}:{point.symbol}: price at {point.time.isoformat()} must be positive, got {point.close}"
            )
        by_exact.setdefault((point.venue, point.symbol), []).append((to_epoch_seconds(point.time), value))
    spots: dict[tuple[str, str], tuple[str, str]] = {}
    perps: dict[tuple[str, str], tuple[str, str]] = {}
    for venue, symbol in sorted(by_exact):
        kind = perps if (":" in symbol or symbol.upper().endswith("-SWAP")) else spots
        kind.setdefault((venue, compact_symbol(symbol)), (venue, symbol))
    unpriced: list[str] = []
    for item in series:
        coin = (item.venue, compact_symbol(item.symbol))
        perp = (item.venue, item.symbol) if (item.venue, item.symbol) in by_exact else perps.get(coin)
        spot = spots.get(coin)
        try:
            if perp is None and spot is None:
                raise BacktestInputError(f"{item.key}: the prices file has no closes for this symbol")
            first = spot if spot is not None else perp
            assert first is not None
            item.prices = _aligned(item, by_exact[first], tolerance_hours)
            item.perp_prices = None if spot is None or perp is None else _aligned(item, by_exact[perp], tolerance_hours)
        except BacktestInputError:
            if required:
                raise
            unpriced.append(item.key)
    return unpriced


def _aligned(item: Series, points: list[tuple[int, float]], tolerance_hours: float | None) -> FloatArray:
    ordered = sorted(points)
    p_times = np.array([t for t, _ in ordered], dtype=np.int64)
    p_values = np.array([v for _, v in ordered], dtype=np.float64)
    return align_prices(item, p_times, p_values, tolerance_hours)


def align_prices(
    item: Series, price_times: IntArray, price_values: FloatArray, tolerance_hours: float | None
) -> FloatArray:
    """The last price at or before each settlement, else the first one after it, within the tolerance."""
    limit = item.interval_hours * 3600 if tolerance_hours is None else np.full(len(item), tolerance_hours * 3600)
    after = np.searchsorted(price_times, item.times, side="right")  # prices[after - 1] <= settlement time
    before_c = np.clip(after - 1, 0, len(price_times) - 1)
    after_c = np.clip(after, 0, len(price_times) - 1)
    back_ok = (after > 0) & (item.times - price_times[before_c] <= limit)
    ahead_ok = (after < len(price_times)) & (price_times[after_c] - item.times <= limit)
    missing = np.flatnonzero(~back_ok & ~ahead_ok)
    if missing.size:
        first = missing[0]
        when = from_epoch_seconds(item.times[first]).isoformat()
        raise BacktestInputError(
            f"{item.key}: no price within {limit[first] / 3600:g}h of the settlement at {when} "
            f"({missing.size} settlements unpriced); give prices covering the funding period"
        )
    return np.where(back_ok, price_values[before_c], price_values[after_c])


def select_series(series: Sequence[Series], wanted: Sequence[str] | None) -> list[Series]:
    """Series matching any of ``wanted``: ``venue:symbol``, the exact symbol, or its compact spelling.

    Raises when a requested name matches nothing, so a typo never yields an empty backtest.
    """
    if not wanted:
        return list(series)
    chosen: dict[str, Series] = {}
    for name in wanted:
        hits = [s for s in series if _matches(s, name)]
        if not hits:
            known = ", ".join(sorted({s.key for s in series})[:20])
            raise BacktestInputError(f"symbol {name!r} matches no series in the funding data (known: {known})")
        for hit in hits:
            chosen[hit.key] = hit
    return [s for s in series if s.key in chosen]


def _matches(item: Series, name: str) -> bool:
    if name in (item.symbol, item.key):
        return True
    venue, sep, symbol = name.partition(":")
    if sep and venue.lower() == item.venue.lower() and compact_symbol(symbol) == compact_symbol(item.symbol):
        return True
    return compact_symbol(name) == compact_symbol(item.symbol)


def restrict_period(series: Sequence[Series], start: datetime | None, end: datetime | None) -> list[Series]:
    """Every series cut to ``start <= time < end``; series left empty are dropped (they have no settlements)."""
    lo = None if start is None else to_epoch_seconds(start)
    hi = None if end is None else to_epoch_seconds(end)
    cut = [s.window(lo, hi) for s in series]
    return [s for s in cut if len(s)]
