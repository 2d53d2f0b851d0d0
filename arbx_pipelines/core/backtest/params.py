"""Backtest parameters: one frozen record, parsed from ``--param key=value`` with errors naming the key.

Defaults follow the live strategy's config defaults (``strategy:`` in arbx.yaml) so a backtest of ``threshold``
replays what the live sensors would do out of the box.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STRATEGIES = ("carry", "threshold")
#: chosen by ``arbx backtest --walk-forward`` on the shared BTC/ETH history with prices: out of sample, passive carry
#: beat the live rules (threshold with the forecasts) risk-adjusted in every fold (README, "Backtests")
DEFAULT_STRATEGY = "carry"


class ParamError(ValueError):
    """A parameter key is unknown or its value is out of range."""


@dataclass(frozen=True)
class VenueFees:
    """Fee rates (fractions of notional) of one venue's spot and USDT-perpetual markets."""

    spot_maker: float
    spot_taker: float
    perp_maker: float
    perp_taker: float


#: Public base-tier (VIP 0) fee schedules; arbx.yaml's venues: section overrides them for live trading.
DEFAULT_FEES: dict[str, VenueFees] = {
    "binance": VenueFees(spot_maker=0.001, spot_taker=0.001, perp_maker=0.0002, perp_taker=0.0005),
    "okx": VenueFees(spot_maker=0.0008, spot_taker=0.001, perp_maker=0.0002, perp_taker=0.0005),
    "bitget": VenueFees(spot_maker=0.001, spot_taker=0.001, perp_maker=0.0002, perp_taker=0.0006),
    "bybit": VenueFees(spot_maker=0.001, spot_taker=0.001, perp_maker=0.0002, perp_taker=0.00055),
}
FALLBACK_FEES = VenueFees(spot_maker=0.001, spot_taker=0.001, perp_maker=0.0002, perp_taker=0.0005)


@dataclass(frozen=True)
class BacktestParams:
    """Everything a backtest run depends on besides the data (all rates are fractions, 0.5 = 50%)."""

    capital: float = 500.0
    notional: float | None = None  # hedged notional per symbol; None: capital split evenly over the symbols
    leverage: float = 1.0  # perp margin = notional / leverage; capital needed per symbol = notional x (1 + 1/lev)
    entry_annualized: float = 0.5
    exit_annualized: float = 0.1
    max_holding_days: int = 14
    planned_holding_hours: int = 72
    profit_target: float | None = None  # USDT of net profit that closes a position
    allow_negative: bool = False  # long perp + short spot on negative funding (needs margin borrowing)
    order_type: str = "taker"  # taker | maker: which fee of the venue schedule applies
    spot_fee: float | None = None  # overrides every venue's spot fee
    perp_fee: float | None = None  # overrides every venue's perp fee
    spread_bps: float = 1.0  # half-spread paid per leg per trade, basis points of notional
    slippage_bps: float = 1.0  # slippage per leg per trade, basis points of notional
    venue_fees: tuple[tuple[str, float, float], ...] = ()  # (venue, spot fee, perp fee) from arbx.yaml's venues
    forecast: bool = True  # threshold: the user's algorithms (forecast, persistence, score, dynamic leverage)
    min_leverage: float = 1.0  # threshold with forecast: dynamic leverage bounds (strategy.min/max_leverage)
    max_leverage: float = 5.0
    min_persistence: float = 0.5  # threshold with forecast: share of recent settlements paying our side
    min_score: float = 0.0  # threshold with forecast: the user's score (0.6 yield + 0.2 persistence + 0.2 liquidity)

    def __post_init__(self) -> None:
        _check(self.capital > 0, "capital", self.capital, "must be positive")
        _check(self.notional is None or self.notional > 0, "notional", self.notional, "must be positive")
        _check(1 <= self.leverage <= 125, "leverage", self.leverage, "must be between 1 and 125")
        _check(self.entry_annualized > 0, "entry_annualized", self.entry_annualized, "must be positive")
        _check(self.exit_annualized >= 0, "exit_annualized", self.exit_annualized, "must not be negative")
        _check(
            self.exit_annualized < self.entry_annualized,
            "exit_annualized",
            self.exit_annualized,
            f"must be below entry_annualized ({self.entry_annualized})",
        )
        _check(
            1 <= self.min_leverage <= self.max_leverage <= 125,
            "min_leverage",
            self.min_leverage,
            f"must be between 1 and max_leverage ({self.max_leverage})",
        )
        _check(0 <= self.min_persistence <= 1, "min_persistence", self.min_persistence, "must be in [0, 1]")
        _check(0 <= self.min_score <= 1, "min_score", self.min_score, "must be in [0, 1]")
        _check(self.max_holding_days > 0, "max_holding_days", self.max_holding_days, "must be positive")
        _check(self.planned_holding_hours > 0, "planned_holding_hours", self.planned_holding_hours, "must be positive")
        _check(self.profit_target is None or self.profit_target > 0, "profit_target", self.profit_target, "> 0")
        _check(self.order_type in ("taker", "maker"), "order_type", self.order_type, "must be taker or maker")
        for name in ("spot_fee", "perp_fee"):
            value = getattr(self, name)
            _check(value is None or 0 <= value < 0.05, name, value, "must be in [0, 0.05)")
        _check(0 <= self.spread_bps < 1000, "spread_bps", self.spread_bps, "must be in [0, 1000)")
        _check(0 <= self.slippage_bps < 1000, "slippage_bps", self.slippage_bps, "must be in [0, 1000)")

    def fees_for(self, venue: str) -> tuple[float, float]:
        """(spot fee, perp fee) paid per trade on ``venue``."""
        for name, spot_fee, perp_fee in self.venue_fees:
            if name == venue.lower() and self.spot_fee is None and self.perp_fee is None:
                return spot_fee, perp_fee
        schedule = DEFAULT_FEES.get(venue.lower(), FALLBACK_FEES)
        maker = self.order_type == "maker"
        spot = schedule.spot_maker if maker else schedule.spot_taker
        perp = schedule.perp_maker if maker else schedule.perp_taker
        return (
            spot if self.spot_fee is None else self.spot_fee,
            perp if self.perp_fee is None else self.perp_fee,
        )

    def trade_cost_rates(self, venue: str) -> tuple[float, float, float]:
        """(fees, spread, slippage) as fractions of notional for opening *or* closing both legs once."""
        spot, perp = self.fees_for(venue)
        return spot + perp, 2 * self.spread_bps / 1e4, 2 * self.slippage_bps / 1e4

    def round_trip_cost_rate(self, venue: str) -> float:
        return 2 * sum(self.trade_cost_rates(venue))

    def notional_for(self, symbol_count: int) -> float:
        """The hedged notional per symbol: given, or the capital split so every hedge fits with its margin."""
        if self.notional is not None:
            return self.notional
        return self.capital / (max(symbol_count, 1) * (1 + 1 / self.leverage))

    def with_values(self, **changes: Any) -> BacktestParams:
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["venue_fees"] = {name: {"spot": spot, "perp": perp} for name, spot, perp in self.venue_fees}
        return out


