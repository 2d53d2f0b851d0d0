"""What the entry and exit decisions (``core/decision.py``) read: the strategy's parameters, each venue's fees, and a
:class:`MarketSnapshot` of one perpetual and its spot pair, built live from tickers and books or, by the backtester,
from recorded history (``snapshot_at_price``). The data types are described in ``core/decision.py``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from arbx_pipelines.core.funding import annualize
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.position_risk import DEFAULT_POSITION_RISK, PositionRiskParams
from arbx_pipelines.core.sizing import NO_RULES, MarketRules


@dataclass(frozen=True, slots=True)
class VenueFees:
    """Taker fees (fractions) of one venue; arbitrage legs cross the spread, so maker fees do not apply."""

    spot_taker: Decimal = Decimal("0.001")
    perp_taker: Decimal = Decimal("0.0005")


@dataclass(frozen=True, slots=True)
class StrategyParams:
    entry_annualized: Decimal = Decimal("0.5")
    exit_annualized: Decimal = Decimal("0.1")
    max_holding_days: int = 14
    planned_holding_hours: int = 72
    profit_target_usdt: Decimal | None = None
    allow_margin_borrow: bool = False
    margin_borrow_daily_rate: Decimal = ZERO
    fees: Mapping[Venue, VenueFees] = field(default_factory=dict)
    default_fees: VenueFees = VenueFees()
    max_book_share: Decimal = Decimal("0.5")
    position_risk: PositionRiskParams = DEFAULT_POSITION_RISK
    #: venue -> coin -> coins of its spot wallet negative-funding hedges may sell (declared by the user; the rest of
    #: the wallet is never sold)
    spot_inventory: Mapping[Venue, Mapping[str, Decimal]] = field(default_factory=dict)
    #: dynamic leverage bounds and the persistence share an entry needs (``core.funding_rules``)
    min_leverage: int = 1
    max_leverage: int = 5
    min_persistence: Decimal = Decimal("0.5")

    def __post_init__(self) -> None:
        if not 1 <= self.min_leverage <= self.max_leverage:
            raise ValueError(f"leverage bounds must satisfy 1 <= min <= max: {self.min_leverage}, {self.max_leverage}")
        if self.entry_annualized <= 0:
            raise ValueError(f"entry_annualized must be positive, got {self.entry_annualized}")
        if not 0 <= self.exit_annualized < self.entry_annualized:
            raise ValueError(
                f"exit_annualized ({self.exit_annualized}) must be >= 0 and below entry ({self.entry_annualized})"
            )
        if self.max_holding_days < 1 or self.planned_holding_hours < 1:
            raise ValueError("max_holding_days and planned_holding_hours must be at least 1")
        if not 0 < self.max_book_share <= 1:
            raise ValueError(f"max_book_share must be in (0, 1], got {self.max_book_share}")
        if self.margin_borrow_daily_rate < 0:
            raise ValueError(f"margin_borrow_daily_rate must not be negative, got {self.margin_borrow_daily_rate}")

    def fees_for(self, venue: Venue) -> VenueFees:
        return self.fees.get(venue, self.default_fees)

    def declared_coins(self, venue: Venue | str) -> Mapping[str, Decimal]:
        """Coin -> amount declared as sellable inventory on ``venue`` (empty when nothing is)."""
        for declared_venue, coins in self.spot_inventory.items():
            if str(declared_venue) == str(venue):
                return coins
        return {}

    def declared_inventory(self, venue: Venue | str, coin: str) -> Decimal:
        """Coins of ``coin`` declared as sellable inventory on ``venue`` (0 when not declared)."""
        return self.declared_coins(venue).get(coin, ZERO)


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    venue: Venue
    symbol: str
    time: datetime
    rate: Decimal
    interval_hours: int
    next_funding_time: datetime | None
    mark_price: Decimal
    spot_bid: Decimal
    spot_ask: Decimal
    perp_bid: Decimal
    perp_ask: Decimal
    expected_slippage_rate: Decimal = ZERO
    spot_bid_depth: Decimal | None = None
    spot_ask_depth: Decimal | None = None
    perp_bid_depth: Decimal | None = None
    perp_ask_depth: Decimal | None = None
    spot_rules: MarketRules = NO_RULES
    perp_rules: MarketRules = NO_RULES

    def __post_init__(self) -> None:
        where = f"{self.venue} {self.symbol}"
        if self.interval_hours <= 0:
            raise ValueError(f"{where}: interval_hours must be positive, got {self.interval_hours}")
        if self.mark_price <= 0:
            raise ValueError(f"{where}: mark_price must be positive, got {self.mark_price}")
        for kind, bid, ask in (("spot", self.spot_bid, self.spot_ask), ("perp", self.perp_bid, self.perp_ask)):
            if bid <= 0 or ask <= 0 or bid > ask:
                raise ValueError(f"{where}: {kind} quotes must be positive with bid <= ask, got {bid} / {ask}")
        if self.expected_slippage_rate < 0:
            raise ValueError(f"{where}: expected_slippage_rate must not be negative")
        if self.time.tzinfo is None:
            raise ValueError(f"{where}: time must be timezone-aware")

    @property
    def annualized(self) -> Decimal:
        return annualize(self.rate, self.interval_hours)

    @property
    def spot_mid(self) -> Decimal:
        return (self.spot_bid + self.spot_ask) / 2

    @property
    def perp_mid(self) -> Decimal:
        return (self.perp_bid + self.perp_ask) / 2

    @property
    def spread_cost_rate(self) -> Decimal:
        """Crossing cost of both legs in and out: each fill pays half the relative spread (so a full spread per
        leg over the round trip) plus the expected slippage on each of the four fills."""
        spot_spread = (self.spot_ask - self.spot_bid) / self.spot_mid
        perp_spread = (self.perp_ask - self.perp_bid) / self.perp_mid
        return spot_spread + perp_spread + 4 * self.expected_slippage_rate


def snapshot_at_price(
    venue: Venue,
    symbol: str,
    time: datetime,
    rate: Decimal,
    interval_hours: int,
    price: Decimal,
    *,
    next_funding_time: datetime | None = None,
    half_spread_rate: Decimal = ZERO,
    expected_slippage_rate: Decimal = ZERO,
) -> MarketSnapshot:
    """A snapshot from one price (recorded history has no books): both legs quoted price x (1 -/+ half spread),
    no depth and no market rules, so only the funding, cost and threshold rules apply."""
    bid, ask = price * (1 - half_spread_rate), price * (1 + half_spread_rate)
    return MarketSnapshot(
        venue=venue,
        symbol=symbol,
        time=time,
        rate=rate,
        interval_hours=interval_hours,
        next_funding_time=next_funding_time,
        mark_price=price,
        spot_bid=bid,
        spot_ask=ask,
        perp_bid=bid,
        perp_ask=ask,
        expected_slippage_rate=expected_slippage_rate,
    )