PARAM_HELP: dict[str, str] = {
    "notional": "hedged notional per symbol in USDT (default: capital / (symbols x (1 + 1/leverage)))",
    "leverage": "perp leverage of carry (and of threshold without forecast); margin = notional / leverage (default 1)",
    "entry_annualized": "threshold: open when |annualized funding| >= this (default 0.5 = 50%)",
    "exit_annualized": "threshold: close when annualized funding in our favour < this (default 0.1)",
    "max_holding_days": "threshold: close after this many days (default 14)",
    "planned_holding_hours": "threshold: horizon of the break-even check at entry (default 72)",
    "profit_target": "threshold: close once net profit of the position reaches this many USDT (default none)",
    "allow_negative": "threshold: also trade negative funding, long perp + short spot (default false)",
    "order_type": "taker or maker: which venue fee applies (default taker)",
    "spot_fee": "spot fee rate for every venue, e.g. 0.001 (default: the venue's schedule)",
    "perp_fee": "perp fee rate for every venue, e.g. 0.0005 (default: the venue's schedule)",
    "forecast": "threshold: also apply the forecast, persistence, score and dynamic leverage (default true)",
    "min_leverage": "threshold with forecast: lowest dynamic leverage (default 1)",
    "max_leverage": "threshold with forecast: highest dynamic leverage (default 5)",
    "min_persistence": "threshold with forecast: share of the last 21 settlements paying our side (default 0.5)",
    "min_score": "threshold with forecast: lowest opportunity score to enter, 0..1 (default 0)",
    "spread_bps": "half-spread paid per leg per trade in basis points (default 1)",
    "slippage_bps": "slippage per leg per trade in basis points (default 1)",
}


def parse_params(pairs: Mapping[str, str], base: BacktestParams | None = None) -> BacktestParams:
    """Apply ``key=value`` strings to ``base``; unknown keys and bad values raise :class:`ParamError`."""
    base = base or BacktestParams()
    fields = {f.name: f for f in dataclasses.fields(BacktestParams)}
    changes: dict[str, Any] = {}
    for key, raw in pairs.items():
        if key not in PARAM_HELP:
            raise ParamError(f"unknown parameter {key!r}; known: {', '.join(sorted(PARAM_HELP))}")
        changes[key] = _convert(key, raw, fields[key].type)
    try:
        return dataclasses.replace(base, **changes)
    except ParamError:
        raise
    except (TypeError, ValueError) as exc:
        raise ParamError(str(exc)) from exc


def split_param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ParamError(f"--param {text!r}: expected key=value")
    return key.strip(), value.strip()


def _convert(key: str, raw: str, annotation: object) -> Any:
    kind = str(annotation)
    text = raw.strip()
    if "None" in kind and text.lower() in ("none", "null", ""):
        return None
    if kind.startswith("bool"):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ParamError(f"parameter {key}={raw!r}: expected true or false")
    if kind.startswith("str"):
        return text
    if kind.startswith("int"):
        try:
            return int(text)
        except ValueError as exc:
            raise ParamError(f"parameter {key}={raw!r}: expected a whole number") from exc
    try:
        value = float(text)
    except ValueError as exc:
        raise ParamError(f"parameter {key}={raw!r}: expected a number") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise ParamError(f"parameter {key}={raw!r}: expected a finite number")
    return value


def _check(ok: bool, key: str, value: object, what: str) -> None:
    if not ok:
        raise ParamError(f"parameter {key}={value!r}: {what}")
